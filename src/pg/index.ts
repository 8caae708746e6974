/**
 * `tenantry/pg`: a pg.Pool wrapper that scopes every query to the active tenant.
 *
 * @example
 * ```ts
 * import { tenantPool } from 'tenantry/pg';
 * const db = tenantPool(tenancy, pool);
 * await tenancy.run('acme', () => db.query('select * from products'));
 * ```
 *
 * @module
 */
export { tenantPool, TenantPool } from './tenant-pool.js';
export type { TenantPoolOptions, ConnectCallback } from './tenant-pool.js';
export type { AffinityOptions, AffinityStatistics } from './tenant-affinity.js';
export type { QueryInput, QueryCallback } from './tenant-client.js';
export type { Submittable } from './scoped-query.js';
export { TenantClient } from './tenant-client.js';
