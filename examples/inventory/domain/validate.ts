/**
 * Explicit input validation: request bodies, ids and query parameters are checked field by
 * field before anything reaches the database, and every problem is reported at once (400).
 *
 * @module
 */
import { type Issues, InventoryError, invalidInput } from './errors.js';

/** The largest value of a PostgreSQL `integer` (serial ids, quantities, prices). */
export const MAX_INT = 2_147_483_647;

/**
 * A request body as a plain object with only the `allowed` keys, or a 400.
 *
 * @example
 * ```ts
 * const body = objectBody(req.body, ['sku', 'name']); // a JSON array, a string or { stock: 3 } → 400
 * ```
 */
export function objectBody(body: unknown, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = body === undefined ? 'no body' : body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new InventoryError(400, 'invalid_body', `Expected a JSON object, got ${got}`);
  }
  const issues: Record<string, string> = {};
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) issues[key.slice(0, 40)] = `is not a field here (expected ${allowed.join(', ')})`;
  }
  if (Object.keys(issues).length > 0) throw invalidInput(issues, 'The body has fields this request does not take');
  return body as Readonly<Record<string, unknown>>;
}

/** Options of {@link Fields.text}. */
export interface TextRule {
  readonly max: number;
  /** Fewest characters after trimming (default 1). */
  readonly min?: number;
  readonly pattern?: RegExp;
  /** What the pattern means, for the message ("letters, digits, '-' and '_'"). */
  readonly patternHint?: string;
}

/** Options of {@link Fields.integer}. */
export interface IntegerRule {
  readonly min: number;
  readonly max: number;
}

/**
 * Reads the fields of a body, collecting what is wrong with each; {@link Fields.done} throws a
 * 400 listing them all. The values read before `done()` are placeholders when invalid: use
 * them only after it.
 *
 * @example
 * ```ts
 * const fields = new Fields(objectBody(body, ['name', 'quantity']));
 * const name = fields.text('name', { max: 120 });
 * const quantity = fields.integer('quantity', { min: 1, max: 1000 });
 * fields.done();
 * ```
 */
export class Fields {
  readonly #body: Readonly<Record<string, unknown>>;
  readonly #issues: Record<string, string> = {};

  constructor(body: Readonly<Record<string, unknown>>) {
    this.#body = body;
  }

  /** Whether the body has the field (for partial updates). */
  has(key: string): boolean {
    return Object.hasOwn(this.#body, key) && this.#body[key] !== undefined;
  }

  /** Records a problem with a field. */
  issue(key: string, message: string): void {
    this.#issues[key] ??= message;
  }

  /** A required string, trimmed, without control characters. */
  text(key: string, rule: TextRule): string {
    const value = this.#body[key];
    if (value === undefined || value === null || value === '') {
      if ((rule.min ?? 1) > 0) this.issue(key, 'is required');
      return '';
    }
    if (typeof value !== 'string') {
      this.issue(key, `must be a string, got ${describeType(value)}`);
      return '';
    }
    const text = value.trim();
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (/[\u0000-\u001f\u007f]/.test(text)) this.issue(key, 'must not contain control characters');
    else if (text.length < (rule.min ?? 1)) this.issue(key, text.length === 0 ? 'is required' : `must be at least ${rule.min} characters`);
    else if (text.length > rule.max) this.issue(key, `must be at most ${rule.max} characters`);
    else if (rule.pattern !== undefined && !rule.pattern.test(text)) this.issue(key, `may contain only ${rule.patternHint ?? 'some characters'}`);
    return text;
  }

  /** An optional string: `null` when missing, null or blank. */
  optionalText(key: string, rule: Omit<TextRule, 'min'>): string | null {
    const value = this.#body[key];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
    return this.text(key, rule);
  }

  /** A secret, taken as it is (no trimming): `min` to `max` characters. */
  secret(key: string, rule: { readonly min: number; readonly max: number }): string {
    const value = this.#body[key];
    if (value === undefined || value === null || value === '') {
      this.issue(key, 'is required');
      return '';
    }
    if (typeof value !== 'string') {
      this.issue(key, `must be a string, got ${describeType(value)}`);
      return '';
    }
    if (value.length < rule.min) this.issue(key, `must be at least ${rule.min} characters`);
    else if (value.length > rule.max) this.issue(key, `must be at most ${rule.max} characters`);
    return value;
  }

  /** An email address, lower-cased. */
  email(key: string): string {
    const email = this.text(key, { max: 254 }).toLowerCase();
    if (email !== '' && !/^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/.test(email)) this.issue(key, 'must be an email address like ada@example.com');
    return email;
  }

  /** A JSON integer (not a numeric string) between `min` and `max`. */
  integer(key: string, rule: IntegerRule): number {
    const value = this.#body[key];
    if (value === undefined || value === null) {
      this.issue(key, 'is required');
      return 0;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.issue(key, `must be a whole number, got ${describeType(value)}`);
      return 0;
    }
    if (value < rule.min || value > rule.max) this.issue(key, `must be between ${rule.min} and ${rule.max}`);
    return value;
  }

  /** An id of another row, or `null` (a missing field is `null` too). */
  optionalId(key: string): number | null {
    const value = this.#body[key];
    if (value === undefined || value === null) return null;
    return this.integer(key, { min: 1, max: MAX_INT });
  }

  /** One of a fixed set of strings. */
  oneOf<const T extends string>(key: string, values: readonly T[]): T {
    const value = this.#body[key];
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    this.issue(key, value === undefined || value === null || value === '' ? 'is required' : `must be one of ${values.join(', ')}`);
    return values[0]!;
  }

  /** Throws a 400 with every issue recorded, if any. */
  done(): void {
    if (Object.keys(this.#issues).length > 0) throw invalidInput({ ...this.#issues } as Issues);
  }
}

/**
 * A row id from a URL (`/products/7`): digits only, 1 to 2147483647; anything else is a 400.
 *
 * @example
 * ```ts
 * parseId('7');   // 7
 * parseId('7x');  // throws InventoryError 400 invalid_id
 * ```
 */
export function parseId(value: unknown, what = 'id'): number {
  if (typeof value === 'string' && /^[1-9][0-9]{0,9}$/.test(value)) {
    const id = Number(value);
    if (id <= MAX_INT) return id;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : describeType(value);
  throw new InventoryError(400, 'invalid_id', `The ${what} must be a positive whole number, got ${shown}`);
}

/** A query-string value as one string (the first of repeated ones), or `undefined`. */
export function queryValue(query: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = query[key];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 20))}`;
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}
