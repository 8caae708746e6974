/**
 * What a backup archive says about itself: the manifest written before the rows, the end of
 * each table and the trailer written after them; and the checks a reader makes on each.
 *
 * @module
 */
import { BackupArchiveError } from '../errors.js';
import { ARCHIVE_FORMAT } from './archive-format.js';

/**
 * One table of an archive: its name and the columns its COPY data holds, in that order.
 *
 * @example
 * ```ts
 * const table: BackupTable = { name: 'products', columns: ['id', 'name'], dependsOn: [] };
 * ```
 */
export interface BackupTable {
  readonly name: string;
  readonly columns: readonly string[];
  /** The tables of the same schema its foreign keys point at (they come earlier in the archive). */
  readonly dependsOn: readonly string[];
}

/**
 * A sequence's value when the backup was taken (`setval(name, value, isCalled)` restores it).
 *
 * @example
 * ```ts
 * const sequence: BackupSequence = { name: 'products_id_seq', value: '42', isCalled: true };
 * ```
 */
export interface BackupSequence {
  readonly name: string;
  /** A bigint, as text. */
  readonly value: string;
  readonly isCalled: boolean;
}

/**
 * The tenant a backup holds, as the registry had it.
 *
 * @example
 * ```ts
 * const tenant: BackupTenant = {
 *   id: 'acme', name: 'Acme', schema: 'tenant_acme', status: 'active', placement: 'default',
 *   metadata: {}, domains: [{ domain: 'acme.example.com', primary: true }], migrationVersion: '002_sku',
 * };
 * ```
 */
export interface BackupTenant {
  readonly id: string;
  readonly name: string;
  readonly schema: string;
  readonly status: 'active' | 'suspended';
  readonly placement: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly domains: readonly { readonly domain: string; readonly primary: boolean }[];
  readonly migrationVersion: string | null;
}

/**
 * The manifest: the first frame of an archive.
 *
 * @example
 * ```ts
 * declare const manifest: BackupManifest;
 * manifest.tables.map((table) => table.name); // in foreign-key order: ['categories', 'products']
 * ```
 */
export interface BackupManifest {
  /** The archive format (1). */
  readonly format: number;
  /** A tenant's schema, or the app's shared tables (`tenantry backup --shared`). */
  readonly kind: 'tenant' | 'shared';
  /**
   * The isolation strategy the tenant was kept under: `schema` (its schema's tables), `rls`
   * (its rows of the shared schema's tenant-scoped tables, without the tenant column), or
   * `database` (its schema's tables, in a database of its own).
   */
  readonly strategy: 'schema' | 'rls' | 'database';
  /** When the snapshot was taken (ISO 8601). */
  readonly createdAt: string;
  /** The version of tenantry that wrote it. */
  readonly tenantry: string;
  /** The PostgreSQL server it was taken from. */
  readonly server: { readonly version: string; readonly versionNum: number };
  /** The schema the rows came from. */
  readonly schema: string;
  /** The tenant (kind `tenant`). */
  readonly tenant?: BackupTenant;
  /** The migrations recorded in the schema, in name order, with their checksums. */
  readonly migrations: readonly { readonly name: string; readonly checksum: string }[];
  /** The tables, in foreign-key order (a table after those it references). */
  readonly tables: readonly BackupTable[];
  readonly sequences: readonly BackupSequence[];
}

/**
 * The end of one table's rows: its row count and the sha256 of its COPY text.
 *
 * @example
 * ```ts
 * const end: TableEnd = { table: 'products', rows: 2, bytes: 24, sha256: 'e3b0c4…' };
 * ```
 */
export interface TableEnd {
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * The trailer: the last frame, written after every row.
 *
 * @example
 * ```ts
 * declare const trailer: BackupTrailer;
 * trailer.tables.reduce((sum, table) => sum + table.rows, 0);
 * ```
 */
export interface BackupTrailer {
  /** Each table's count and checksum, in the manifest's order. */
  readonly tables: readonly TableEnd[];
  /** The sha256 of the manifest frame's payload. */
  readonly manifestSha256: string;
}

const IDENTIFIER = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 63 && !value.includes('\0');

/**
 * Checks a parsed manifest; throws {@link BackupArchiveError} naming what is wrong.
 *
 * @example
 * ```ts
 * declare const payload: Buffer;
 * const manifest = checkManifest(JSON.parse(payload.toString('utf8')));
 * ```
 */
export function checkManifest(value: unknown): BackupManifest {
  const manifest = value as BackupManifest;
  if (typeof manifest !== 'object' || manifest === null) throw invalid('the manifest is not an object');
  if (!Number.isInteger(manifest.format)) throw invalid('the manifest has no format version');
  if (manifest.format > ARCHIVE_FORMAT) {
    throw new BackupArchiveError(`The backup archive has format ${manifest.format}; this version of tenantry reads format ${ARCHIVE_FORMAT}: upgrade tenantry`);
  }
  if (manifest.kind !== 'tenant' && manifest.kind !== 'shared') throw invalid(`unknown kind ${JSON.stringify(manifest.kind)}`);
  if (manifest.strategy !== 'schema' && manifest.strategy !== 'rls' && manifest.strategy !== 'database') throw invalid(`unknown strategy ${JSON.stringify(manifest.strategy)}`);
  if (!IDENTIFIER(manifest.schema)) throw invalid('the manifest names no schema');
  if (manifest.kind === 'tenant' && !isTenant(manifest.tenant)) throw invalid('the manifest has no valid tenant');
  if (!Array.isArray(manifest.migrations) || !manifest.migrations.every((m) => typeof m?.name === 'string' && typeof m.checksum === 'string')) {
    throw invalid('the manifest has no list of migrations');
  }
  if (!Array.isArray(manifest.tables) || !manifest.tables.every(isTable)) throw invalid('the manifest has no valid list of tables');
  if (new Set(manifest.tables.map((table) => table.name)).size !== manifest.tables.length) throw invalid('the manifest lists a table twice');
  if (!Array.isArray(manifest.sequences) || !manifest.sequences.every(isSequence)) throw invalid('the manifest has no valid list of sequences');
  return manifest;
}

/**
 * Checks a table's end frame against the table it closes.
 *
 * @example
 * ```ts
 * declare const payload: unknown;
 * const end = checkTableEnd(payload, 'products');
 * ```
 */
export function checkTableEnd(value: unknown, table: string): TableEnd {
  const end = value as TableEnd;
  if (typeof end !== 'object' || end === null || end.table !== table) throw invalid(`the rows of table ${JSON.stringify(table)} do not end where they should`);
  if (!Number.isSafeInteger(end.rows) || end.rows < 0 || !Number.isSafeInteger(end.bytes) || typeof end.sha256 !== 'string') {
    throw invalid(`the end of table ${JSON.stringify(table)} has no valid count or checksum`);
  }
  return end;
}

/**
 * Checks the trailer against what the reader saw.
 *
 * @example
 * ```ts
 * declare const payload: unknown;
 * declare const seen: readonly TableEnd[];
 * checkTrailer(payload, seen, 'manifest sha256');
 * ```
 */
export function checkTrailer(value: unknown, seen: readonly TableEnd[], manifestSha256: string): BackupTrailer {
  const trailer = value as BackupTrailer;
  if (typeof trailer !== 'object' || trailer === null || !Array.isArray(trailer.tables)) throw invalid('the trailer is not valid');
  if (trailer.manifestSha256 !== manifestSha256) throw new BackupArchiveError('The backup archive is corrupted: the manifest does not match its checksum');
  const same =
    trailer.tables.length === seen.length &&
    trailer.tables.every((end, index) => end.table === seen[index]!.table && end.rows === seen[index]!.rows && end.sha256 === seen[index]!.sha256);
  if (!same) throw new BackupArchiveError('The backup archive is corrupted: the trailer does not match the tables it closes');
  return trailer;
}

function isTenant(tenant: BackupTenant | undefined): boolean {
  return (
    typeof tenant === 'object' &&
    tenant !== null &&
    typeof tenant.id === 'string' &&
    typeof tenant.name === 'string' &&
    Array.isArray(tenant.domains) &&
    tenant.domains.every((domain) => typeof domain?.domain === 'string' && typeof domain.primary === 'boolean')
  );
}

function isTable(table: BackupTable): boolean {
  return (
    typeof table === 'object' &&
    table !== null &&
    IDENTIFIER(table.name) &&
    Array.isArray(table.columns) &&
    table.columns.length > 0 &&
    table.columns.every(IDENTIFIER) &&
    Array.isArray(table.dependsOn)
  );
}

function isSequence(sequence: BackupSequence): boolean {
  return typeof sequence === 'object' && sequence !== null && IDENTIFIER(sequence.name) && /^-?\d+$/.test(String(sequence.value)) && typeof sequence.isCalled === 'boolean';
}

function invalid(what: string): BackupArchiveError {
  return new BackupArchiveError(`The backup archive is not valid: ${what}`);
}
