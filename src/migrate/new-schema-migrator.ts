/**
 * Creates a schema and applies a whole migration set to it, for a tenant (or a spare) being
 * provisioned, inside the transaction the caller has begun.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { MigrationFailedError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import type { Migration } from './migration.js';
import type { SchemaMigrationState } from './schema-migrator.js';
import { lastRows, recordApplied, searchPathOf, TRACKING_COLUMNS, trackingTable } from './schema-migrator.js';

/** What {@link migrateNewSchema} needs to know. */
export interface MigrateNewSchemaOptions {
  /** The schema to create; it must not exist. */
  readonly schema: string;
  /** Put after `schema` in the search_path so shared tables resolve. */
  readonly sharedSchema: string;
  readonly migrations: readonly Migration[];
  /** Named in errors. */
  readonly tenantId?: string | undefined;
}

/**
 * What `migrateSchema` does for a schema that does not exist yet, in fewer round trips: the
 * schema, the search_path, the tracking table and the transaction id in one, then each migration
 * and its tracking row in two. No advisory lock and no read of the tracking table: the schema is
 * new in this transaction, so no other transaction sees it before it commits (one that creates
 * the same name waits, then fails). `CREATE SCHEMA` of a name that exists throws PostgreSQL's
 * error (42P06) as it is; a failed migration throws {@link MigrationFailedError} naming it.
 *
 * @example
 * ```ts
 * declare const migrations: readonly import('./migration.js').Migration[];
 * await client.query('BEGIN');
 * await migrateNewSchema(client, { schema: 'tenant_acme', sharedSchema: 'public', migrations, tenantId: 'acme' });
 * await client.query('COMMIT');
 * ```
 */
export async function migrateNewSchema(client: Queryable, options: MigrateNewSchemaOptions): Promise<SchemaMigrationState> {
  const { schema, sharedSchema, migrations, tenantId } = options;
  const table = trackingTable(schema);
  const searchPath = searchPathOf(schema, sharedSchema);
  const opened = await client.query<{ id: string }>(
    `CREATE SCHEMA ${quoteIdent(schema)};
     SET LOCAL search_path TO ${searchPath};
     CREATE TABLE ${table} ${TRACKING_COLUMNS};
     SELECT txid_current()::text AS id`,
  );
  const target = { table, searchPath, transaction: lastRows(opened)[0]!.id };
  let current: string | undefined;
  try {
    for (const migration of migrations) {
      current = migration.name;
      await migration.up(client);
      await recordApplied(client, target, migration);
    }
  } catch (error) {
    throw new MigrationFailedError(tenantId, current, { cause: error });
  }
  return { applied: migrations.map((migration) => migration.name), version: migrations.at(-1)?.name ?? null };
}
