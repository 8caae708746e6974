/**
 * The shapes tenantry passes around.
 *
 * @module
 */

/**
 * Whether a tenant's requests are served (`active`), refused (`suspended`), or served with their
 * writes paused while `tenancy.move` takes the tenant to another server (`moving`).
 */
export type TenantStatus = 'active' | 'suspended' | 'moving';

/**
 * A tenant: a plain frozen object.
 *
 * @example
 * ```ts
 * const acme: Tenant = await tenancy.registry.create({ id: 'acme', name: 'Acme' });
 * acme.schema; // 'tenant_acme'
 * ```
 */
export interface Tenant {
  /** The tenant id: a DNS label (`a-z`, `0-9`, `-`), also usable as a subdomain. */
  readonly id: string;
  /** A display name. */
  readonly name: string;
  /** The PostgreSQL schema that holds the tenant's tables. */
  readonly schema: string;
  readonly status: TenantStatus;
  /** The server (shard) that holds the tenant; `default` unless placed elsewhere. */
  readonly placement: string;
  /** Free-form data of the app's (plan, region, settings). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The name of the last tenant migration applied to the tenant's schema, or `null`. */
  readonly migrationVersion: string | null;
  /**
   * Where this tenant lives when that is not where its tenancy's strategy puts tenants: `'schema'`
   * for a tenant of a row-level tenancy moved into a schema of its own (`tenancy.move(id, {
   * strategy: 'schema' })`); `null` (or absent, in a hand-made Tenant) when it lives where the
   * tenancy's strategy says.
   */
  readonly strategy?: 'schema' | 'rls' | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * A domain that points at a tenant (`acme.example.com`, `shop.acme.com`).
 *
 * @example
 * ```ts
 * await tenancy.registry.addDomain('acme', 'shop.acme.com', { primary: true });
 * ```
 */
export interface TenantDomain {
  readonly domain: string;
  readonly tenantId: string;
  readonly primary: boolean;
}
