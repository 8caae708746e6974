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
import type { MigrationSource } from '../migrate/migration.js';
import { migrateSchema } from '../migrate/schema-migrator.js';

/** Where a tenant's schema stands after provisioning or a migration run. */
export interface MigrationMark {
  readonly version: string | null;
  readonly digest: string;
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
  /** Creates the schema and applies every tenant migration, on a client inside an open transaction. */
  provision(client: Queryable, tenant: { readonly id: string; readonly schema: string }): Promise<MigrationMark>;
  /** Drops a schema and everything in it, on a client inside an open transaction. */
  dropSchema(client: Queryable, schema: string): Promise<void>;
}

/** What {@link createProvisioner} needs. */
export interface ProvisionerOptions {
  readonly pool: PoolLike;
  readonly sharedSchema: string;
  readonly tenantMigrations: MigrationSource;
}

/**
 * Makes the provisioner `createTenancy` hands to its registry.
 *
 * @example
 * ```ts
 * await provisioner.provision(client, { id: 'acme', schema: 'tenant_acme' });
 * ```
 */
export function createProvisioner(options: ProvisionerOptions): Provisioner {
  const { pool, sharedSchema, tenantMigrations } = options;
  return {
    pool,
    async provision(client, tenant) {
      const migrations = await tenantMigrations.load();
      try {
        await client.query(`CREATE SCHEMA ${quoteIdent(tenant.schema)}`);
      } catch (error) {
        if (sqlState(error) === '42P06') {
          throw new TenantExistsError(tenant.id, `schema "${tenant.schema}" already exists`, { cause: error });
        }
        throw error;
      }
      const state = await migrateSchema(client, { schema: tenant.schema, sharedSchema, migrations, tenantId: tenant.id });
      return { version: state.version, digest: digestOf(migrations) };
    },
    async dropSchema(client, schema) {
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    },
  };
}
