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
 * Types a `tenantry.config.ts`: returns what it is given, so an editor checks and completes it.
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
export function defineConfig<T extends TenantryConfigInput>(config: T): T {
  return config;
}
