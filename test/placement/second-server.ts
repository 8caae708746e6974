/**
 * A second PostgreSQL server for a test file: an embedded PostgreSQL 18 started for the file,
 * with a throwaway database and a pool on it, all gone after the file.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from '../../src/testing/index.js';

/** The second server's database: read `.pool` and `.url` inside tests or hooks. */
export function useSecondServer(max = 8): { pool: pg.Pool; url: string } {
  const handle = {} as { pool: pg.Pool; url: string };
  let server: TestServer | undefined;
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    server = await startTestServer({ order: ['embedded'] });
    database = await createTestDatabase({ serverUrl: server.url });
    handle.url = database.url;
    handle.pool = new pg.Pool({ connectionString: database.url, max });
    handle.pool.on('error', () => {});
  }, 180_000);
  afterAll(async () => {
    await handle.pool?.end();
    await database?.drop();
    await server?.stop();
  }, 60_000);
  return handle;
}
