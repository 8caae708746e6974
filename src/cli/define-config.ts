/**
 * The configuration file of the `tenantry` command, and a helper that types it.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import type { TenancyOptions } from '../tenancy.js';

/**
 * What `tenantry.config.ts` (or `.mts`, `.js`, `.mjs`) default-exports: the options of
 * `createTenancy`, with a database URL instead of a pool. The command creates the pg.Pool
 * itself and ends it when it finishes. Relative migration folders are resolved against the
 * config file's folder.
 *
 * @example
 * ```ts
 * const config: TenantryConfig = {
 *   connectionString: process.env.DATABASE_URL,
 *   sharedSchema: 'public',
 *   migrations: { shared: './migrations/shared', tenant: './migrations/tenant' },
 * };
 * ```
 */
export interface TenantryConfig extends Omit<TenancyOptions, 'pool'> {
  /**
   * The database URL (`postgres://user:password@host:5432/db`). `--database-url` overrides it;
   * without either, the `DATABASE_URL` environment variable is used.
   */
  readonly connectionString?: string | undefined;
  /** Another name for {@link TenantryConfig.connectionString}. */
  readonly databaseUrl?: string | undefined;
  /**
   * How the app scopes its connections (`tenantPool(tenancy, pool, { mode })`): `tenantry doctor`
   * checks it against what the database URL goes through (a transaction pooler needs
   * `'transaction'`) and runs its leak probe with it. Default `'session'`.
   */
  readonly tenantPool?: { readonly mode?: 'session' | 'transaction' } | undefined;
  /** More options for the `pg.Pool` the command creates (`ssl`, `statement_timeout`, …). */
  readonly poolOptions?: Readonly<Record<string, unknown>>;
  /** A pool of your own instead of a URL; the command ends it when it finishes. */
  readonly pool?: PoolLike & {
    /** Closes the pool's connections (pg.Pool's `end`). */
    end?(): Promise<void>;
  };
}

/**
 * A configuration, or a function (possibly async) that returns one when the command starts.
 *
 * @example
 * ```ts
 * declare function readSecret(name: string): Promise<string>;
 * const input: TenantryConfigInput = async () => ({ connectionString: await readSecret('db-url') });
 * ```
 */
export type TenantryConfigInput = TenantryConfig | (() => TenantryConfig | Promise<TenantryConfig>);

/**
 * Every key a {@link TenantryConfig} may have, sorted. The command refuses a config file with any
 * other key, naming it and these.
 *
 * @example
 * ```ts
 * CONFIG_KEYS.includes('migrations'); // true
 * ```
 */
export const CONFIG_KEYS = [
  'audit',
  'cache',
  'connectionString',
  'databaseUrl',
  'databases',
  'migrations',
  'pool',
  'poolOptions',
  'registry',
  'resolver',
  'schemaPrefix',
  'servers',
  'sharedSchema',
  'spares',
  'strategy',
  'tenantPool',
  'tenantRoles',
  'tenants',
] as const satisfies readonly (keyof TenantryConfig)[];

// A key added to TenantryConfig (or to TenancyOptions) without a place in CONFIG_KEYS fails here.
type MissingConfigKeys = Exclude<keyof TenantryConfig, (typeof CONFIG_KEYS)[number]>;
const allConfigKeysListed: [MissingConfigKeys] extends [never] ? true : { readonly 'add to CONFIG_KEYS': MissingConfigKeys } = true;
void allConfigKeysListed;

/**
 * A function that returns a configuration (possibly async), as {@link defineConfig} accepts it.
 *
 * @example
 * ```ts
 * declare function readSecret(name: string): Promise<string>;
 * const load: TenantryConfigFunction = async () => ({ connectionString: await readSecret('db-url') });
 * ```
 */
export type TenantryConfigFunction = () => TenantryConfig | Promise<TenantryConfig>;

/**
 * `F` when the object it returns has only keys of {@link TenantryConfig}; otherwise a type no
 * function matches, which names the unknown keys in the compiler's message.
 *
 * @example
 * ```ts
 * type Checked = KnownConfigKeysOnly<() => { connectionString: string }>; // () => { connectionString: string }
 * ```
 */
export type KnownConfigKeysOnly<F extends TenantryConfigFunction> = [UnknownConfigKeys<F>] extends [never]
  ? F
  : { readonly 'tenantry: unknown config keys': UnknownConfigKeys<F> };

/**
 * The keys of what `F` returns that are not options of {@link TenantryConfig}.
 *
 * @example
 * ```ts
 * type Extra = UnknownConfigKeys<() => { sharedSchema: string; shemaPrefix: string }>; // 'shemaPrefix'
 * ```
 */
export type UnknownConfigKeys<F extends TenantryConfigFunction> = Exclude<keyof Awaited<ReturnType<F>>, keyof TenantryConfig>;

/**
 * Types a `tenantry.config.ts`: returns what it is given, so an editor checks and completes it.
 * A key that is not an option is a type error, in the object and in what a function returns;
 * the command also refuses it at run time.
 *
 * @example
 * ```ts
 * // tenantry.config.ts
 * import { defineConfig } from 'tenantry';
 *
 * export default defineConfig({
 *   connectionString: process.env.DATABASE_URL,
 *   migrations: { shared: './migrations/shared', tenant: './migrations/tenant' },
 * });
 * ```
 */
export function defineConfig(config: TenantryConfig): TenantryConfig;
export function defineConfig<F extends TenantryConfigFunction>(config: F & KnownConfigKeysOnly<F>): F;
export function defineConfig(config: TenantryConfigInput): TenantryConfigInput {
  return config;
}
