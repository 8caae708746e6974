import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../src/testing/index.js';

/** The server URL the global setup found. */
export function serverUrl(): string {
  return inject('databaseServerUrl');
}

/**
 * Gives a test file its own freshly created database and a pool on it, dropped after the file.
 * Read `.pool` and `.url` inside tests or hooks (they are set in beforeAll).
 */
export function useTestDatabase(poolOptions: pg.PoolConfig = {}): { pool: pg.Pool; url: string; database: TestDatabase } {
  const handle = {} as { pool: pg.Pool; url: string; database: TestDatabase };
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
  });
  return handle;
}
