/**
 * `tenantry tenants create|list|show|suspend|resume|delete`: the tenant registry from the shell.
 *
 * @module
 */
import { assertTenantId } from '../../identifiers.js';
import { TenantNotFoundError } from '../../errors.js';
import type { Tenant, TenantDomain, TenantStatus } from '../../types.js';
import { CliError, ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { positiveInteger, stringList } from '../option-values.js';
import { registryNotMigrated } from '../../registry/registry-not-migrated.js';
import { readTenantRows } from '../tenant-rows.js';
import type { CommandName } from '../command-specs.js';
import { confirmByTyping } from '../confirm-by-typing.js';
import { formatTable } from '../format-table.js';
import type { CliTenancy } from '../open-tenancy.js';
import type { Output } from '../output.js';

type TenantsCommand = Exclude<Extract<CommandName, `tenants ${string}`>, 'tenants clone' | 'tenants export' | 'tenants move'>;

/**
 * Runs one `tenantry tenants …` command. Exit code 0 when done; 2 for an invalid or unknown
 * tenant id, or for `delete --drop-schema` without `--yes` and without a terminal; 1 when the
 * person at the terminal did not confirm, or the registry refused (a taken id or domain).
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await tenantsCommand('tenants suspend', ctx); // tenantry tenants suspend acme
 * ```
 */
export async function tenantsCommand(command: TenantsCommand, ctx: CommandContext): Promise<number> {
  const id = ctx.args[0];
  if (id !== undefined) assertTenantId(id);
  switch (command) {
    case 'tenants create':
      return create(ctx, id!);
    case 'tenants list':
      return list(ctx);
    case 'tenants show':
      return show(ctx, id!);
    case 'tenants suspend':
    case 'tenants resume': {
      const cli = await ctx.open();
      const tenant = command === 'tenants suspend' ? await cli.tenancy.registry.suspend(id!) : await cli.tenancy.registry.resume(id!);
      ctx.output.line(`Tenant ${tenant.id} is ${tenant.status}`);
      ctx.output.result(tenant);
      return ExitCode.ok;
    }
    case 'tenants delete':
      return remove(ctx, id!);
  }
}

async function create(ctx: CommandContext, id: string): Promise<number> {
  const metadata = parseMetadata(ctx.values.metadata);
  const name = typeof ctx.values.name === 'string' ? ctx.values.name : undefined;
  const domains = stringList(ctx.values.domain);
  const cli = await ctx.open();
  const tenant = await cli.tenancy.registry.create({
    id,
    ...(name === undefined ? {} : { name }),
    ...(domains.length === 0 ? {} : { domains }),
    ...(metadata === undefined ? {} : { metadata }),
  });
  ctx.output.line(
    `Created tenant ${tenant.id} (schema "${tenant.schema}", ${tenant.migrationVersion === null ? 'no tenant migrations' : `migrated to ${tenant.migrationVersion}`})`,
  );
  ctx.output.result({ ...tenant, domains: await cli.tenancy.registry.domains(tenant.id) });
  return ExitCode.ok;
}

async function list(ctx: CommandContext): Promise<number> {
  const status = statusFilter(ctx.values.status);
  const limit = ctx.values.limit === undefined ? undefined : positiveInteger(ctx.values.limit, 'limit', 1);
  const after = typeof ctx.values.after === 'string' ? ctx.values.after : undefined;
  const cli = await ctx.open();
  const page = await readTenantRows(cli.pool, cli.sharedSchema, { status, limit, after }).catch((error: unknown) => {
    throw registryNotMigrated(error, cli.sharedSchema) ?? error;
  });
  const tenants = page.rows.map((row) => row.tenant);
  if (tenants.length === 0) {
    ctx.output.line(status === undefined ? 'No tenants' : `No ${status} tenants`);
  } else {
    const rows = tenants.map((tenant) => [tenant.id, tenant.status, tenant.schema, tenant.migrationVersion ?? '-', tenant.name]);
    for (const line of formatTable([['ID', 'STATUS', 'SCHEMA', 'VERSION', 'NAME'], ...rows])) ctx.output.line(line);
    ctx.output.line(`${tenants.length} tenant${tenants.length === 1 ? '' : 's'}${page.next === undefined ? '' : `; more with --after ${page.next}`}`);
  }
  if (page.next !== undefined) ctx.output.warn(`More tenants: tenantry tenants list --after ${page.next}${limit === undefined ? '' : ` --limit ${limit}`}`);
  ctx.output.result(tenants);
  return ExitCode.ok;
}

/**
 * The `--status` filter: `active`, `suspended`, or none; a {@link UsageError} for anything else.
 *
 * @example
 * ```ts
 * statusFilter('active'); // 'active'
 * ```
 */
export function statusFilter(value: unknown): TenantStatus | undefined {
  if (value !== undefined && value !== 'active' && value !== 'suspended' && value !== 'moving') {
    throw new UsageError(`--status must be active, suspended or moving, got ${JSON.stringify(value)}`);
  }
  return value;
}

async function show(ctx: CommandContext, id: string): Promise<number> {
  const cli = await ctx.open();
  const tenant = await requireTenant(cli, id);
  const domains = await cli.tenancy.registry.domains(id);
  printTenant(ctx.output, tenant, domains);
  ctx.output.result({ ...tenant, domains });
  return ExitCode.ok;
}

async function remove(ctx: CommandContext, id: string): Promise<number> {
  const dropSchema = ctx.values['drop-schema'] === true;
  const cli = await ctx.open();
  const tenant = await requireTenant(cli, id);
  if (dropSchema && ctx.values.yes !== true) {
    if (ctx.io.stdin.isTTY !== true) {
      throw new UsageError(`Refusing to drop schema "${tenant.schema}" of tenant ${id} without confirmation: pass --yes (there is no terminal to ask on)`);
    }
    const prompt = `This deletes tenant ${id} and drops schema "${tenant.schema}" with all its data. Type the tenant id (${id}) to confirm: `;
    if (!(await confirmByTyping(ctx.io, prompt, id))) {
      throw new CliError('TENANTRY_CLI_NOT_CONFIRMED', ExitCode.failed, `Not confirmed: tenant ${id} and schema "${tenant.schema}" were left as they are`);
    }
  }
  await cli.tenancy.registry.delete(id, { dropSchema });
  ctx.output.line(
    dropSchema
      ? `Deleted tenant ${id} and dropped schema "${tenant.schema}"`
      : `Deleted tenant ${id}; schema "${tenant.schema}" was kept (pass --drop-schema to drop it)`,
  );
  ctx.output.result({ deleted: id, schema: tenant.schema, schemaDropped: dropSchema });
  return ExitCode.ok;
}

async function requireTenant(cli: CliTenancy, id: string): Promise<Tenant> {
  const tenant = await cli.tenancy.registry.get(id);
  if (tenant === undefined) throw new TenantNotFoundError(id);
  return tenant;
}

function parseMetadata(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(value));
  } catch (error) {
    throw new UsageError(`--metadata must be a JSON object, e.g. '{"plan":"pro"}' (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--metadata must be a JSON object, e.g. '{"plan":"pro"}', got ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

function printTenant(output: Output, tenant: Tenant, domains: readonly TenantDomain[]): void {
  const rows = [
    ['id', tenant.id],
    ['name', tenant.name],
    ['status', tenant.status],
    ['schema', tenant.schema],
    // A row-level tenant moved into a schema of its own.
    ...(tenant.strategy === undefined || tenant.strategy === null ? [] : [['strategy', tenant.strategy]]),
    ['placement', tenant.placement],
    ['version', tenant.migrationVersion ?? '-'],
    ['domains', domains.length === 0 ? '-' : domains.map((d) => `${d.domain}${d.primary ? ' (primary)' : ''}`).join(', ')],
    ['metadata', JSON.stringify(tenant.metadata)],
    ['created', tenant.createdAt.toISOString()],
    ['updated', tenant.updatedAt.toISOString()],
  ];
  for (const line of formatTable(rows)) output.line(line);
}
