/**
 * What a migration is, and how a set of them is fingerprinted.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../db.js';
import { InvalidConfigError } from '../errors.js';

/**
 * One migration. `up` runs inside the schema's migration transaction, on a client whose
 * search_path is already the target schema (then the shared schema).
 *
 * @example
 * ```ts
 * const addSku: Migration = {
 *   name: '002_add_sku',
 *   checksum: 'v1',
 *   up: (client) => client.query('alter table products add column sku text'),
 * };
 * ```
 */
export interface Migration {
  /** Unique within its set; migrations run in the order of their names. */
  readonly name: string;
  /** Changes when the migration's text changes; an applied migration whose checksum changed is an error. */
  readonly checksum: string;
  /** Applies the migration with `client`; it must not commit or roll back the transaction itself. */
  up(client: Queryable): Promise<unknown>;
  /**
   * The SQL text `up` runs statement by statement, when the migration is a .sql file: provisioning
   * queues its statements on the client without a wait between them (see `migrateNewSchema`).
   */
  readonly script?: SqlScript;
}

/**
 * A .sql migration's text and file name.
 *
 * @example
 * ```ts
 * const script: SqlScript = { text: 'CREATE TABLE t (id int);', file: '001_t.sql' };
 * ```
 */
export interface SqlScript {
  readonly text: string;
  readonly file: string;
}

/**
 * Where migrations come from: a folder path, a list, or a source that loads them.
 *
 * @example
 * ```ts
 * createTenancy({ pool, migrations: { shared: './migrations/shared', tenant: './migrations/tenant' } });
 * ```
 */
export type MigrationsInput = string | readonly Migration[] | MigrationSource;

/**
 * A source of migrations, loaded each time a migration run starts.
 *
 * @example
 * ```ts
 * declare const createProducts: Migration;
 * declare const addSku: Migration;
 * const source: MigrationSource = { load: async () => [createProducts, addSku] };
 * ```
 */
export interface MigrationSource {
  /** The migrations, in any order (they run in name order). */
  load(): Promise<readonly Migration[]>;
}

/** A sha256 of text, hex-encoded, with line endings normalised so a checkout on Windows matches. */
export function checksumOf(text: string | Uint8Array): string {
  const normalised = typeof text === 'string' ? text.replaceAll('\r\n', '\n') : text;
  return createHash('sha256').update(normalised).digest('hex');
}

/**
 * Fingerprints a whole ordered set (names and checksums). The registry stores each tenant's
 * fingerprint, so the tenants with pending work are found with one query.
 */
export function digestOf(migrations: readonly Migration[]): string {
  const hash = createHash('sha256');
  for (const migration of migrations) hash.update(`${migration.name}\0${migration.checksum}\n`);
  return hash.digest('hex');
}

/** Sorts by name (code-unit order, as on disk listings) and refuses duplicate names. */
export function orderMigrations(migrations: readonly Migration[]): readonly Migration[] {
  const sorted = [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i += 1) {
    if (sorted[i]!.name === sorted[i - 1]!.name) {
      throw new InvalidConfigError(`Two migrations are named ${JSON.stringify(sorted[i]!.name)}; migration names must be unique`);
    }
  }
  return sorted;
}
