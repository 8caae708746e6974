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
import { QueryQueue, QueuedQueryError } from './query-queue.js';
import { ENDED_TRANSACTION, lastRows, recordApplied, searchPathOf, TRACKING_COLUMNS, trackingTable } from './schema-migrator.js';
import { lineAndColumn, locateSqlError } from './sql-error-location.js';
import { splitSqlStatements } from './sql-statements.js';

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
 * and its tracking row. No advisory lock and no read of the tracking table: the schema is new in
 * this transaction, so no other transaction sees it before it commits (one that creates the same
 * name waits, then fails). The statements of .sql migrations are queued on the client without a
 * wait between them (the search_path put back before each file, their tracking rows written
 * together after them, or before an `up` function), and pipelined when the client is a node-postgres one
 * (each stays its own query, as Citus needs; after a failure the server refuses the rest of the
 * transaction, so nothing after it applies); a migration with an `up` function waits for
 * everything before it. `CREATE SCHEMA` of a name that exists throws PostgreSQL's error (42P06) as
 * it is; a failed migration throws {@link MigrationFailedError} naming it.
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
  await refuseEndingStatements(migrations, tenantId);
  const target = { table, searchPath, transaction: lastRows(opened)[0]!.id };
  const queue = new QueryQueue(client);
  // The tracking rows of the .sql migrations queued since the last up function, written together.
  let unrecorded: Migration[] = [];
  const recordQueued = (): void => {
    if (unrecorded.length === 0) return;
    queue.add(unrecorded.at(-1)!.name, recordApplied(client, target, unrecorded));
    unrecorded = [];
  };
  let current: string | undefined;
  try {
    for (const migration of migrations) {
      current = migration.name;
      if (migration.script === undefined) {
        recordQueued();
        await queue.settle();
        await migration.up(client);
        await recordApplied(client, target, migration);
        continue;
      }
      const { text, file } = migration.script;
      const statements = await splitSqlStatements(text);
      queue.pipeline();
      if (unrecorded.length > 0) queue.add(migration.name, client.query(`SET LOCAL search_path TO ${searchPath}`));
      for (const statement of statements) {
        queue.add(migration.name, client.query(statement.text), (error) => locateSqlError(error, file, text, statement));
      }
      unrecorded.push(migration);
    }
    current = undefined;
    recordQueued();
    await queue.settle();
  } catch (error) {
    const failed = error instanceof QueuedQueryError ? error : undefined;
    throw new MigrationFailedError(tenantId, failed?.migration ?? current, { cause: failed?.cause ?? error });
  } finally {
    await queue.end();
  }
  return { applied: migrations.map((migration) => migration.name), version: migrations.at(-1)?.name ?? null };
}

/**
 * Refuses, before any is sent, a .sql migration with a statement that would end the transaction:
 * the statements queued behind it would run outside it, committed one by one.
 */
async function refuseEndingStatements(migrations: readonly Migration[], tenantId: string | undefined): Promise<void> {
  for (const migration of migrations) {
    if (migration.script === undefined) continue;
    const { text, file } = migration.script;
    const ending = (await splitSqlStatements(text)).find((statement) => statement.endsTransaction === true);
    if (ending !== undefined) {
      const { line } = lineAndColumn(text, ending.offset + ending.text.length - ending.text.trimStart().length + 1);
      const error = new Error(`${file}, line ${line}: ${ENDED_TRANSACTION}`);
      throw new MigrationFailedError(tenantId, migration.name, { cause: error });
    }
  }
}
