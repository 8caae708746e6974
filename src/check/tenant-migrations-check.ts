/**
 * The start-up check that every tenant's schema is at the current tenant migrations.
 *
 * @module
 */
import { digestOf } from '../migrate/migration.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { counted, listSome, skipped, warnedIf } from './startup-check.js';

const NAME = 'tenant migrations';

/**
 * Warns about tenants whose recorded migrations differ from the current set (the ones
 * `migrate.tenants()` would migrate), with one registry query.
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await tenantMigrationsCheck(context);
 * // { name: 'tenant migrations', status: 'warned', warnings: ['2 tenants have tenant migrations to apply (acme, globex): …'] }
 * ```
 */
export async function tenantMigrationsCheck({ pool, registry, tenantMigrations }: CheckContext): Promise<CheckResult> {
  if (pool === undefined) return skipped(NAME, 'no pool');
  const stale = await registry.listStale(digestOf(await tenantMigrations.load()));
  const ids = stale.map((tenant) => tenant.id);
  const warning =
    `${counted(ids.length, 'tenant', 'has', 'have')} tenant migrations to apply (${listSome(ids)}): ` +
    'run tenancy.migrate.tenants() (or tenantry migrate --tenants)';
  return warnedIf(NAME, ids.length === 0 ? [] : [warning]);
}
