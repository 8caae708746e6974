/**
 * `tenancy.backup(id, writable)` and the shared tables' backup.
 *
 * @module
 */
import type { Writable } from 'node:stream';
import { TenantNotFoundError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { Tenant } from '../types.js';
import type { WriteArchiveOptions } from './archive-writer.js';
import type { BackupContext } from './backup-context.js';
import type { BackupSummary } from './backup-schema.js';
import { backupSchema, type RowLevelTarget } from './backup-schema.js';
import { tenantTablesOf } from '../strategy/row-level.js';

/**
 * Options of `tenancy.backup` and `tenancy.backupShared`.
 *
 * @example
 * ```ts
 * const options: BackupOptions = { compression: 1, onProgress: (p) => console.error(p.table, p.rows) };
 * ```
 */
export type BackupOptions = Omit<WriteArchiveOptions, 'compression'> & {
  /** gzip level 0 to 9 (default 6). */
  readonly compression?: number | undefined;
};

/**
 * Writes the archive of one tenant: its registry record and domains, its migrations, its
 * tables' rows and its sequences, from one snapshot.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * declare const context: import('./backup-context.js').BackupContext;
 * await backupTenant(context, 'acme', createWriteStream('acme.tenantry.gz'));
 * ```
 */
export async function backupTenant(
  context: BackupContext,
  id: string,
  destination: Writable,
  options: WriteArchiveOptions = {},
): Promise<BackupSummary> {
  assertTenantId(id);
  const tenant = await context.registry.get(id);
  if (tenant === undefined) throw new TenantNotFoundError(id);
  const domains = await context.registry.domains(id);
  const rowLevel = context.strategy === 'rls' ? await rowLevelTarget(context, id) : undefined;
  return backupSchema(
    (await context.poolOf?.(tenant)) ?? context.pool,
    {
      kind: 'tenant',
      schema: rowsSchemaOf(context, tenant, rowLevel),
      database: context.strategy === 'database',
      ...(rowLevel === undefined ? {} : { rowLevel }),
      tenant: {
        id: tenant.id,
        name: tenant.name,
        schema: tenant.schema,
        // An archive taken while its tenant moves restores an active tenant.
        status: tenant.status === 'moving' ? 'active' : tenant.status,
        placement: tenant.placement,
        metadata: tenant.metadata,
        domains: domains.map((domain) => ({ domain: domain.domain, primary: domain.primary })),
        migrationVersion: tenant.migrationVersion,
      },
      include: rowLevel === undefined ? () => true : (name) => rowLevel.tenantColumns.has(name),
    },
    destination,
    options,
  );
}

/**
 * Writes the archive of the shared schema's tables: the app's shared tables, not tenantry's own
 * (`tenantry_*`: the registry, the domains, the audit trail), which describe tenants whose
 * schemas are backed up apart.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * declare const context: import('./backup-context.js').BackupContext;
 * await backupShared(context, createWriteStream('shared.tenantry.gz'));
 * ```
 */
export async function backupShared(context: BackupContext, destination: Writable, options: WriteArchiveOptions = {}): Promise<BackupSummary> {
  // A row-level tenancy's tenant-scoped tables hold the tenants' rows: each tenant's backup has them.
  const tenantTables = context.strategy === 'rls' ? await tenantTablesOf(context.pool, context.sharedSchema) : new Map<string, string>();
  return backupSchema(
    context.pool,
    { kind: 'shared', schema: context.sharedSchema, include: (name) => !name.startsWith('tenantry_') && !tenantTables.has(name) },
    destination,
    options,
  );
}

/**
 * The schema whose tables hold a tenant's rows: its own; for a row-level tenant the shared
 * schema, unless it was moved into a schema of its own (`tenancy.move(id, { strategy: 'schema' })`).
 *
 * @example
 * ```ts
 * declare const context: import('./backup-context.js').BackupContext;
 * declare const tenant: import('../types.js').Tenant;
 * rowsSchemaOf(context, tenant, await rowLevelTarget(context, tenant.id)); // 'public'
 * ```
 */
export function rowsSchemaOf(context: BackupContext, tenant: Tenant, rowLevel: RowLevelTarget | undefined): string {
  return rowLevel === undefined || tenant.strategy === 'schema' ? tenant.schema : context.sharedSchema;
}

/**
 * What a row-level tenant's backup or export reads: its tenant-scoped tables (with their tenant columns), as its role.
 *
 * @example
 * ```ts
 * declare const context: import('./backup-context.js').BackupContext;
 * (await rowLevelTarget(context, 'acme')).tenantColumns; // Map { 'products' => 'tenant_id' }
 * ```
 */
export async function rowLevelTarget(context: BackupContext, id: string): Promise<RowLevelTarget> {
  const roles = context.provisioner.roles;
  return { tenantId: id, role: roles === undefined ? undefined : roles.roleOf(id), tenantColumns: await tenantTablesOf(context.pool, context.sharedSchema) };
}
