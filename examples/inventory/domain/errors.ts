/**
 * The errors the domain throws on purpose. Each has an HTTP status and a stable code; the HTTP
 * layers turn them into problem documents (JSON) or error pages (HTML). Anything else that is
 * thrown is a bug or an outage, and becomes a 500 without details.
 *
 * @module
 */

/** Field name → what is wrong with it. */
export type Issues = Readonly<Record<string, string>>;

/** The statuses the domain answers with. */
export type InventoryStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/**
 * An error the app answers with a 4xx status.
 *
 * @example
 * ```ts
 * throw new InventoryError(404, 'product_not_found', 'No product 7 in this business');
 * ```
 */
export class InventoryError extends Error {
  override name = 'InventoryError';
  readonly status: InventoryStatus;
  /** A stable, machine-readable code, e.g. `insufficient_stock`. */
  readonly code: string;
  /** For `invalid_input`: what is wrong with each field. */
  readonly issues: Issues | undefined;
  /** For a 429: when to try again (sent as `Retry-After`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: InventoryStatus, code: string, message: string, options: { issues?: Issues; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Tells whether a value is an {@link InventoryError}. */
export function isInventoryError(value: unknown): value is InventoryError {
  return value instanceof InventoryError;
}

/** 400: the input breaks a rule; `issues` says which fields. */
export function invalidInput(issues: Issues, message = 'Some fields are not valid'): InventoryError {
  return new InventoryError(400, 'invalid_input', message, { issues });
}

/** 404: no such thing in this business. */
export function notFound(what: string, id: number | string): InventoryError {
  return new InventoryError(404, `${what}_not_found`, `No ${what} ${JSON.stringify(id)} in this business`);
}

/** 409: it exists already (a SKU, an email, a business id). */
export function conflict(code: string, message: string, issues?: Issues): InventoryError {
  return new InventoryError(409, code, message, issues === undefined ? {} : { issues });
}

/** 401: no session, or not this business's. */
export function unauthenticated(code: string, message: string): InventoryError {
  return new InventoryError(401, code, message);
}

/**
 * What a PostgreSQL error says, for the few SQLSTATEs the domain maps to a 4xx. The domain maps by
 * SQLSTATE, and by the hint of an error its own trigger raises, never by constraint name: on Citus,
 * an error raised on a worker arrives without it (and names the shard's table, not the table).
 */
export interface PgErrorInfo {
  readonly code: string;
  readonly hint: string | undefined;
}

/**
 * The SQLSTATE and hint of a PostgreSQL error (Kysely passes pg's errors through), or
 * `undefined` for anything else.
 *
 * @example
 * ```ts
 * if (pgError(error)?.code === '23505') throw conflict('sku_taken', 'That SKU is taken');
 * ```
 */
export function pgError(error: unknown): PgErrorInfo | undefined {
  const { code, hint, severity } = (error ?? {}) as { code?: unknown; hint?: unknown; severity?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || typeof severity !== 'string') return undefined;
  return { code, hint: typeof hint === 'string' ? hint : undefined };
}

/** The hint of the error the stock trigger raises when a movement would take the stock below zero (migrations/tenant/004_stock_rules.sql). */
export const INSUFFICIENT_STOCK_HINT = 'insufficient_stock';

/** SQLSTATEs the domain looks at. */
export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  numericOutOfRange: '22003',
} as const;
