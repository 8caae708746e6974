/**
 * Provisioning that cannot share the registry's transaction: a tenant schema on another server,
 * or a tenant database (CREATE DATABASE runs outside any transaction). The registry keeps it
 * atomic in effect with a marker: the provisioned schema or database carries an "unfinished"
 * mark until the registry row has committed, and an unfinished leftover of a crashed attempt is
 * dropped by the next attempt for the same tenant.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import type { MigrationMark, ProvisionPlan, Provisioner } from '../provision/provisioner.js';

/** The tenant a detached provisioner works on. */
export interface DetachedTenant {
  readonly id: string;
  readonly schema: string;
  readonly placement: string;
}

/**
 * Provisions tenants outside the registry's transaction. The registry calls, for a create:
 * `provision` inside its open transaction, after the tenant's row is inserted (so no committed
 * row of that id exists while it runs, and a concurrent create of the id waits); then either
 * `finish` once the registry committed, or `undo` when the registry could not commit.
 *
 * @example
 * ```ts
 * declare const detached: DetachedProvisioner;
 * const mark = await detached.provision({ id: 'acme', schema: 'tenant_acme', placement: 'eu' });
 * await detached.finish({ id: 'acme', schema: 'tenant_acme', placement: 'eu' });
 * ```
 */
export interface DetachedProvisioner {
  /**
   * Creates and migrates the tenant's schema (or database), committed on its own server and
   * marked unfinished. An unfinished leftover of an earlier attempt for this tenant is dropped
   * first; anything else in the way is a `TenantExistsError`. A failure leaves nothing behind.
   */
  provision(tenant: DetachedTenant, plan?: ProvisionPlan): Promise<MigrationMark>;
  /**
   * Provisions as `provision` does, but the schema is built by `build` (a restore loads an
   * archive into it): `build` runs inside the open transaction on the tenant's server (or
   * database) with the provisioner working there, and must create the tenant's schema.
   */
  provisionWith<R>(tenant: DetachedTenant, build: (client: Queryable, provisioner: Provisioner) => Promise<R>): Promise<R>;
  /** Clears the unfinished mark, after the registry row committed. */
  finish(tenant: DetachedTenant): Promise<void>;
  /** Drops what `provision` made, when the registry row could not commit. */
  undo(tenant: DetachedTenant): Promise<void>;
  /** Undoes a registered tenant's provisioning after its registry row is deleted: its role, and with `dropSchema` its schema (or database). */
  remove(tenant: DetachedTenant, options: { readonly dropSchema: boolean }): Promise<void>;
}

/**
 * Which tenants a registry provisions outside its transaction: `undefined` for a placement whose
 * tenants are provisioned in the registry's own transaction (on the registry's server).
 *
 * @example
 * ```ts
 * declare const euProvisioner: DetachedProvisioner;
 * const placements: DetachedPlacements = { detached: (placement) => (placement === 'eu' ? euProvisioner : undefined) };
 * ```
 */
export interface DetachedPlacements {
  detached(placement: string): DetachedProvisioner | undefined;
}
