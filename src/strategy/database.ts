/**
 * The database strategy (`createTenancy({ strategy: 'database' })`): each tenant has a database
 * of its own, on the registry's server or on the server its placement names, named after its schema, with its tables in that schema
 * inside it, so tenantPool's search_path scoping and the tenant migrations work as they do for
 * a schema per tenant. Connections to tenant databases come from per-database pools under one
 * connection budget.
 *
 * @module
 */
import type pg from 'pg';
import type { PoolLike } from '../db.js';
import { InvalidConfigError } from '../errors.js';
import type { MigrationSource } from '../migrate/migration.js';
import { DatabasePools } from '../placement/database-pools.js';
import { databaseProvisioner } from '../placement/database-provisioner.js';
import type { DetachedProvisioner } from '../placement/detached-provisioner.js';
import type { PlacedTenant, TenantPlacement } from '../placement/placement.js';
import { lazyPool, type Servers } from '../placement/servers.js';
import { createProvisioner } from '../provision/provisioner.js';
import type { TenantRoleNames } from './tenant-roles.js';

/**
 * The `databases` option of `createTenancy` (strategy `'database'`).
 *
 * @example
 * ```ts
 * createTenancy({ pool, strategy: 'database', databases: { maxConnections: 20 } });
 * ```
 */
export interface DatabaseStrategyOptions {
  /**
   * The most connections open at once to tenant databases, across all of them (default 10).
   * A request for a tenant with no idle connection waits for a free one; idle connections of
   * the least recently used databases are closed to make room. The registry's `pool` is not
   * counted: it has its own `max`.
   */
  readonly maxConnections?: number;
}

/**
 * The database that holds a tenant under the database strategy: the tenant's schema name.
 *
 * @example
 * ```ts
 * tenantDatabase({ schema: 'tenant_acme' }); // 'tenant_acme'
 * ```
 */
export function tenantDatabase(tenant: { readonly schema: string }): string {
  return tenant.schema;
}

/** What {@link databasePlacement} needs. */
export interface DatabasePlacementOptions {
  /** The registry's pool: its connection settings are used with each tenant's database name. */
  readonly home: PoolLike;
  /** The tenancy's servers: a tenant placed on one has its database there (each server's pool or URL gives the connection settings). */
  readonly servers?: Servers | undefined;
  readonly sharedSchema: string;
  readonly tenantMigrations: MigrationSource;
  readonly roles: TenantRoleNames | undefined;
  readonly databases?: DatabaseStrategyOptions | undefined;
  /** Told of each pool it makes (tenantPool serves one tenant per such pool). */
  readonly onPool?: ((pool: object) => void) | undefined;
}

/**
 * The placement of the database strategy: every tenant's queries, migrations and provisioning
 * go to its own database, through per-database pools under one connection budget.
 *
 * @example
 * ```ts
 * declare const tenantMigrations: import('../migrate/migration.js').MigrationSource;
 * const placement = databasePlacement({ home: pool, sharedSchema: 'public', tenantMigrations, roles: undefined, databases: { maxConnections: 20 } });
 * const acmePool = await placement.poolOf({ id: 'acme', schema: 'tenant_acme', placement: 'default' });
 * ```
 */
export function databasePlacement(options: DatabasePlacementOptions): TenantPlacement {
  const { home, sharedSchema, tenantMigrations, roles } = options;
  const settings = (home as { options?: pg.PoolConfig }).options;
  if (typeof settings !== 'object' || settings === null) {
    throw new InvalidConfigError("createTenancy({ strategy: 'database' }) needs a pg.Pool as `pool`: its connection settings open the tenant databases");
  }
  const databases = options.databases ?? {};
  if (typeof databases !== 'object' || databases === null) {
    throw new InvalidConfigError('createTenancy databases must be an object: { maxConnections }');
  }
  const { servers } = options;
  const pools = new DatabasePools({
    settings,
    ...(servers === undefined ? {} : { serverSettings: (name: string) => serverSettings(servers, name) }),
    maxConnections: databases.maxConnections ?? 10,
    Client: (home as { Client?: typeof pg.Client }).Client,
    ...(options.onPool === undefined ? {} : { onPool: options.onPool }),
  });
  /** The server a placement names: `undefined` for the registry's; an unknown name throws `UnknownServerError`. */
  const serverOf = (placement: string): string | undefined => servers?.nameOf(placement);
  const poolOf = (tenant: PlacedTenant): PoolLike => pools.pool(tenantDatabase(tenant), serverOf(tenant.placement));
  const provisioners = new Map<string | undefined, DetachedProvisioner>();
  const provisionerOn = (server: string | undefined): DetachedProvisioner => {
    let provisioner = provisioners.get(server);
    if (provisioner === undefined) {
      provisioner = databaseProvisioner({
        home: server === undefined ? home : lazyPool(() => servers!.pool(server)),
        databaseOf: tenantDatabase,
        poolOf: (database) => pools.pool(database, server),
        forget: (database) => pools.forget(database, server),
        provisionerOf: (pool) => createProvisioner({ pool, sharedSchema, tenantMigrations, roles }),
      });
      provisioners.set(server, provisioner);
    }
    return provisioner;
  };
  return {
    spread: true,
    poolOf: async (tenant: PlacedTenant) => poolOf(tenant),
    routeOf: poolOf,
    detached: (placement) => provisionerOn(serverOf(placement)),
    // Shared tables live in the registry's database only.
    otherPools: async () => [],
    close: async () => {
      await pools.close();
      await servers?.close();
    },
  };
}

/** The connection settings of a server of `servers`: its URL, or its pg.Pool's settings. */
function serverSettings(servers: Servers, name: string): pg.PoolConfig {
  const input = servers.input(name);
  if (typeof input === 'string') return { connectionString: input };
  const settings = (input as { options?: pg.PoolConfig }).options;
  if (typeof settings !== 'object' || settings === null) {
    throw new InvalidConfigError(`createTenancy({ strategy: 'database' }) needs server ${name} as a pg.Pool or a URL: its connection settings open the tenant databases there`);
  }
  return settings;
}
