/**
 * The tenant registry's interface, shared by the PostgreSQL registry and the in-memory one.
 *
 * @module
 */
import type { Migration } from '../migrate/migration.js';
import type { Tenant, TenantDomain, TenantStatus } from '../types.js';

/**
 * What `registry.create` takes.
 *
 * @example
 * ```ts
 * await tenancy.registry.create({ id: 'acme', name: 'Acme Inc.', domains: ['acme.example.com'], metadata: { plan: 'pro' } });
 * ```
 */
export interface CreateTenantInput {
  /** A DNS label: 1 to 63 of `a-z`, `0-9`, `-`, no hyphen at either end. */
  readonly id: string;
  /** Display name; defaults to the id. */
  readonly name?: string;
  /** Overrides the derived schema name (must be a safe, unused schema name). */
  readonly schema?: string;
  readonly status?: TenantStatus;
  readonly placement?: string;
  readonly metadata?: Record<string, unknown>;
  /** Domains that resolve to the tenant; the first is the primary one. */
  readonly domains?: readonly string[];
}

/**
 * What `registry.update` changes. Fields left out stay as they are; `metadata` is replaced whole.
 *
 * @example
 * ```ts
 * await tenancy.registry.update('acme', { name: 'Acme GmbH' });
 * ```
 */
export interface UpdateTenantInput {
  readonly name?: string;
  readonly placement?: string;
  readonly metadata?: Record<string, unknown>;
}

/**
 * Which tenants `registry.list` returns: pages ordered by id, `after` the last id of the previous page.
 *
 * @example
 * ```ts
 * let page = await tenancy.registry.list({ status: 'active', limit: 100 });
 * while (page.next) page = await tenancy.registry.list({ status: 'active', limit: 100, after: page.next });
 * ```
 */
export interface ListTenantsInput {
  readonly status?: TenantStatus | undefined;
  /** At most this many (1 to 1000, default 100). */
  readonly limit?: number | undefined;
  /** Return tenants whose id sorts after this one (pass the previous page's `next`). */
  readonly after?: string | undefined;
}

/** One page of tenants; `next` is the cursor of the next page, `undefined` on the last. */
export interface TenantPage {
  /** The tenants of this page, ordered by id. */
  readonly tenants: readonly Tenant[];
  /** Pass as `after` to get the next page; `undefined` on the last one. */
  readonly next: string | undefined;
}

/**
 * Where one tenant's schema stands after a migration run, as a fleet run records it.
 *
 * @example
 * ```ts
 * const record: MigrationRecord = { id: 'acme', version: '011_products_note.sql', digest: 'e3b0c442…' };
 * ```
 */
export interface MigrationRecord {
  readonly id: string;
  /** The last migration of the set, `null` for an empty set. */
  readonly version: string | null;
  /** The fingerprint of the migration set the schema is at. */
  readonly digest: string;
}

/**
 * The tenant registry: tenants, their domains and status. `create` provisions the tenant's
 * schema and runs the tenant migrations in the same transaction.
 *
 * @example
 * ```ts
 * const acme = await tenancy.registry.create({ id: 'acme', name: 'Acme' });
 * await tenancy.registry.suspend('acme');
 * await tenancy.registry.delete('acme', { dropSchema: true });
 * ```
 */
export interface TenantRegistry {
  /**
   * Creates the tenant: its schema, the tenant migrations and the registry row (and domains) in
   * one transaction. Throws `TenantExistsError` when the id, the schema or a domain is taken.
   */
  create(input: CreateTenantInput): Promise<Tenant>;
  /**
   * Creates the tenant unless one with that id exists, for seeds and start-up code that runs
   * more than once. An existing tenant is returned as it is stored, even when its name,
   * domains, status or metadata differ from `input`: `ensure` never changes a tenant (use
   * `update` and `addDomain` for that). Concurrent ensures of one id all return the one tenant.
   * The input is checked first either way; a domain or schema another tenant holds still
   * throws `TenantExistsError`.
   *
   * @example
   * ```ts
   * const acme = await tenancy.registry.ensure({ id: 'acme', name: 'Acme', domains: ['shop.acme.com'] });
   * ```
   */
  ensure(input: CreateTenantInput): Promise<Tenant>;
  /** The tenant, or `undefined` when none has that id (an invalid id also gives `undefined`). */
  get(id: string): Promise<Tenant | undefined>;
  /** The tenant a domain points at, or `undefined`. */
  getByDomain(domain: string): Promise<Tenant | undefined>;
  /** One page of tenants, ordered by id. */
  list(input?: ListTenantsInput): Promise<TenantPage>;
  /** Changes the name, placement or metadata; throws `TenantNotFoundError` for an unknown id. */
  update(id: string, input: UpdateTenantInput): Promise<Tenant>;
  /** Marks the tenant suspended: `tenancy.run` and the adapters refuse it (403) until `resume`. */
  suspend(id: string): Promise<Tenant>;
  /** Makes a suspended tenant active again. */
  resume(id: string): Promise<Tenant>;
  /** Removes the tenant; its schema stays unless `dropSchema` is true. */
  delete(id: string, options?: { dropSchema?: boolean }): Promise<void>;
  /** Adds a domain that resolves to the tenant; `primary: true` makes it the primary one. */
  addDomain(id: string, domain: string, options?: { primary?: boolean }): Promise<TenantDomain>;
  /** Removes a domain; throws `TenantNotFoundError` when no tenant has it. */
  removeDomain(domain: string): Promise<void>;
  /** The tenant's domains, the primary one first. */
  domains(id: string): Promise<readonly TenantDomain[]>;
  /** Tenants whose recorded migration fingerprint differs from `digest` (they have work to do). */
  listStale(digest: string, options?: { only?: readonly string[] }): Promise<readonly Tenant[]>;
  /** Records where a tenant's schema stands after a migration run. */
  recordMigration(id: string, state: { version: string | null; digest: string }): Promise<void>;
  /**
   * Records where several tenants' schemas stand, in one write (a fleet run's batch). A registry
   * without it gets one {@link TenantRegistry.recordMigration} call per tenant.
   */
  recordMigrations?(records: readonly MigrationRecord[]): Promise<void>;
  /** Tables the registry keeps in the shared schema, created by `tenancy.migrate.shared()` first. */
  sharedMigrations?(): readonly Migration[];
}
