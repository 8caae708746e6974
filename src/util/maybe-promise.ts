/**
 * Values that are there now, or later: the cache-hit path of a request stays synchronous.
 *
 * @module
 */

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Whether a value is a promise (any thenable). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Applies `fn` now when `value` is there, after it settles when it is a promise.
 *
 * @example
 * ```ts
 * declare const allowed: MaybePromise<boolean>; // an `authorize` hook's answer
 * andThen(allowed, (ok) => (ok ? 'accepted' : 'refused')); // a string now, or a promise of one
 * ```
 */
// Not named `then`: a module exporting `then` is itself a thenable, and `await import()` would call it.
export function andThen<T, R>(value: MaybePromise<T>, fn: (resolved: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(fn) : fn(value);
}
