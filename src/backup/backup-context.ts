/**
 * What backups, restores, clones and exports need of a tenancy.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import type { Migration } from '../migrate/migration.js';
import type { Provisioner } from '../provision/provisioner.js';
import type { TenantRegistry } from '../registry/registry.js';
import type { Tenant } from '../types.js';
import type { TenantPlacement } from '../placement/placement.js';

/**
 * The parts of a tenancy a backup or a restore works with; `createTenancy` builds it.
 *
 * @example
 * ```ts
 * declare const context: BackupContext;
 * await context.tenantMigrations(); // the app's tenant migrations, then tenantry's own
 * ```
 */
export interface BackupContext {
  readonly pool: PoolLike;
  /**
   * How the tenancy keeps tenants apart (default `schema`): a row-level tenant's backup is its
   * rows of the shared tables; a tenant database's, its schema in its database (`poolOf`).
   */
  readonly strategy?: 'schema' | 'rls' | 'database' | undefined;
  /** The pool of the server (or database) that holds a tenant, when tenants are spread; else `pool`. */
  readonly poolOf?: ((tenant: Tenant) => Promise<PoolLike>) | undefined;
  /** Where tenants live, when they are spread over servers: a restore provisions on the tenant's server. */
  readonly placement?: TenantPlacement | undefined;
  readonly registry: TenantRegistry;
  readonly sharedSchema: string;
  readonly schemaPrefix: string;
  /** Creates, migrates and grants tenant schemas; a restore provisions through it. */
  readonly provisioner: Provisioner;
  /** The tenant migrations, as the migrator applies them. */
  tenantMigrations(): Promise<readonly Migration[]>;
  /** Tells the lookup cache a tenant changed. */
  readonly onChange: (tenantId: string) => void;
}
