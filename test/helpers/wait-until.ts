/**
 * Waits until `condition()` holds or `timeoutMs` passes, checking every 20 ms, and says which.
 * For tests that compare an outcome afterwards (or expect nothing to arrive), where `vi.waitFor`
 * would throw at the deadline instead.
 *
 * @example
 * ```ts
 * await waitUntil(() => pool.totalCount === 0);
 * ```
 */
export async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
