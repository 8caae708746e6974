/**
 * Applies a migration set to one schema, inside a transaction the caller has begun.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { MigrationChecksumError, MigrationFailedError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
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
  const { schema, sharedSchema, migrations, allowChanged = false, createSchema = false, tenantId, afterApply, lockTimeoutMs } = options;
  const table = `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`;
  const searchPath = [schema, ...(sharedSchema && sharedSchema !== schema ? [sharedSchema] : [])].map(quoteIdent).join(', ');
  let current: string | undefined;
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [LOCK_NAMESPACE, schema]);
    if (createSchema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const lockTimeout = lockTimeoutMs === undefined ? '' : `SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}; `;
    await client.query(`${lockTimeout}SET LOCAL search_path TO ${searchPath}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${table}`);
    const transaction = await currentTransaction(client);
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
      if ((await currentTransaction(client)) !== transaction) {
        throw new Error('the migration ended the transaction it runs in (COMMIT, ROLLBACK or END); remove those statements');
      }
      await client.query(`SET LOCAL search_path TO ${searchPath}`);
      await client.query(`INSERT INTO ${table} (name, checksum) VALUES ($1, $2)`, [migration.name, migration.checksum]);
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

/** The id of the open transaction; a different one after a migration means it committed or rolled back ours. */
async function currentTransaction(client: Queryable): Promise<string> {
  const { rows } = await client.query<{ id: string }>('SELECT txid_current()::text AS id');
  return rows[0]!.id;
}
