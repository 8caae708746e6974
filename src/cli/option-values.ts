/**
 * Reads option values that need more than parseArgs gives: repeatable lists, numbers.
 *
 * @module
 */
import { UsageError } from './cli-error.js';
import type { OptionValues } from './parse-arguments.js';

/**
 * The values of a repeatable string option, without duplicates.
 *
 * @example
 * ```ts
 * stringList(['acme', 'globex', 'acme']); // ['acme', 'globex']
 * ```
 */
export function stringList(value: OptionValues[string]): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return [...new Set(typeof value === 'string' ? [value] : value)];
}

/**
 * A positive integer option, or its default; a {@link UsageError} for anything else.
 *
 * @example
 * ```ts
 * positiveInteger('8', 'concurrency', 4); // 8
 * positiveInteger(undefined, 'concurrency', 4); // 4
 * ```
 */
export function positiveInteger(value: OptionValues[string], name: string, fallback: number): number {
  return integerOption(value, name, fallback, 1, 'a positive integer');
}

/**
 * A whole-number option (0 or more), or its default; a {@link UsageError} for anything else.
 *
 * @example
 * ```ts
 * wholeNumber('0', 'lock-retries', 2); // 0
 * ```
 */
export function wholeNumber(value: OptionValues[string], name: string, fallback: number): number {
  return integerOption(value, name, fallback, 0, 'a whole number');
}

function integerOption(value: OptionValues[string], name: string, fallback: number, least: number, what: string): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const number = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number < least) {
    throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(text)}`);
  }
  return number;
}
