/**
 * The isolation strategies a tenancy can use.
 *
 * @module
 */

/**
 * How a tenancy keeps tenants apart: a schema per tenant (`'schema'`, the default), shared
 * tables with a tenant column under row-level security (`'rls'`), or a database per tenant
 * (`'database'`).
 *
 * @example
 * ```ts
 * const strategy: TenancyStrategy = 'database';
 * ```
 */
export type TenancyStrategy = 'schema' | 'rls' | 'database';
