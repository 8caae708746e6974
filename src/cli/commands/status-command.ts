/**
 * `tenantry status`: the applied and pending migrations of the shared schema and of each
 * tenant, in a few queries at any tenant count; with `--drift`, each tenant schema's structure
 * against the migrations.
 *
 * @module
 */
import { TenantNotFoundError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import type { DriftReport } from '../../fleet/schema-drift.js';
import { digestOf } from '../../migrate/migration.js';
import type { Tenant } from '../../types.js';
import { ExitCode } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { positiveInteger, stringList } from '../option-values.js';
import { formatTable } from '../format-table.js';
import type { Output } from '../output.js';
import { registryExists } from '../registry-exists.js';
import type { SchemaState } from '../../migrate/schema-state.js';
import { compareMigrations, readSchemaState, readSchemaStates } from '../../migrate/schema-state.js';
import { readTenantRows } from '../tenant-rows.js';
import { statusFilter } from './tenants-command.js';

/**
 * One tenant's status, as `tenantry status --json` prints it.
 *
 * @example
 * ```ts
 * const status: TenantMigrationStatus = { tenantId: 'acme', schema: 'tenant_acme', status: 'active', migrationVersion: '001_items', applied: ['001_items'], pending: [], changed: [] };
 * ```
 */
export interface TenantMigrationStatus extends SchemaState {
  readonly tenantId: string;
  readonly schema: string;
  readonly status: Tenant['status'];
  readonly migrationVersion: string | null;
}

/**
 * Runs `tenantry status`. The tenants come from one registry query (filtered with `--status`,
 * `--behind`, paged with `--limit` and `--after`); only the schemas of tenants the registry
 * finds behind are read (in one query per 500). Changes nothing. Exit code 0; with `--drift`,
 * 1 when a tenant's schema differs from the migrations.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await statusCommand(ctx); // tenantry status --behind --limit 100
 * ```
 */
export async function statusCommand(ctx: CommandContext): Promise<number> {
  const only = stringList(ctx.values.tenant);
  for (const id of only) assertTenantId(id);
  const status = statusFilter(ctx.values.status);
  const limit = ctx.values.limit === undefined ? undefined : positiveInteger(ctx.values.limit, 'limit', 1);
  const after = typeof ctx.values.after === 'string' ? ctx.values.after : undefined;
  const behindOnly = ctx.values.behind === true;
  const cli = await ctx.open({ poolSize: 3 });
  const shared = { schema: cli.sharedSchema, ...(await readSchemaState(cli.pool, cli.sharedSchema, await cli.sharedMigrations())) };
  const hasRegistry = await registryExists(cli.pool, cli.sharedSchema);
  if (!hasRegistry && only[0] !== undefined) throw new TenantNotFoundError(only[0]);
  const migrations = await cli.tenantMigrations();
  const digest = digestOf(migrations);
  const page = hasRegistry
    ? await readTenantRows(cli.pool, cli.sharedSchema, { status, after, limit, digest, ...(only.length > 0 ? { only } : {}), ...(behindOnly ? { behindDigest: digest } : {}) })
    : { rows: [], next: undefined };
  for (const id of only) if (!page.rows.some((row) => row.tenant.id === id)) throw new TenantNotFoundError(id);
  const upToDate = compareMigrations(migrations, new Map(migrations.map((migration) => [migration.name, migration.checksum])));
  const behindSchemas = page.rows.filter((row) => row.behind).map((row) => row.tenant.schema);
  const states = await readSchemaStates(cli.pool, behindSchemas, migrations);
  const tenants: TenantMigrationStatus[] = page.rows.map(({ tenant, behind }) => ({
    tenantId: tenant.id,
    schema: tenant.schema,
    status: tenant.status,
    migrationVersion: tenant.migrationVersion,
    ...((behind ? states.get(tenant.schema) : undefined) ?? upToDate),
  }));
  const drift = ctx.values.drift === true && hasRegistry ? await cli.tenancy.migrate.drift(only.length > 0 ? { only } : {}) : undefined;

  const { output } = ctx;
  output.line(`Shared schema "${shared.schema}": ${describeState(shared)}`);
  if (!hasRegistry) {
    output.line('Tenants: none (the registry tables do not exist yet; run tenantry migrate)');
  } else if (tenants.length === 0) {
    output.line(behindOnly ? 'Tenants: none behind' : 'Tenants: none');
  } else {
    const behind = tenants.filter((tenant) => tenant.pending.length > 0 || tenant.changed.length > 0).length;
    output.line(`Tenants: ${tenants.length}${page.next === undefined ? '' : ' on this page'}, ${behind === 0 ? 'all up to date' : `${behind} with pending migrations`}`);
    const rows = tenants.map((tenant) => [tenant.tenantId, tenant.status, `${tenant.applied.length} applied`, describeState(tenant, false)]);
    for (const line of formatTable(rows)) output.line(line);
    if (only.length > 0) {
      for (const tenant of tenants) {
        output.line(`Tenant ${tenant.tenantId} (schema "${tenant.schema}"), applied: ${tenant.applied.join(', ') || 'none'}`);
      }
    }
    if (page.next !== undefined) output.line(`More tenants: tenantry status --after ${page.next}${limit === undefined ? '' : ` --limit ${limit}`}`);
  }
  if (drift !== undefined) printDrift(output, drift);
  output.result({ shared, tenants, ...(page.next === undefined ? {} : { next: page.next }), ...(drift === undefined ? {} : { drift }) });
  return drift !== undefined && drift.drifted.length > 0 ? ExitCode.failed : ExitCode.ok;
}

/**
 * Prints what `migrate.drift()` found: each drifted tenant with what differs.
 *
 * @example
 * ```ts
 * declare const output: import('../output.js').Output;
 * printDrift(output, await tenancy.migrate.drift());
 * ```
 */
export function printDrift(output: Output, report: DriftReport): void {
  if (report.drifted.length === 0) {
    output.line(`Drift: none (${report.checked} tenant schemas match the migrations, at ${report.reference.version ?? 'no migration'})`);
    return;
  }
  output.line(`Drift: ${report.drifted.length} of ${report.checked} tenant schemas differ from the migrations (at ${report.reference.version ?? 'no migration'}):`);
  for (const tenant of report.drifted) {
    output.line(`  ${tenant.tenantId} (schema "${tenant.schema}")${tenant.behind ? ': behind on migrations, run tenantry migrate first' : ''}`);
    for (const d of tenant.differences) {
      const detail = d.change === 'changed' ? `: expected ${d.expected}, found ${d.actual}` : d.change === 'missing' ? '' : `: ${d.actual}`;
      output.line(`    ${d.change} ${d.kind}${d.name === '' ? '' : ` ${d.name}`}${detail}`);
    }
  }
}

function describeState(state: SchemaState, withCount = true): string {
  const parts = withCount ? [`${state.applied.length} applied`] : [];
  parts.push(state.pending.length === 0 ? 'up to date' : `${state.pending.length} pending: ${state.pending.join(', ')}`);
  if (state.changed.length > 0) parts.push(`edited after they ran: ${state.changed.join(', ')}`);
  return parts.join(', ');
}
