/**
 * Migrations from a folder: `.sql` files and JS/TS modules exporting `up(client)`.
 *
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidConfigError } from '../errors.js';
import type { Migration, MigrationSource } from './migration.js';
import { checksumOf, orderMigrations } from './migration.js';
import { runSqlScript } from './sql-script.js';

const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/**
 * Loads the migrations of a folder, in name order. A migration's name is its file name
 * without the extension; its checksum is a hash of the file. A `.sql` file may hold several
 * statements: each is sent as its own query, all in the schema's one migration transaction (do not
 * BEGIN or COMMIT), so the file applies whole or not at all.
 * Modules export `up(client)` (named or on the default export). A TypeScript module needs a
 * runtime that loads TypeScript (Node 22.6+ with type stripping, tsx, vitest).
 *
 * @example
 * ```ts
 * const source = folderMigrations('./migrations/tenant');
 * const migrations = await source.load(); // [{ name: '001_products', checksum, up }, …]
 * ```
 */
export function folderMigrations(folder: string): MigrationSource {
  const root = resolve(folder);
  return {
    async load() {
      let entries: string[];
      try {
        entries = await readdir(root);
      } catch (error) {
        throw new InvalidConfigError(`Cannot read the migrations folder ${JSON.stringify(root)}`, { cause: error });
      }
      const loading: Promise<Migration>[] = [];
      for (const file of entries) {
        const extension = extname(file);
        if (file.startsWith('.') || /\.d\.[mc]?ts$/.test(file)) continue;
        if (extension === '.sql') loading.push(sqlMigration(join(root, file), file));
        else if (MODULE_EXTENSIONS.has(extension)) loading.push(moduleMigration(join(root, file), file));
      }
      // Read at once (a create loads the folder each time); a failure is reported after all settled.
      const settled = await Promise.allSettled(loading);
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return orderMigrations(settled.map((result) => (result as PromiseFulfilledResult<Migration>).value));
    },
  };
}

async function sqlMigration(path: string, file: string): Promise<Migration> {
  const text = await readFile(path, 'utf8');
  return {
    name: file.slice(0, -'.sql'.length),
    checksum: checksumOf(text),
    up: (client) => runSqlScript(client, text, file),
    script: { text, file },
  };
}

async function moduleMigration(path: string, file: string): Promise<Migration> {
  // Read as text so the checksum is normalised like a .sql file's (CRLF and LF checkouts match).
  const source = await readFile(path, 'utf8');
  const checksum = checksumOf(source);
  let loaded: Record<string, unknown>;
  try {
    // The code that runs must be the code the checksum describes, also for a file edited while
    // the process runs: the checksum in the URL makes it a new ES module (import() caches by
    // URL), and a CommonJS module is dropped from require's cache (keyed by file name).
    delete createRequire(path).cache[path];
    loaded = TYPESCRIPT_EXTENSIONS.has(extname(path)) ? await importTypeScript(path) : ((await import(`${pathToFileURL(path).href}?checksum=${checksum}`)) as Record<string, unknown>);
  } catch (error) {
    throw new InvalidConfigError(`Cannot load the migration module ${JSON.stringify(path)}`, { cause: error });
  }
  const fallback = loaded.default as Record<string, unknown> | undefined;
  const up = typeof loaded.up === 'function' ? loaded.up : fallback?.up;
  if (typeof up !== 'function') {
    throw new InvalidConfigError(`The migration module ${JSON.stringify(path)} must export a function up(client)`);
  }
  return {
    name: file.slice(0, -extname(file).length),
    checksum,
    up: (client) => Promise.resolve(up(client)),
  };
}

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * A TypeScript migration through jiti, on any Node.js the package supports (Node's own type
 * stripping needs 22.18+), loaded afresh each time (no module cache, no file cache).
 */
async function importTypeScript(path: string): Promise<Record<string, unknown>> {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(path, { moduleCache: false, fsCache: false });
  return jiti.import<Record<string, unknown>>(path);
}

/** Turns any accepted migrations input into a source. */
export function toMigrationSource(input: string | readonly Migration[] | MigrationSource | undefined): MigrationSource {
  if (input === undefined) return { load: async () => [] };
  if (typeof input === 'string') return folderMigrations(input);
  if (Array.isArray(input)) {
    const list = input as readonly Migration[];
    return { load: async () => orderMigrations(list) };
  }
  if (typeof (input as MigrationSource).load === 'function') {
    const source = input as MigrationSource;
    return { load: async () => orderMigrations(await source.load()) };
  }
  throw new InvalidConfigError('migrations must be a folder path, an array of migrations or a { load() } source');
}
