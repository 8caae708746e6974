/**
 * The few node-postgres shapes the core relies on, written structurally so the core needs
 * no runtime import of `pg` (any pg.Pool, or a compatible pool, fits).
 *
 * @module
 */

/** A query result as node-postgres returns it. */
export interface QueryResultLike<R = Record<string, unknown>> {
  /** The rows the statement returned. */
  rows: R[];
  /** The rows the statement returned or changed; `null` for statements that report none. */
  rowCount: number | null;
}

/**
 * Anything with node-postgres' promise `query(text, values)`: a pg.Pool, a pg.Client or a pool client.
 *
 * @example
 * ```ts
 * const q: Queryable = new pg.Pool();
 * ```
 */
export interface Queryable {
  /** Runs one statement with `$1`, `$2`… parameters. */
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResultLike<R>>;
}

/** A client checked out of a pool. */
export interface PoolClientLike extends Queryable {
  /** Returns the client to its pool; with an error (or `true`) the pool destroys it instead. */
  release(error?: Error | boolean): void;
}

/**
 * A pg.Pool, or any pool with the same `query` and `connect`.
 *
 * @example
 * ```ts
 * declare const connectionString: string;
 * const tenancy = createTenancy({ pool: new pg.Pool({ connectionString }) });
 * ```
 */
export interface PoolLike extends Queryable {
  /** Checks a client out of the pool; `release` it when done. */
  connect(): Promise<PoolClientLike>;
}

/**
 * Runs `fn` in a transaction on a client of `pool`: COMMIT when it resolves, ROLLBACK when it
 * throws. A client whose rollback failed is destroyed (released with the error), never reused.
 *
 * @example
 * ```ts
 * await withTransaction(pool, (client) => client.query('insert into t values (1)'));
 * ```
 */
export async function withTransaction<R>(pool: PoolLike, fn: (client: PoolClientLike) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  let released = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      released = true;
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  } finally {
    if (!released) client.release();
  }
}

/** The SQLSTATE of a database error, or `undefined`. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
