/**
 * A throwaway database with a unique name on a test server.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InvalidConfigError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { importOptional } from './optional-import.js';
import type * as Pg from 'pg';

/**
 * A database created for one test file or run. `url` connects to it.
 *
 * @example
 * ```ts
 * declare const serverUrl: string;
 * const db = await createTestDatabase({ serverUrl });
 * const pool = new pg.Pool({ connectionString: db.url });
 * // …
 * await pool.end();
 * await db.drop();
 * ```
 */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Options of {@link createTestDatabase}.
 *
 * @example
 * ```ts
 * await createTestDatabase({ serverUrl: process.env.DATABASE_URL!, prefix: 'myapp_test' });
 * ```
 */
export interface CreateTestDatabaseOptions {
  /** A superuser URL of the server (from `startTestServer()`). */
  readonly serverUrl: string;
  /** The start of the database name (default `tenantry_test`); a unique suffix is added. */
  readonly prefix?: string;
}

/**
 * Creates a database with a unique name (`<prefix>_<pid>_<random>`), so leftover state on a
 * shared server never matters, and returns its URL and a `drop()`.
 *
 * @example
 * ```ts
 * const server = await startTestServer();
 * const db = await createTestDatabase({ serverUrl: server.url });
 * ```
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions): Promise<TestDatabase> {
  const prefix = options.prefix ?? 'tenantry_test';
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) {
    throw new InvalidConfigError(`A test database prefix is 1 to 31 of a-z, 0-9 and "_", got ${JSON.stringify(prefix)}`);
  }
  const name = `${prefix}_${process.pid}_${randomBytes(6).toString('hex')}`;
  await adminQuery(options.serverUrl, `CREATE DATABASE ${quoteIdent(name)}`);
  const url = new URL(options.serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(options.serverUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  };
}

async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const pg = await importOptional<typeof Pg>('pg', 'to create test databases');
  const Client = pg.Client ?? (pg as unknown as { default: typeof Pg }).default.Client;
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
