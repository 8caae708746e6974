/**
 * A database per tenant, provisioned outside the registry's transaction (CREATE DATABASE runs
 * in none): the database is created and marked unfinished, the tenant's schema is migrated in
 * it, and the mark is cleared once the registry row has committed. A failure drops the database;
 * a crash leaves a marked database that the next create of the tenant drops and redoes.
 *
 * @module
 */
import type { PoolLike, Queryable } from '../db.js';
import { sqlState, withTransaction } from '../db.js';
import { TenantExistsError } from '../errors.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import type { Provisioner } from '../provision/provisioner.js';
import { dropTenantRole } from '../provision/tenant-role-grants.js';
import type { DetachedProvisioner, DetachedTenant } from './detached-provisioner.js';
import { UNFINISHED } from './placed-provisioner.js';

/** What {@link databaseProvisioner} needs. */
export interface DatabaseProvisionerOptions {
  /** A pool on the registry's database: CREATE, COMMENT ON and DROP DATABASE run there. */
  readonly home: PoolLike;
  /** The database of a tenant. */
  databaseOf(tenant: DetachedTenant): string;
  /** The pool of a tenant database. */
  poolOf(database: string): PoolLike;
  /** Ends the pool of a database before it is dropped. */
  forget(database: string): Promise<void>;
  /** Makes the schema provisioner that works inside a tenant's database. */
  provisionerOf(pool: PoolLike): Provisioner;
}

/**
 * Drops a tenant database, first ending tenantry's own connections to it; `WITH (FORCE)` ends
 * anyone else's (PostgreSQL 13 and later; older servers get the backends terminated first).
 *
 * @example
 * ```ts
 * await dropDatabase(pool, 'tenant_acme');
 * ```
 */
export async function dropDatabase(home: Queryable, database: string): Promise<void> {
  const name = quoteIdent(database);
  try {
    await home.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (error) {
    if (sqlState(error) !== '42601') throw error;
    await home.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    await home.query(`DROP DATABASE IF EXISTS ${name}`);
  }
}

/**
 * Marks a tenant database unfinished, or (with `null`) finished.
 *
 * @example
 * ```ts
 * await markDatabase(pool, 'tenant_acme', null);
 * ```
 */
export async function markDatabase(home: Queryable, database: string, note: string | null): Promise<void> {
  await home.query(`COMMENT ON DATABASE ${quoteIdent(database)} IS ${note === null ? 'NULL' : quoteLiteral(note)}`);
}

/**
 * Provisions a database per tenant on the registry's server.
 *
 * @example
 * ```ts
 * import { createProvisioner } from '../provision/provisioner.js';
 * declare const pools: import('./database-pools.js').DatabasePools;
 * declare const tenantMigrations: import('../migrate/migration.js').MigrationSource;
 * const provisioner = databaseProvisioner({
 *   home: pool,
 *   databaseOf: (tenant) => tenant.schema,
 *   poolOf: (database) => pools.pool(database),
 *   forget: (database) => pools.forget(database),
 *   provisionerOf: (onDatabase) => createProvisioner({ pool: onDatabase, sharedSchema: 'public', tenantMigrations }),
 * });
 * ```
 */
export function databaseProvisioner(options: DatabaseProvisionerOptions): DetachedProvisioner {
  const { home } = options;
  const drop = async (database: string): Promise<void> => {
    await options.forget(database);
    await dropDatabase(home, database);
  };
  /** Drops an unfinished leftover of a crashed attempt; refuses any other database of that name. */
  const clearLeftover = async (tenant: DetachedTenant, database: string): Promise<void> => {
    const { rows } = await home.query<{ note: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [database]);
    if (rows[0] === undefined) return;
    if (rows[0].note !== UNFINISHED) throw new TenantExistsError(tenant.id, `database "${database}" already exists`);
    await drop(database);
  };
  const create = async (tenant: DetachedTenant, database: string): Promise<void> => {
    try {
      await home.query(`CREATE DATABASE ${quoteIdent(database)}`);
    } catch (error) {
      if (sqlState(error) === '42P04') throw new TenantExistsError(tenant.id, `database "${database}" already exists`, { cause: error });
      throw error;
    }
  };
  const onDatabase = async <R>(database: string, fn: (client: Queryable, provisioner: Provisioner) => Promise<R>): Promise<R> => {
    const pool = options.poolOf(database);
    const provisioner = options.provisionerOf(pool);
    return withTransaction(pool, (client) => fn(client, provisioner));
  };
  const dropRole = async (tenant: DetachedTenant): Promise<void> => {
    const roles = options.provisionerOf(home).roles;
    if (roles !== undefined) await dropTenantRole(home, roles, tenant, { schemaDropped: true });
  };
  const provisionWith = async <R>(tenant: DetachedTenant, build: (client: Queryable, provisioner: Provisioner) => Promise<R>): Promise<R> => {
    const database = options.databaseOf(tenant);
    await clearLeftover(tenant, database);
    await create(tenant, database);
    try {
      await markDatabase(home, database, UNFINISHED);
      return await onDatabase(database, build);
    } catch (error) {
      await drop(database).catch(() => undefined);
      await dropRole(tenant).catch(() => undefined);
      throw error;
    }
  };
  return {
    provision: (tenant, plan) => provisionWith(tenant, (client, provisioner) => provisioner.provision(client, tenant, plan)),
    provisionWith,
    finish: (tenant) => markDatabase(home, options.databaseOf(tenant), null),
    async undo(tenant) {
      await drop(options.databaseOf(tenant));
      await dropRole(tenant);
    },
    async remove(tenant, { dropSchema }) {
      const database = options.databaseOf(tenant);
      if (!dropSchema) {
        await onDatabase(database, (client, provisioner) => provisioner.remove(client, tenant, { dropSchema: false }));
        return;
      }
      await drop(database);
      await dropRole(tenant);
    },
  };
}
