/**
 * What the benchmarks share: option parsing, a cheap deterministic random source, and output.
 *
 * @module
 */

/**
 * A positive integer from an environment variable, or `fallback` when unset.
 *
 * @example
 * ```ts
 * const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
 * ```
 */
export function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

let seed = 0x2545f491;

/**
 * A number in `[0, below)` from xorshift32: cheap, and the same cost for every variant measured.
 *
 * @example
 * ```ts
 * const tenant = tenants[randomInt(tenants.length)];
 * ```
 */
export function randomInt(below: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % below;
}

/**
 * A rate as a whole number with thousands separators.
 *
 * @example
 * ```ts
 * formatRate(12345.6); // '12,346'
 * ```
 */
export function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}

/**
 * The median of some numbers (they need not be sorted).
 *
 * @example
 * ```ts
 * median([0.91, 0.62, 0.95]); // 0.91
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Prints a table: the first column left-aligned, the others right-aligned.
 *
 * @example
 * ```ts
 * printTable(['variant', 'q/s'], [['raw', '1,000']]);
 * ```
 */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

/**
 * Calls `fn` for each item, `concurrency` at a time, in order of the list.
 *
 * @example
 * ```ts
 * await eachConcurrently(['t0', 't1', 't2'], 2, (id) => tenancy.registry.create({ id }));
 * ```
 */
export async function eachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        await fn(items[index]!, index);
      }
    }),
  );
}
