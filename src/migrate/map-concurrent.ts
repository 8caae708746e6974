/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight, in order of start.
 * Results come back in the order of `items`; `fn` is expected to catch its own errors.
 *
 * @example
 * ```ts
 * import { stat } from 'node:fs/promises';
 * declare const files: readonly string[];
 * const sizes = await mapConcurrent(files, 4, (file) => stat(file).then((s) => s.size));
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
