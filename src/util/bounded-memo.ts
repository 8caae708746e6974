/**
 * A small memo for hot paths: remembers what a function returned for a string key, up to a bound.
 *
 * @module
 */

/**
 * Wraps `compute` so that each key is computed once. Only results are kept: a call that throws
 * throws again next time. When `max` keys are kept, the memo is emptied before the next one is
 * added, so keys an attacker makes up cost memory only up to the bound, and a lookup stays one
 * `Map#get` (no recency bookkeeping, as an LRU would need).
 *
 * @example
 * ```ts
 * const labelOf = boundedMemo(1024, (host: string) => host.split('.')[0]);
 * labelOf('acme.example.com'); // computed
 * labelOf('acme.example.com'); // remembered
 * ```
 */
export function boundedMemo<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const known = new Map<string, V>();
  return (key) => {
    const remembered = known.get(key);
    if (remembered !== undefined || known.has(key)) return remembered as V;
    const value = compute(key);
    if (known.size >= max) known.clear();
    known.set(key, value);
    return value;
  };
}
