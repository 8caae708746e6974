/**
 * Backs up one schema from one consistent snapshot: a read-only REPEATABLE READ transaction in
 * which the manifest (tables, migrations, sequences) and every table's rows are read, while
 * other connections keep writing.
 *
 * @module
 */
import type { Writable } from 'node:stream';
import packageJson from '../../package.json' with { type: 'json' };
import type { PoolLike, Queryable } from '../db.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import { TENANT_SETTING } from '../strategy/row-level.js';
import { MIGRATIONS_TABLE } from '../migrate/schema-migrator.js';
import type { WriteArchiveOptions } from './archive-writer.js';
import { writeArchive } from './archive-writer.js';
import type { BackupManifest, BackupSequence, BackupTable, BackupTenant, TableEnd } from './backup-manifest.js';
import { schemaTables } from './table-order.js';

/**
 * What a backup wrote.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * const summary: BackupSummary = await tenancy.backup('acme', createWriteStream('acme.tenantry.gz'));
 * console.log(`${summary.rows} rows in ${summary.tables.length} tables`);
 * ```
 */
export interface BackupSummary {
  readonly manifest: BackupManifest;
  /** Each table's row count and checksum, in the archive's order. */
  readonly tables: readonly TableEnd[];
  readonly rows: number;
  /** Bytes of COPY text, before compression. */
  readonly bytes: number;
}

/**
 * A row-level tenant's part of the shared schema: its id, its role (with tenant roles), and the
 * tenant-scoped tables with their tenant columns.
 *
 * @example
 * ```ts
 * const target: RowLevelTarget = { tenantId: 'acme', role: undefined, tenantColumns: new Map([['products', 'tenant_id']]) };
 * ```
 */
export interface RowLevelTarget {
  readonly tenantId: string;
  readonly role: string | undefined;
  readonly tenantColumns: ReadonlyMap<string, string>;
}

/** Which schema {@link backupSchema} reads, and as what. */
export interface SchemaBackupTarget {
  readonly kind: 'tenant' | 'shared';
  readonly schema: string;
  /** A tenant kept in a database of its own (the database strategy); the archive says so. */
  readonly database?: boolean;
  readonly tenant?: BackupTenant;
  /** Which tables of the schema go into the archive. */
  readonly include: (table: string) => boolean;
  /**
   * A row-level tenant: only its rows of the shared schema's tenant-scoped tables (named with
   * their tenant column), without that column, read with its scope (its role, with tenant roles).
   */
  readonly rowLevel?: RowLevelTarget;
}

/**
 * Writes the archive of `target` to `destination` (and ends it; a failure destroys it). The
 * connection is destroyed, not reused, when the backup fails half-way (its COPY may still run).
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * await backupSchema(pool, { kind: 'shared', schema: 'public', include: (name) => !name.startsWith('tenantry_') }, createWriteStream('shared.tenantry.gz'));
 * ```
 */
export async function backupSchema(
  pool: PoolLike,
  target: SchemaBackupTarget,
  destination: Writable,
  options: WriteArchiveOptions = {},
): Promise<BackupSummary> {
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rowLevel } = target;
    const manifest = await readManifest(client, target);
    // The rows are read in the tenant's scope (its role sees them whatever the login may), the catalog and migrations as the login.
    if (rowLevel !== undefined) await enterRowLevelScope(client, rowLevel);
    const tables = await writeArchive(
      client,
      manifest,
      destination,
      options,
      rowLevel === undefined ? undefined : (table) => tenantRowsOf(manifest.schema, table, rowLevel.tenantColumns.get(table.name)!, rowLevel.tenantId),
    );
    await client.query('COMMIT');
    return { manifest, tables, rows: tables.reduce((sum, table) => sum + table.rows, 0), bytes: tables.reduce((sum, table) => sum + table.bytes, 0) };
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failure);
  }
}

async function readManifest(client: Queryable, target: SchemaBackupTarget): Promise<BackupManifest> {
  const { rows: server } = await client.query<{ version: string; num: number; now: Date }>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS num, now() AS now`,
  );
  const found = await schemaTables(client, target.schema, (name) => name !== MIGRATIONS_TABLE && target.include(name));
  const tenantColumns = target.rowLevel?.tenantColumns;
  const tables = tenantColumns === undefined ? found : found.map((table) => ({ ...table, columns: table.columns.filter((column) => column !== tenantColumns.get(table.name)) }));
  if (tables.length > 0) {
    await client.query(`LOCK TABLE ${tables.map((table) => `${quoteIdent(target.schema)}.${quoteIdent(table.name)}`).join(', ')} IN ACCESS SHARE MODE`);
  }
  return {
    format: 1,
    kind: target.kind,
    strategy: target.rowLevel !== undefined ? 'rls' : target.database === true ? 'database' : 'schema',
    createdAt: server[0]!.now.toISOString(),
    tenantry: packageJson.version,
    server: { version: server[0]!.version, versionNum: server[0]!.num },
    schema: target.schema,
    ...(target.tenant === undefined ? {} : { tenant: target.tenant }),
    migrations: await appliedMigrations(client, target.schema),
    tables,
    // A row-level tenant's sequences are the shared tables', which its restore must not set back.
    sequences: target.rowLevel === undefined ? await sequenceValues(client, target.schema) : [],
  };
}

/**
 * Puts the open transaction in a row-level tenant's scope: its tenant setting and, with tenant
 * roles, its role, both for the transaction only.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await enterRowLevelScope(client, { tenantId: 'acme', role: undefined, tenantColumns: new Map() });
 * ```
 */
export async function enterRowLevelScope(client: Queryable, rowLevel: RowLevelTarget): Promise<void> {
  await client.query(`SELECT set_config('${TENANT_SETTING}', $1, true)`, [rowLevel.tenantId]);
  if (rowLevel.role !== undefined) await client.query(`SET LOCAL ROLE ${quoteIdent(rowLevel.role)}`);
}

/**
 * A row-level tenant's rows of one table, as a COPY source (the id is a checked tenant id, quoted all the same).
 *
 * @example
 * ```ts
 * tenantRowsOf('public', { name: 'products', columns: ['id', 'name'] }, 'tenant_id', 'acme');
 * // (SELECT "id", "name" FROM "public"."products" WHERE "tenant_id" = 'acme')
 * ```
 */
export function tenantRowsOf(schema: string, table: Pick<BackupTable, 'name' | 'columns'>, tenantColumn: string, tenantId: string): string {
  return `(SELECT ${table.columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(schema)}.${quoteIdent(table.name)} WHERE ${quoteIdent(tenantColumn)} = ${quoteLiteral(tenantId)})`;
}

async function appliedMigrations(client: Queryable, schema: string): Promise<BackupManifest['migrations']> {
  const table = `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`;
  const { rows: found } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  if (found[0]?.present !== true) return [];
  const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${table} ORDER BY name COLLATE "C"`);
  return rows.map((row) => ({ name: row.name, checksum: row.checksum }));
}

async function sequenceValues(client: Queryable, schema: string): Promise<readonly BackupSequence[]> {
  const { rows: names } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname COLLATE "C"`,
    [schema],
  );
  const sequences: BackupSequence[] = [];
  for (const { name } of names) {
    const { rows } = await client.query<{ value: string; called: boolean }>(
      `SELECT last_value::text AS value, is_called AS called FROM ${quoteIdent(schema)}.${quoteIdent(name)}`,
    );
    sequences.push({ name, value: rows[0]!.value, isCalled: rows[0]!.called });
  }
  return sequences;
}
