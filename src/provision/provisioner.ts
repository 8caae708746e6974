/**
 * Creates and drops tenant schemas. The registries call it inside their own transaction,
 * so a tenant's registry row, schema and migrations commit together or not at all.
 *
 * @module
 */
import type { PoolLike, Queryable } from '../db.js';
import { sqlState } from '../db.js';
import { TenantExistsError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { digestOf } from '../migrate/migration.js';
import type { Migration, MigrationSource } from '../migrate/migration.js';
import { migrateNewSchema } from '../migrate/new-schema-migrator.js';
import type { TenantRoleNames } from '../strategy/tenant-roles.js';
import type { RoleTarget } from './tenant-role-grants.js';
import { dropTenantRole, grantTenantRole } from './tenant-role-grants.js';

/** Where a tenant's schema stands after provisioning or a migration run. */
export interface MigrationMark {
  readonly version: string | null;
  readonly digest: string;
}

/**
 * The tenant migrations loaded once for a provisioning: the set, its last name and its fingerprint.
 *
 * @example
 * ```ts
 * declare const provisioner: Provisioner;
 * const plan: ProvisionPlan = await provisioner.plan();
 * plan.version; // '010_purchase_order_lines'
 * ```
 */
export interface ProvisionPlan extends MigrationMark {
  readonly migrations: readonly Migration[];
}

/**
 * Provisions tenant schemas on a pool.
 *
 * @example
 * ```ts
 * const provisioner = createProvisioner({ pool, sharedSchema: 'public', tenantMigrations: folderMigrations('./migrations/tenant') });
 * ```
 */
export interface Provisioner {
  readonly pool: PoolLike;
  readonly sharedSchema: string;
  /** Loads the tenant migrations (a folder is read again each time). */
  plan(): Promise<ProvisionPlan>;
  /**
   * Creates the schema and applies every tenant migration (the `plan` given, or loaded now), and
   * with tenant roles creates and grants the role (`tenant.role`, else the id's), on a client
   * inside an open transaction.
   */
  provision(client: Queryable, tenant: RoleTarget, plan?: ProvisionPlan): Promise<MigrationMark>;
  /** Drops a schema and everything in it, on a client inside an open transaction. */
  dropSchema(client: Queryable, schema: string): Promise<void>;
  /**
   * Undoes a tenant's provisioning when its registry row is deleted, inside that transaction:
   * drops its role (tenant roles on) and, with `dropSchema`, its schema.
   */
  remove(client: Queryable, tenant: RoleTarget, options: { readonly dropSchema: boolean }): Promise<void>;
  /** The tenant roles' names, or `undefined` when tenant roles are off. */
  readonly roles: TenantRoleNames | undefined;
}

/** What {@link createProvisioner} needs. */
export interface ProvisionerOptions {
  readonly pool: PoolLike;
  readonly sharedSchema: string;
  readonly tenantMigrations: MigrationSource;
  /** The tenant roles' names, when tenant roles are on. */
  readonly roles?: TenantRoleNames | undefined;
}

/**
 * Makes the provisioner `createTenancy` hands to its registry.
 *
 * @example
 * ```ts
 * declare const provisioner: Provisioner;
 * await provisioner.provision(client, { id: 'acme', schema: 'tenant_acme' });
 * ```
 */
export function createProvisioner(options: ProvisionerOptions): Provisioner {
  const { pool, sharedSchema, tenantMigrations, roles } = options;
  const dropSchema = async (client: Queryable, schema: string): Promise<void> => {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  };
  const plan = async (): Promise<ProvisionPlan> => {
    const migrations = await tenantMigrations.load();
    return { migrations, version: migrations.at(-1)?.name ?? null, digest: digestOf(migrations) };
  };
  return {
    pool,
    sharedSchema,
    plan,
    async provision(client, tenant, planned) {
      const { migrations, version, digest } = planned ?? (await plan());
      try {
        await migrateNewSchema(client, { schema: tenant.schema, sharedSchema, migrations, tenantId: tenant.id });
      } catch (error) {
        if (sqlState(error) === '42P06') {
          throw new TenantExistsError(tenant.id, `schema "${tenant.schema}" already exists`, { cause: error });
        }
        throw error;
      }
      if (roles !== undefined) await grantTenantRole(client, roles, tenant);
      return { version, digest };
    },
    dropSchema,
    async remove(client, tenant, options) {
      if (options.dropSchema) await dropSchema(client, tenant.schema);
      if (roles !== undefined) await dropTenantRole(client, roles, tenant, { schemaDropped: options.dropSchema });
    },
    roles,
  };
}

/**
 * Creates a tenant's (empty) schema; one that exists already is a `TenantExistsError`.
 *
 * @example
 * ```ts
 * await createTenantSchema(client, { id: 'acme', schema: 'tenant_acme' });
 * ```
 */
export async function createTenantSchema(client: Queryable, tenant: { readonly id: string; readonly schema: string }): Promise<void> {
  try {
    await client.query(`CREATE SCHEMA ${quoteIdent(tenant.schema)}`);
  } catch (error) {
    if (sqlState(error) === '42P06') {
      throw new TenantExistsError(tenant.id, `schema "${tenant.schema}" already exists`, { cause: error });
    }
    throw error;
  }
}
