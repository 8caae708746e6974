/**
 * Where a tenant's data lives, as the rest of tenantry asks it: the pool its queries,
 * migrations and backups use, and whether its provisioning runs outside the registry's
 * transaction. Made once per tenancy from its strategy and servers.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import type { DetachedPlacements, DetachedProvisioner } from './detached-provisioner.js';
import type { Servers } from './servers.js';

/** A tenant as placement sees it. */
export interface PlacedTenant {
  readonly id: string;
  readonly schema: string;
  readonly placement: string;
}

/**
 * A tenancy's placement of tenants.
 *
 * @example
 * ```ts
 * declare const placement: TenantPlacement;
 * const pool = await placement.poolOf({ id: 'acme', schema: 'tenant_acme', placement: 'eu' });
 * ```
 */
export interface TenantPlacement extends DetachedPlacements {
  /** Whether any tenant may live elsewhere than on the registry's server. */
  readonly spread: boolean;
  /** The pool of the server (or database) that holds the tenant; the registry's pool for the registry's server. */
  poolOf(tenant: PlacedTenant): Promise<PoolLike>;
  /**
   * tenantPool's routing: the pool of a tenant that lives elsewhere, `undefined` for one on the
   * registry's server (tenantPool's own pool). Synchronous.
   */
  routeOf(tenant: PlacedTenant): PoolLike | undefined;
  /** The pools of the servers other than the registry's (shared migrations run on each). */
  otherPools(): Promise<readonly PoolLike[]>;
  /** Ends the pools the placement made. */
  close(): Promise<void>;
}

/**
 * The placement over a tenancy's servers: a schema per tenant on the server its placement names.
 *
 * @example
 * ```ts
 * declare const servers: import('./servers.js').Servers;
 * declare const provisionerOn: (server: string, pool: () => Promise<import('../db.js').PoolLike>) => import('./detached-provisioner.js').DetachedProvisioner;
 * const placement = serverPlacement(servers, pool, provisionerOn);
 * ```
 */
export function serverPlacement(
  servers: Servers,
  homePool: PoolLike | undefined,
  provisionerOn: (server: string, pool: () => Promise<PoolLike>) => DetachedProvisioner | undefined,
): TenantPlacement {
  const provisioners = new Map<string, DetachedProvisioner | undefined>();
  const requireHome = (): PoolLike => {
    if (homePool === undefined) throw new Error('tenantry: no pool for the registry server');
    return homePool;
  };
  return {
    spread: servers.placed,
    async poolOf(tenant) {
      const name = servers.nameOf(tenant.placement);
      return name === undefined ? requireHome() : servers.pool(name);
    },
    routeOf(tenant) {
      const name = servers.nameOf(tenant.placement);
      if (name === undefined) return undefined;
      const pool = servers.poolNow(name);
      if (pool === undefined) throw new Error(`tenantry: server ${name} has no pool yet`);
      return pool;
    },
    detached(placement) {
      const name = servers.nameOf(placement);
      if (name === undefined) return undefined;
      if (!provisioners.has(name)) provisioners.set(name, provisionerOn(name, () => servers.pool(name)));
      return provisioners.get(name);
    },
    async otherPools() {
      return Promise.all(servers.names.filter((name) => !servers.isHome(name)).map((name) => servers.pool(name)));
    },
    close: () => servers.close(),
  };
}
