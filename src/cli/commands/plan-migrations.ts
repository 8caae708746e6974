/**
 * `tenantry migrate --dry-run`: what a migration run would apply, read without changing anything.
 *
 * @module
 */
import { TenantNotFoundError } from '../../errors.js';
import { mapConcurrent } from '../../migrate/map-concurrent.js';
import { digestOf } from '../../migrate/migration.js';
import type { Tenant } from '../../types.js';
import type { CliTenancy } from '../open-tenancy.js';
import { registryExists } from '../registry-exists.js';
import { readSchemaState } from '../../migrate/schema-state.js';

/**
 * What a run would do to one schema.
 *
 * @example
 * ```ts
 * const plan: SchemaPlan = { schema: 'tenant_acme', pending: ['002_sku'], changed: [] };
 * ```
 */
export interface SchemaPlan {
  readonly schema: string;
  /** Would be applied, in this order. */
  readonly pending: readonly string[];
  /** Edited after they were applied: the run stops on this schema unless --allow-changed. */
  readonly changed: readonly string[];
}

/**
 * What a run would do.
 *
 * @example
 * ```ts
 * declare const cli: import('../open-tenancy.js').CliTenancy;
 * const plan: MigrationPlan = await planMigrations(cli, { shared: true, tenants: true, only: [], concurrency: 4 });
 * ```
 */
export interface MigrationPlan {
  readonly dryRun: true;
  /** `null` when the shared schema is not part of the run. */
  readonly shared: SchemaPlan | null;
  /** The tenants the run would open (`null` when tenants are not part of the run). */
  readonly tenants: readonly (SchemaPlan & { readonly tenantId: string })[] | null;
  /** The registry tables do not exist yet: there are no tenants to migrate. */
  readonly registryMissing: boolean;
}

/**
 * Which parts a run covers.
 *
 * @example
 * ```ts
 * const scope: PlanScope = { shared: false, tenants: true, only: ['acme'], concurrency: 4 };
 * ```
 */
export interface PlanScope {
  readonly shared: boolean;
  readonly tenants: boolean;
  /** Only these tenants (all of them are opened), or every tenant the registry finds stale. */
  readonly only: readonly string[];
  readonly concurrency: number;
}

/**
 * Plans a run: the shared schema's tracking table against the shared set; the tenants the
 * registry finds stale (`registry.listStale`), or the named ones, each schema's tracking table
 * against the tenant set.
 *
 * @example
 * ```ts
 * declare const cli: import('../open-tenancy.js').CliTenancy;
 * const plan = await planMigrations(cli, { shared: true, tenants: true, only: [], concurrency: 4 });
 * plan.tenants?.map((t) => `${t.tenantId}: ${t.pending.join(', ')}`);
 * ```
 */
export async function planMigrations(cli: CliTenancy, scope: PlanScope): Promise<MigrationPlan> {
  const { pool, sharedSchema, tenancy } = cli;
  const shared = scope.shared ? { schema: sharedSchema, ...(await readSchemaState(pool, sharedSchema, await cli.sharedMigrations())) } : null;
  if (!scope.tenants) return { dryRun: true, shared: shared && plan(shared), tenants: null, registryMissing: false };
  const registryMissing = !(await registryExists(pool, sharedSchema));
  if (registryMissing) {
    if (scope.only[0] !== undefined) throw new TenantNotFoundError(scope.only[0]);
    return { dryRun: true, shared: shared && plan(shared), tenants: [], registryMissing };
  }
  const migrations = await cli.tenantMigrations();
  let tenants: readonly Tenant[];
  if (scope.only.length > 0) {
    tenants = await Promise.all(
      scope.only.map(async (id) => {
        const tenant = await tenancy.registry.get(id);
        if (tenant === undefined) throw new TenantNotFoundError(id);
        return tenant;
      }),
    );
  } else {
    tenants = await tenancy.registry.listStale(digestOf(migrations));
  }
  const planned = await mapConcurrent(tenants, scope.concurrency, async (tenant) => ({
    tenantId: tenant.id,
    ...plan({ schema: tenant.schema, ...(await readSchemaState(pool, tenant.schema, migrations)) }),
  }));
  return { dryRun: true, shared: shared && plan(shared), tenants: planned, registryMissing };
}

function plan(state: SchemaPlan): SchemaPlan {
  return { schema: state.schema, pending: state.pending, changed: state.changed };
}
