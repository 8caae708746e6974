/**
 * Loads an archive's rows into a schema its migrations just built, inside the caller's
 * transaction: as pg_dump's restore does, foreign keys are added back and triggers enabled
 * again only after the rows are in, so the order of rows never matters and no trigger rewrites
 * a restored row.
 *
 * @module
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Queryable } from '../db.js';
import { sqlState } from '../db.js';
import { BackupArchiveError, describe } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import type { ArchiveReader } from './archive-reader.js';
import type { BackupManifest, TableEnd } from './backup-manifest.js';
import type { CopyControl } from './copy-control.js';
import { copyIn } from './copy-stream.js';

/**
 * Empties the archive's tables in `schema` (rows a migration seeded are in the archive too),
 * copies each table's rows in, checks every count and checksum, sets the sequences, and reads
 * the archive to its end. Rows that do not load are a {@link BackupArchiveError}.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').PoolClientLike;
 * declare const reader: import('./archive-reader.js').ArchiveReader;
 * declare const manifest: BackupManifest;
 * const tables = await loadArchiveRows(client, 'tenant_acme_copy', manifest, reader);
 * ```
 */
export async function loadArchiveRows(
  client: Queryable,
  schema: string,
  manifest: BackupManifest,
  reader: ArchiveReader,
  options: CopyControl = {},
): Promise<readonly TableEnd[]> {
  const qualified = (name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
  const { rows: keys } = await client.query<{ name: string; table: string; definition: string }>(
    `SELECT con.conname AS name, rel.relname AS table, pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
      WHERE n.nspname = $1 AND con.contype = 'f' ORDER BY rel.relname, con.conname`,
    [schema],
  );
  const { rows: triggers } = await client.query<{ name: string; table: string }>(
    `SELECT t.tgname AS name, c.relname AS table
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal AND t.tgenabled = 'O'`,
    [schema],
  );
  for (const key of keys) await client.query(`ALTER TABLE ${qualified(key.table)} DROP CONSTRAINT ${quoteIdent(key.name)}`);
  for (const trigger of triggers) await client.query(`ALTER TABLE ${qualified(trigger.table)} DISABLE TRIGGER ${quoteIdent(trigger.name)}`);
  try {
    if (manifest.tables.length > 0) await client.query(`TRUNCATE ${manifest.tables.map((table) => qualified(table.name)).join(', ')}`);
    await copyTablesIn(client, qualified, manifest, reader, options);
    for (const key of keys) await client.query(`ALTER TABLE ${qualified(key.table)} ADD CONSTRAINT ${quoteIdent(key.name)} ${key.definition}`);
    for (const trigger of triggers) await client.query(`ALTER TABLE ${qualified(trigger.table)} ENABLE TRIGGER ${quoteIdent(trigger.name)}`);
    for (const sequence of manifest.sequences) {
      await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [qualified(sequence.name), sequence.value, sequence.isCalled]);
    }
    await reader.finish();
    return reader.tables;
  } catch (error) {
    throw rowsRefused(error);
  }
}

/**
 * Loads each table's rows with COPY, checking each count against the archive's. `staged`: through
 * a temporary table and `INSERT … SELECT`, for tables under row-level security, which PostgreSQL
 * refuses COPY FROM into (the INSERT is checked by the policies as any other).
 */
async function copyTablesIn(
  client: Queryable,
  qualified: (name: string) => string,
  manifest: BackupManifest,
  reader: ArchiveReader,
  options: CopyControl,
  staged = false,
): Promise<void> {
  const counted = { rows: 0, bytes: 0 };
  for (const [tableIndex, table] of manifest.tables.entries()) {
    options.signal?.throwIfAborted();
    const columns = table.columns.map(quoteIdent).join(', ');
    if (staged) await client.query(`CREATE TEMP TABLE ${STAGE} ON COMMIT DROP AS SELECT ${columns} FROM ${qualified(table.name)} WITH NO DATA`);
    const sink = copyIn(client, `COPY ${staged ? STAGE : qualified(table.name)} (${columns}) FROM STDIN`);
    const rows = reader.tableRows(table.name);
    const progress = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of rows) {
        counted.bytes += chunk.length;
        yield chunk;
        options.onProgress?.({ table: table.name, tableIndex, tables: manifest.tables.length, ...counted, tableDone: false });
      }
    };
    await pipeline(Readable.from(progress(), { objectMode: false }), sink, options.signal === undefined ? {} : { signal: options.signal });
    const end = reader.tables.at(-1)!;
    if (sink.rowCount !== end.rows) {
      throw new BackupArchiveError(`The backup archive is corrupted: table ${describe(table.name)} loaded ${sink.rowCount} rows, the archive counts ${end.rows}`);
    }
    if (staged) {
      await client.query(`INSERT INTO ${qualified(table.name)} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM ${STAGE}`);
      await client.query(`DROP TABLE ${STAGE}`);
    }
    counted.rows += end.rows;
    options.onProgress?.({ table: table.name, tableIndex, tables: manifest.tables.length, ...counted, tableDone: true });
  }
}

/** The temporary table a staged load goes through, one table at a time. */
const STAGE = 'pg_temp.tenantry_restore_stage';

/**
 * Loads a row-level tenant's rows into the shared schema's tenant-scoped tables, on a client
 * inside an open transaction whose scope is that tenant's (the tenant setting, and its role with
 * tenant roles): each row's tenant column takes its default, the active tenant, so an archive
 * restores under any id. The app's triggers on those tables fire, as for any insert.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * declare const manifest: BackupManifest;
 * declare const reader: import('./archive-reader.js').ArchiveReader;
 * const tables = await loadRowLevelRows(client, 'public', manifest, reader);
 * ```
 */
export async function loadRowLevelRows(client: Queryable, sharedSchema: string, manifest: BackupManifest, reader: ArchiveReader, options: CopyControl = {}): Promise<readonly TableEnd[]> {
  try {
    await copyTablesIn(client, (name) => `${quoteIdent(sharedSchema)}.${quoteIdent(name)}`, manifest, reader, options, true);
    await reader.finish();
    return reader.tables;
  } catch (error) {
    throw rowsRefused(error);
  }
}

/**
 * A database error while loading: rows that do not fit (class 22), break a constraint (23), or
 * a table, column or sequence the restored schema lacks (42P01, 42703) mean the archive does not
 * match the schema its migrations build.
 */
function rowsRefused(error: unknown): unknown {
  const state = sqlState(error);
  if (state === undefined) return error;
  if (state.startsWith('22') || state.startsWith('23') || state === '42P01' || state === '42703') {
    return new BackupArchiveError(`The backup's rows do not load into the restored schema: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
