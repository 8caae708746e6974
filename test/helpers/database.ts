import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/index.js';

/** The server URL the global setup found. */
export function serverUrl(): string {
  return inject('databaseServerUrl');
}

let roleFiles = 0;

/**
 * Gives a test file its own freshly created database and a pool on it, dropped after the file.
 * Read `.pool` and `.url` inside tests or hooks (they are set in beforeAll). `rolePrefix` is a
 * tenant-roles prefix of the file's own (role names are cluster-wide); roles that start with it
 * are dropped after the database. A file whose tenant roles use another prefix names it with
 * `dropRolesAfter(prefix)`: such roles hold grants in this database (its shared schema), so
 * DROP ROLE fails until the database is gone, and a file's own afterAll runs before this one.
 */
export function useTestDatabase(poolOptions: pg.PoolConfig = {}): TestDatabaseHandle {
  roleFiles += 1;
  const rolePrefix = `t${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}${roleFiles}_`;
  const prefixes = [rolePrefix];
  const handle = { rolePrefix, dropRolesAfter: (prefix: string) => void prefixes.push(prefix) } as TestDatabaseHandle;
  beforeAll(async () => {
    handle.database = await createTestDatabase({ serverUrl: serverUrl() });
    handle.url = handle.database.url;
    handle.pool = new pg.Pool({ connectionString: handle.url, max: 10, ...poolOptions });
    // Dropping the database at teardown (WITH FORCE) ends idle connections pool.end() has not closed yet.
    handle.pool.on('error', () => {});
  });
  afterAll(async () => {
    await handle.pool?.end();
    await handle.database?.drop();
    for (const prefix of prefixes) await dropRoles(prefix);
  });
  return handle;
}

export interface TestDatabaseHandle {
  pool: pg.Pool;
  url: string;
  database: TestDatabase;
  rolePrefix: string;
  /** Drops the roles that start with `prefix` too, after the database (see useTestDatabase). */
  dropRolesAfter(prefix: string): void;
}

/** Drops the roles whose names start with `prefix` (the test databases that used them are gone). */
export async function dropRoles(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT rolname AS name FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
    for (const { name } of rows) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(name)}`).catch(() => undefined);
  } finally {
    await client.end();
  }
}

/** Runs one statement on the server's own connection (outside any test database's pool) and returns its rows. */
export async function serverQuery<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
