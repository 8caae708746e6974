/**
 * `tenancy.exportTenant(id, directory, { format })`: a tenant's data for people (a user's right
 * to their data): one JSON or CSV file per table and a `tenant.json`, from one snapshot. A
 * row-level tenant's tables are the shared schema's tenant-scoped ones, with its rows only and
 * without the tenant column, read in its scope (its setting, and its role with tenant roles).
 *
 * @module
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { InvalidConfigError, TenantNotFoundError } from '../errors.js';
import { assertTenantId, quoteIdent } from '../identifiers.js';
import { MIGRATIONS_TABLE } from '../migrate/schema-migrator.js';
import type { CopyControl } from './copy-control.js';
import type { BackupContext } from './backup-context.js';
import { enterRowLevelScope, tenantRowsOf } from './backup-schema.js';
import { rowLevelTarget, rowsSchemaOf } from './backup-tenant.js';
import { copyOut } from './copy-stream.js';
import { schemaTables } from './table-order.js';

/**
 * Options of `tenancy.exportTenant`.
 *
 * @example
 * ```ts
 * const options: ExportOptions = { format: 'csv' };
 * ```
 */
export interface ExportOptions extends CopyControl {
  /** `json` (default: a JSON array of row objects per table) or `csv` (with a header line). */
  readonly format?: 'json' | 'csv';
}

/**
 * What an export wrote.
 *
 * @example
 * ```ts
 * const summary: ExportSummary = await tenancy.exportTenant('acme', './acme-export');
 * summary.tables.map((table) => table.file); // ['categories.json', 'products.json']
 * ```
 */
export interface ExportSummary {
  readonly directory: string;
  readonly format: 'json' | 'csv';
  /** Each table's file (in `directory`) and row count, in foreign-key order. */
  readonly tables: readonly { readonly table: string; readonly file: string; readonly rows: number }[];
}

/**
 * Writes tenant `id`'s tables to `directory` (created if missing), one file per table, and
 * `tenant.json` with the tenant's record, domains and the list of files.
 *
 * @example
 * ```ts
 * declare const context: import('./backup-context.js').BackupContext;
 * await exportTenant(context, 'acme', './acme-export', { format: 'csv' });
 * ```
 */
export async function exportTenant(context: BackupContext, id: string, directory: string, options: ExportOptions = {}): Promise<ExportSummary> {
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new InvalidConfigError(`An export's format is json or csv, got ${JSON.stringify(format)}`);
  assertTenantId(id);
  const tenant = await context.registry.get(id);
  if (tenant === undefined) throw new TenantNotFoundError(id);
  const domains = await context.registry.domains(id);
  const rowLevel = context.strategy === 'rls' ? await rowLevelTarget(context, id) : undefined;
  const schema = rowsSchemaOf(context, tenant, rowLevel);
  const folder = resolve(directory);
  await mkdir(folder, { recursive: true });
  const client = await ((await context.poolOf?.(tenant)) ?? context.pool).connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rows: now } = await client.query<{ now: Date }>('SELECT now() AS now');
    const found = await schemaTables(client, schema, (name) => (rowLevel === undefined ? name !== MIGRATIONS_TABLE : rowLevel.tenantColumns.has(name)));
    const tables = rowLevel === undefined ? found : found.map((table) => ({ ...table, columns: table.columns.filter((column) => column !== rowLevel.tenantColumns.get(table.name)) }));
    if (rowLevel !== undefined) await enterRowLevelScope(client, rowLevel);
    const files = fileNames(tables.map((table) => table.name), format);
    const written: { table: string; file: string; rows: number }[] = [];
    let totalRows = 0;
    let totalBytes = 0;
    for (const [tableIndex, table] of tables.entries()) {
      options.signal?.throwIfAborted();
      const columns = table.columns.map(quoteIdent).join(', ');
      const from = rowLevel === undefined ? `${quoteIdent(schema)}.${quoteIdent(table.name)}` : tenantRowsOf(schema, table, rowLevel.tenantColumns.get(table.name)!, rowLevel.tenantId);
      const destination = createWriteStream(join(folder, files[tableIndex]!));
      const signal = options.signal === undefined ? {} : { signal: options.signal };
      const copy =
        format === 'csv'
          ? copyOut(client, `COPY ${rowLevel === undefined ? `${from} (${columns})` : from} TO STDOUT WITH (FORMAT csv, HEADER true)`)
          : copyOut(client, `COPY (SELECT row_to_json(r)::text FROM (SELECT ${columns} FROM ${from} t) r) TO STDOUT`);
      let bytes = 0;
      copy.on('data', (chunk: Buffer) => void (bytes += chunk.length));
      if (format === 'csv') await pipeline(copy, destination, signal);
      else await pipeline(copy, new JsonArray(), destination, signal);
      totalRows += copy.rowCount;
      totalBytes += bytes;
      written.push({ table: table.name, file: files[tableIndex]!, rows: copy.rowCount });
      options.onProgress?.({ table: table.name, tableIndex, tables: tables.length, rows: totalRows, bytes: totalBytes, tableDone: true });
    }
    await client.query('COMMIT');
    const record = { ...tenant, domains, exportedAt: now[0]!.now, format, tables: written };
    await writeFile(join(folder, 'tenant.json'), `${JSON.stringify(record, null, 2)}\n`);
    return { directory: folder, format, tables: written };
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failure);
  }
}

/** A file name per table: the name where it is a safe file name, else a safe form with a number. */
function fileNames(tables: readonly string[], format: 'json' | 'csv'): string[] {
  const used = new Set(['tenant.json']);
  return tables.map((table, index) => {
    const safe = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(table) ? table : `${index + 1}-${table.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '')}`;
    let name = `${safe}.${format}`;
    if (used.has(name)) name = `${safe}-${index + 1}.${format}`;
    used.add(name);
    return name;
  });
}

/**
 * COPY text lines of one JSON document each, as a JSON array. A row's JSON has no raw newline or
 * tab (JSON escapes them), so the only COPY escape in it is the doubled backslash.
 */
class JsonArray extends Transform {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';
  #first = true;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.#partial + this.#decoder.write(chunk);
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      out += `${this.#first ? '[\n  ' : ',\n  '}${line.replaceAll('\\\\', '\\')}`;
      this.#first = false;
    }
    callback(null, out);
  }
  override _flush(callback: TransformCallback): void {
    callback(null, this.#first ? '[]\n' : '\n]\n');
  }
}
