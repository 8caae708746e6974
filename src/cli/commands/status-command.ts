/**
 * `tenantry status`: the applied and pending migrations of the shared schema and of each tenant.
 *
 * @module
 */
import { TenantNotFoundError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import { mapConcurrent } from '../../migrate/map-concurrent.js';
import type { Tenant } from '../../types.js';
import { ExitCode } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { stringList } from '../option-values.js';
import { formatTable } from '../format-table.js';
import type { CliTenancy } from '../open-tenancy.js';
import { registryExists } from '../registry-exists.js';
import type { SchemaState } from '../../migrate/schema-state.js';
import { readSchemaState } from '../../migrate/schema-state.js';

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
 * Runs `tenantry status`. Reads each schema's `tenantry_migrations` table and compares it with
 * the migration sets; changes nothing. Exit code 0.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await statusCommand(ctx); // tenantry status --tenant acme
 * ```
 */
export async function statusCommand(ctx: CommandContext): Promise<number> {
  const only = stringList(ctx.values.tenant);
  for (const id of only) assertTenantId(id);
  const cli = await ctx.open({ poolSize: 5 });
  const shared = { schema: cli.sharedSchema, ...(await readSchemaState(cli.pool, cli.sharedSchema, await cli.sharedMigrations())) };
  const hasRegistry = await registryExists(cli.pool, cli.sharedSchema);
  if (!hasRegistry && only[0] !== undefined) throw new TenantNotFoundError(only[0]);
  const tenants = hasRegistry ? await tenantStatuses(cli, only) : [];

  const { output } = ctx;
  output.line(`Shared schema "${shared.schema}": ${describeState(shared)}`);
  if (!hasRegistry) {
    output.line('Tenants: none (the registry tables do not exist yet; run tenantry migrate)');
  } else if (tenants.length === 0) {
    output.line('Tenants: none');
  } else {
    const behind = tenants.filter((tenant) => tenant.pending.length > 0 || tenant.changed.length > 0).length;
    output.line(`Tenants: ${tenants.length}, ${behind === 0 ? 'all up to date' : `${behind} with pending migrations`}`);
    const rows = tenants.map((tenant) => [tenant.tenantId, tenant.status, `${tenant.applied.length} applied`, describeState(tenant, false)]);
    for (const line of formatTable(rows)) output.line(line);
    if (only.length > 0) {
      for (const tenant of tenants) {
        output.line(`Tenant ${tenant.tenantId} (schema "${tenant.schema}"), applied: ${tenant.applied.join(', ') || 'none'}`);
      }
    }
  }
  output.result({ shared, tenants });
  return ExitCode.ok;
}

async function tenantStatuses(cli: CliTenancy, only: readonly string[]): Promise<TenantMigrationStatus[]> {
  const migrations = await cli.tenantMigrations();
  const tenants: Tenant[] = [];
  if (only.length > 0) {
    for (const id of only) {
      const tenant = await cli.tenancy.registry.get(id);
      if (tenant === undefined) throw new TenantNotFoundError(id);
      tenants.push(tenant);
    }
  } else {
    let after: string | undefined;
    do {
      const page = await cli.tenancy.registry.list({ limit: 1000, after });
      tenants.push(...page.tenants);
      after = page.next;
    } while (after !== undefined);
  }
  return mapConcurrent(tenants, 4, async (tenant) => ({
    tenantId: tenant.id,
    schema: tenant.schema,
    status: tenant.status,
    migrationVersion: tenant.migrationVersion,
    ...(await readSchemaState(cli.pool, tenant.schema, migrations)),
  }));
}

function describeState(state: SchemaState, withCount = true): string {
  const parts = withCount ? [`${state.applied.length} applied`] : [];
  parts.push(state.pending.length === 0 ? 'up to date' : `${state.pending.length} pending: ${state.pending.join(', ')}`);
  if (state.changed.length > 0) parts.push(`edited after they ran: ${state.changed.join(', ')}`);
  return parts.join(', ');
}
