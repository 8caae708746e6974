/**
 * What the adapters of this copy of tenantry may use of a tenancy made by this copy, beyond its
 * public interface. A tenancy from another copy has no entry, and the adapters use its public
 * (always asynchronous) methods instead.
 *
 * @module
 */
import type { TenantScope } from './context.js';
import type { RequestTenant, Tenancy } from './tenancy.js';
import type { TenantRequest, TenantResolver } from './resolvers/resolver.js';
import type { MaybePromise } from './util/maybe-promise.js';
import type { PoolLike } from './db.js';
import type { Servers } from './placement/servers.js';
import type { Tenant } from './types.js';

/** `resolveRequest` that answers synchronously when the resolver does and the tenant is cached. */
export type ResolveRequestNow = (request: TenantRequest, resolver?: TenantResolver) => MaybePromise<RequestTenant | null>;

/** The synchronous-when-possible request resolution of each tenancy made by this copy. */
export const resolveRequestNow = new WeakMap<Tenancy, ResolveRequestNow>();

/**
 * Runs `fn` in a scope captured earlier with `tenancy.scope()` (the very object, or none).
 *
 * @example
 * ```ts
 * declare const listener: (event: string) => void;
 * declare const event: string;
 * const scope = tenancy.scope();
 * // later, from another async context:
 * runInScope.get(tenancy)?.(scope, listener, event);
 * ```
 */
export type RunInScope = <A extends unknown[], R>(scope: TenantScope | undefined, fn: (...args: A) => R, ...args: A) => R;

/**
 * How each tenancy made by this copy runs a function in a captured scope.
 *
 * @example
 * ```ts
 * const run = runInScope.get(tenancy); // undefined for a tenancy of another copy of tenantry
 * ```
 */
export const runInScope = new WeakMap<Tenancy, RunInScope>();

/**
 * Where a tenant's queries go: the pool of the server (or database) that holds it, or
 * `undefined` for tenantPool's own pool (the registry's server). Must answer synchronously;
 * throws `UnknownServerError` for a placement no server has.
 *
 * @example
 * ```ts
 * declare const tenant: Tenant;
 * declare const ownPool: PoolLike;
 * const route = tenantRoutes.get(tenancy);
 * const pool = route?.(tenant) ?? ownPool;
 * ```
 */
export type TenantRoute = (tenant: Tenant) => PoolLike | undefined;

/** How each tenancy made by this copy routes a tenant's queries; no entry: everything on tenantPool's own pool. */
export const tenantRoutes = new WeakMap<Tenancy, TenantRoute>();

/**
 * The servers of each tenancy made by this copy (`createTenancy({ servers })`), for tenantPool
 * to hand its pool factory to.
 *
 * @example
 * ```ts
 * serversOf.get(tenancy)?.usePoolFactory((url) => new pg.Pool({ connectionString: url }));
 * ```
 */
export const serversOf = new WeakMap<Tenancy, Servers>();

/**
 * Pools that serve a single tenant (the database strategy's per-database pools): tenantPool
 * gives them no tenant affinity, which chooses among tenants sharing a pool.
 *
 * @example
 * ```ts
 * declare const pool: object;
 * singleTenantPools.add(pool);
 * ```
 */
export const singleTenantPools = new WeakSet<object>();
