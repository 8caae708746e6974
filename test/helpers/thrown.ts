/**
 * What `fn` throws; fails the test when it throws nothing.
 *
 * @example
 * ```ts
 * expect(thrown(() => tenancy.require())).toBeInstanceOf(NoTenantError);
 * ```
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected fn to throw');
}

/**
 * What `promise` rejects with; fails the test when it resolves.
 *
 * @example
 * ```ts
 * expect(await rejection(tenancy.run('ghost', fn))).toBeInstanceOf(TenantNotFoundError);
 * ```
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
