/**
 * Builds the tenancy a command works on: the config file, the flags and the environment,
 * merged; a pg.Pool on the database; the migration sources.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type * as Pg from 'pg';
import type { PoolLike } from '../db.js';
import type { Migration, MigrationsInput } from '../migrate/migration.js';
import type { Tenancy } from '../tenancy.js';
import { createTenancy } from '../tenancy.js';
import { ConfigError } from './cli-error.js';
import type { DatabaseTarget } from './database-target.js';
import { databaseTarget } from './database-target.js';
import type { TenantryConfig } from './define-config.js';
import { loadConfig } from './load-config.js';

/**
 * The global options that say where the database and the migrations are.
 *
 * @example
 * ```ts
 * const options: ConnectionOptions = { databaseUrl: 'postgres://postgres@127.0.0.1/app', tenantMigrations: './migrations/tenant' };
 * ```
 */
export interface ConnectionOptions {
  readonly config?: string | undefined;
  readonly databaseUrl?: string | undefined;
  readonly sharedMigrations?: string | undefined;
  readonly tenantMigrations?: string | undefined;
  readonly sharedSchema?: string | undefined;
  readonly schemaPrefix?: string | undefined;
}

/**
 * What a command works on.
 *
 * @example
 * ```ts
 * declare const settings: ResolvedSettings;
 * const cli: CliTenancy = await openTenancy(settings, { poolSize: 5 });
 * const pending = await cli.tenantMigrations();
 * ```
 */
export interface CliTenancy {
  readonly tenancy: Tenancy;
  readonly pool: PoolLike;
  readonly sharedSchema: string;
  /** Where the pool connects, for messages. */
  readonly target: DatabaseTarget | undefined;
  /** Whether any shared or tenant migrations are configured. */
  readonly hasMigrations: boolean;
  /** The config's `tenantPool.mode`: how the app scopes its connections. */
  readonly poolMode: 'session' | 'transaction';
  /** The whole shared set, as `migrate.shared()` applies it: the registry tables, then the app's. */
  sharedMigrations(): Promise<readonly Migration[]>;
  tenantMigrations(): Promise<readonly Migration[]>;
  /** Ends the pool. */
  close(): Promise<void>;
}

/**
 * The merged settings, before any connection.
 *
 * @example
 * ```ts
 * const settings: ResolvedSettings = await resolveSettings({ config: 'tenantry.config.ts' }, process.cwd(), process.env);
 * settings.configPath; // '/app/tenantry.config.ts'
 * ```
 */
export interface ResolvedSettings {
  readonly configPath: string | undefined;
  readonly config: TenantryConfig;
  readonly connectionString: string | undefined;
  readonly target: DatabaseTarget | undefined;
}

/**
 * Reads the config file and merges it with the flags and the environment. The database is
 * `--database-url`, else the config's `connectionString`, `databaseUrl` or `pool`, else
 * `DATABASE_URL`; a flag for migrations or schemas overrides the config's value.
 * Throws {@link ConfigError} when no database is named.
 *
 * @example
 * ```ts
 * const settings = await resolveSettings({ databaseUrl: undefined }, process.cwd(), process.env);
 * settings.target; // { host: '127.0.0.1', port: 5432, database: 'app', user: 'postgres' }
 * ```
 */
export async function resolveSettings(
  options: ConnectionOptions,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ResolvedSettings> {
  const loaded = await loadConfig(cwd, options.config);
  const fromFile = loaded?.config ?? {};
  checkConfigValues(fromFile, loaded?.path);
  const base = loaded === undefined ? cwd : dirname(loaded.path);
  const migrations = {
    ...relativeTo(base, fromFile.migrations),
    ...(options.sharedMigrations === undefined ? {} : { shared: resolve(cwd, options.sharedMigrations) }),
    ...(options.tenantMigrations === undefined ? {} : { tenant: resolve(cwd, options.tenantMigrations) }),
  };
  const config: TenantryConfig = {
    ...fromFile,
    migrations,
    ...(options.sharedSchema === undefined ? {} : { sharedSchema: options.sharedSchema }),
    ...(options.schemaPrefix === undefined ? {} : { schemaPrefix: options.schemaPrefix }),
  };
  const connectionString = nonEmpty(options.databaseUrl) ?? nonEmpty(fromFile.connectionString) ?? nonEmpty(fromFile.databaseUrl);
  const url = connectionString ?? (fromFile.pool === undefined ? nonEmpty(env.DATABASE_URL) : undefined);
  if (url === undefined && fromFile.pool === undefined) {
    throw new ConfigError(
      loaded === undefined
        ? 'No database and no config file: set DATABASE_URL, pass --database-url, or run tenantry init to write tenantry.config.ts'
        : `No database: set DATABASE_URL, pass --database-url, or set connectionString in ${loaded.path}`,
    );
  }
  return { configPath: loaded?.path, config, connectionString: url, target: databaseTarget(url ?? fromFile.pool) };
}

/**
 * Connects: creates the pg.Pool (or takes the config's), checks that the database answers, and
 * creates the tenancy. The pool holds `poolSize` connections at most.
 *
 * @example
 * ```ts
 * declare const options: ConnectionOptions;
 * declare const cwd: string;
 * declare const env: NodeJS.ProcessEnv;
 * const cli = await openTenancy(await resolveSettings(options, cwd, env), { poolSize: 5 });
 * try {
 *   await cli.tenancy.migrate.shared();
 * } finally {
 *   await cli.close();
 * }
 * ```
 */
export async function openTenancy(settings: ResolvedSettings, { poolSize }: { readonly poolSize: number }): Promise<CliTenancy> {
  const { config } = settings;
  if (config.registry === 'memory') {
    throw new ConfigError(`registry: 'memory' keeps tenants in one process; the tenantry command needs the PostgreSQL registry`);
  }
  const pool = settings.connectionString === undefined ? config.pool : await createPool(settings.connectionString, poolSize, config.poolOptions);
  if (pool === undefined) throw new ConfigError('No database: set DATABASE_URL or pass --database-url');
  const end = async (): Promise<void> => {
    await (pool as { end?: () => Promise<void> }).end?.();
  };
  try {
    await pool.query('SELECT 1');
    const { connectionString: _url, databaseUrl: _alias, poolOptions: _poolOptions, tenantPool: _tenantPool, ...options } = config;
    const tenancy = createTenancy({ ...options, pool, cache: false });
    return {
      tenancy,
      pool,
      sharedSchema: tenancy.sharedSchema,
      target: settings.target,
      poolMode: config.tenantPool?.mode ?? 'session',
      hasMigrations: config.migrations?.shared !== undefined || config.migrations?.tenant !== undefined,
      sharedMigrations: () => tenancy.migrate.sharedMigrations(),
      tenantMigrations: () => tenancy.migrate.tenantMigrations(),
      // A spare refill a create started finishes first (or it would lose its pool half-way).
      close: async () => {
        try {
          await tenancy.spares?.idle();
          await tenancy.close();
        } finally {
          await end();
        }
      },
    };
  } catch (error) {
    await end().catch(() => {});
    throw error;
  }
}

async function createPool(connectionString: string, poolSize: number, extra: Readonly<Record<string, unknown>> = {}): Promise<PoolLike> {
  let pg: typeof Pg;
  try {
    pg = await import('pg');
  } catch (error) {
    throw new ConfigError('The tenantry command needs the pg package: npm install pg', { cause: error });
  }
  const Pool = pg.Pool ?? (pg as unknown as { default: typeof Pg }).default.Pool;
  const pool = new Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    application_name: 'tenantry-cli',
    ...extra,
  });
  // An idle client's error (a restarted server) must not crash the command; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

function relativeTo(base: string, migrations: TenantryConfig['migrations']): { shared?: MigrationsInput; tenant?: MigrationsInput } {
  const result: { shared?: MigrationsInput; tenant?: MigrationsInput } = {};
  for (const key of ['shared', 'tenant'] as const) {
    const input = migrations?.[key];
    if (input !== undefined) result[key] = typeof input === 'string' && !isAbsolute(input) ? resolve(base, input) : input;
  }
  return result;
}

function checkConfigValues(config: TenantryConfig, path: string | undefined): void {
  const where = path === undefined ? 'the configuration' : path;
  for (const key of ['connectionString', 'databaseUrl'] as const) {
    const value: unknown = config[key];
    if (value !== undefined && typeof value !== 'string') throw new ConfigError(`${key} in ${where} must be a string, got ${typeof value}`);
  }
  const migrations: unknown = config.migrations;
  if (migrations !== undefined && (typeof migrations !== 'object' || migrations === null)) {
    throw new ConfigError(`migrations in ${where} must be { shared?, tenant? }, got ${typeof migrations}`);
  }
  const mode: unknown = config.tenantPool?.mode;
  if (mode !== undefined && mode !== 'session' && mode !== 'transaction') {
    throw new ConfigError(`tenantPool.mode in ${where} must be 'session' or 'transaction', got ${JSON.stringify(mode)}`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
