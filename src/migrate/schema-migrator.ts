/**
 * Applies a migration set to one schema, inside a transaction the caller has begun.
 *
 * @module
 */
import type { Queryable, QueryResultLike } from '../db.js';
import { MigrationChecksumError, MigrationFailedError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import type { Migration } from './migration.js';

/** The table, in each migrated schema, that records what was applied. */
export const MIGRATIONS_TABLE = 'tenantry_migrations';

/** Where a schema stands after a run. */
export interface SchemaMigrationState {
  /** The names applied by this run, in order. */
  readonly applied: readonly string[];
  /** The last migration of the set, or `null` for an empty set. */
  readonly version: string | null;
}

/** What {@link migrateSchema} needs to know. */
export interface MigrateSchemaOptions {
  /** The schema to migrate (a tenant's, or the shared one). */
  readonly schema: string;
  /** Put after `schema` in the search_path so shared tables resolve; omitted for the shared schema itself. */
  readonly sharedSchema?: string;
  readonly migrations: readonly Migration[];
  /** Accept applied migrations whose checksum changed (the new checksum is recorded). */
  readonly allowChanged?: boolean;
  /** Create the schema (after taking the lock) when it does not exist yet. */
  readonly createSchema?: boolean;
  /** Named in errors; `undefined` for the shared schema. */
  readonly tenantId?: string;
  /**
   * `lock_timeout` for the migrations' statements, in milliseconds (`SET LOCAL`, after the
   * advisory lock): a statement that waits longer for a table lock fails with SQLSTATE 55P03
   * instead of queueing behind a long transaction (and making every query on that table queue
   * behind it). Omitted: the session's setting.
   */
  readonly lockTimeoutMs?: number;
  /**
   * Commit the transaction without waiting for its WAL to reach disk (`SET LOCAL
   * synchronous_commit = off`). A crash right after can lose the commit, but never half of it:
   * the changes and their tracking rows go together. For fleet runs, which make the run durable
   * once at the end (see {@link flushCommits}); a lone migration keeps the server's setting.
   */
  readonly asyncCommit?: boolean;
  /** Runs in the same transaction after a run that applied at least one migration (tenant role grants). */
  readonly afterApply?: (client: Queryable) => Promise<void>;
}

const LOCK_NAMESPACE = 'tenantry.migrate';

/**
 * Migrates one schema. The caller has begun a transaction on `client`; this takes a
 * transaction-scoped advisory lock on the schema (two processes never apply the same
 * migration twice), sets the search_path for the transaction only, records each migration
 * with its checksum, and throws {@link MigrationFailedError} naming the migration that failed.
 *
 * @example
 * ```ts
 * declare const migrations: readonly import('./migration.js').Migration[];
 * await client.query('BEGIN');
 * const state = await migrateSchema(client, { schema: 'tenant_acme', sharedSchema: 'public', migrations });
 * await client.query('COMMIT');
 * ```
 */
export async function migrateSchema(client: Queryable, options: MigrateSchemaOptions): Promise<SchemaMigrationState> {
  const { schema, sharedSchema, migrations, allowChanged = false, createSchema = false, tenantId, afterApply, lockTimeoutMs, asyncCommit = false } = options;
  const table = trackingTable(schema);
  const searchPath = searchPathOf(schema, sharedSchema);
  let current: string | undefined;
  try {
    // The lock first: lock_timeout, set after it, bounds the migrations' table locks, not the wait
    // for another process migrating this schema.
    const lock = `SELECT pg_advisory_xact_lock(hashtext(${quoteLiteral(LOCK_NAMESPACE)}), hashtext(${quoteLiteral(schema)}))`;
    if (createSchema) {
      const { rows: found } = await client.query<{ present: boolean }>(`${lock}, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present`, [schema]);
      // Only a missing schema is created: on Citus, CREATE SCHEMA IF NOT EXISTS of an existing schema
      // the login does not own (public, owned by pg_database_owner) fails on the workers with "must be
      // owner of schema", where PostgreSQL skips it.
      if (found[0]?.present !== true) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    }
    // One exchange: the lock (unless taken above), the transaction's settings, the tracking table,
    // the transaction's id and what the schema has recorded.
    const opened = await client.query<{ id?: string; name?: string; checksum?: string }>(
      [
        ...(createSchema ? [] : [lock]),
        ...(lockTimeoutMs === undefined ? [] : [`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`]),
        ...(asyncCommit ? ['SET LOCAL synchronous_commit = off'] : []),
        `SET LOCAL search_path TO ${searchPath}`,
        `CREATE TABLE IF NOT EXISTS ${table} ${TRACKING_COLUMNS}`,
        'SELECT txid_current()::text AS id',
        `SELECT name, checksum FROM ${table}`,
      ].join(';\n'),
    );
    const results = resultsOf(opened);
    const transaction = results.at(-2)?.rows[0]?.id;
    if (transaction === undefined) throw new Error('the driver returned one result for several statements; tenantry needs node-postgres');
    const rows = results.at(-1)!.rows as { name: string; checksum: string }[];
    const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
    const applied: string[] = [];
    for (const migration of migrations) {
      current = migration.name;
      const checksum = recorded.get(migration.name);
      if (checksum === migration.checksum) continue;
      if (checksum !== undefined) {
        if (!allowChanged) throw new MigrationChecksumError(migration.name, schema);
        await client.query(`UPDATE ${table} SET checksum = $2 WHERE name = $1`, [migration.name, migration.checksum]);
        continue;
      }
      await migration.up(client);
      await recordApplied(client, { table, searchPath, transaction }, migration);
      applied.push(migration.name);
    }
    current = undefined;
    if (applied.length > 0 && afterApply !== undefined) await afterApply(client);
    return { applied, version: migrations.at(-1)?.name ?? null };
  } catch (error) {
    if (error instanceof MigrationChecksumError) throw error;
    throw new MigrationFailedError(tenantId, current, { cause: error });
  }
}

/** The columns of a schema's tracking table. */
export const TRACKING_COLUMNS = '(name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())';

/** A schema's tracking table, quoted. */
export function trackingTable(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`;
}

/** The search_path a schema's migrations run with: the schema, then the shared one. */
export function searchPathOf(schema: string, sharedSchema: string | undefined): string {
  return [schema, ...(sharedSchema && sharedSchema !== schema ? [sharedSchema] : [])].map(quoteIdent).join(', ');
}

/** The results of a query that may have sent several statements (node-postgres returns one result each), as a list. */
export function resultsOf<R>(result: QueryResultLike<R> | readonly QueryResultLike<R>[]): readonly QueryResultLike<R>[] {
  return Array.isArray(result) ? (result as readonly QueryResultLike<R>[]) : [result as QueryResultLike<R>];
}

/** The rows of the last statement of a query that may have sent several. */
export function lastRows<R>(result: QueryResultLike<R> | readonly QueryResultLike<R>[]): R[] {
  return resultsOf(result).at(-1)?.rows ?? [];
}

/** Why a migration that ended the transaction it runs in fails. */
export const ENDED_TRANSACTION = 'the migration ended the transaction it runs in (COMMIT, ROLLBACK or END); remove those statements';

/** Where a migration run records what it applied. */
export interface TrackingTarget {
  readonly table: string;
  readonly searchPath: string;
  /** The id of the run's transaction (`txid_current()` at its start). */
  readonly transaction: string;
}

/**
 * After a migration (or several): checks that the run's transaction is still open, puts the
 * search_path back and records the migrations, one row each, in one round trip. A migration that
 * committed or rolled back the transaction (a different transaction id now) records nothing and
 * fails.
 *
 * @example
 * ```ts
 * declare const migration: import('./migration.js').Migration;
 * await recordApplied(client, { table: trackingTable('tenant_acme'), searchPath: searchPathOf('tenant_acme', 'public'), transaction: '7421' }, migration);
 * ```
 */
export async function recordApplied(client: Queryable, target: TrackingTarget, migrations: Migration | readonly Migration[]): Promise<void> {
  if (!/^[0-9]+$/.test(target.transaction)) throw new Error(`not a transaction id: ${JSON.stringify(target.transaction)}`);
  const rows = (Array.isArray(migrations) ? migrations : [migrations]) as readonly Migration[];
  const values = rows.map((migration) => `(${quoteLiteral(migration.name)}, ${quoteLiteral(migration.checksum)})`).join(', ');
  const result = await client.query<{ id: string }>(
    `SELECT txid_current()::text AS id;
     SET LOCAL search_path TO ${target.searchPath};
     INSERT INTO ${target.table} (name, checksum)
       SELECT name, checksum FROM (VALUES ${values}) AS applied (name, checksum) WHERE txid_current() = ${target.transaction}`,
  );
  const first = Array.isArray(result) ? (result[0] as QueryResultLike<{ id: string }>).rows : result.rows;
  if (first[0]?.id !== target.transaction) {
    throw new Error(ENDED_TRANSACTION);
  }
}
