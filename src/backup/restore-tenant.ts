/**
 * `tenancy.restore(readable, { id })`: a tenant from an archive, provisioned inside the
 * registry's create transaction, so the tenant exists whole or not at all.
 *
 * @module
 */
import { BackupArchiveError, InvalidConfigError } from '../errors.js';
import { assertTenantId, quoteIdent } from '../identifiers.js';
import { digestOf } from '../migrate/migration.js';
import { migrateSchema } from '../migrate/schema-migrator.js';
import type { Queryable } from '../db.js';
import type { DetachedPlacements } from '../placement/detached-provisioner.js';
import type { TenantPlacement } from '../placement/placement.js';
import type { Migration } from '../migrate/migration.js';
import type { MigrationMark, Provisioner } from '../provision/provisioner.js';
import type { TenantRoleNames } from '../strategy/tenant-roles.js';
import { createTenantSchema } from '../provision/provisioner.js';
import { grantTenantRole } from '../provision/tenant-role-grants.js';
import { PostgresRegistry } from '../registry/postgres-registry.js';
import type { Tenant, TenantStatus } from '../types.js';
import type { ArchiveSource } from './archive-reader.js';
import { ArchiveReader } from './archive-reader.js';
import type { BackupContext } from './backup-context.js';
import type { BackupManifest, TableEnd } from './backup-manifest.js';
import type { CopyControl } from './copy-control.js';
import { loadArchiveRows, loadRowLevelRows } from './load-rows.js';
import { TENANT_SETTING } from '../strategy/row-level.js';
import type { RestoreMigrationOptions } from './restore-migrations.js';
import { migrationsAtBackup } from './restore-migrations.js';

/** What {@link restoreSchema} loads a schema from. */
export interface SchemaRestore {
  readonly sharedSchema: string;
  readonly roles: TenantRoleNames | undefined;
  readonly manifest: BackupManifest;
  readonly reader: ArchiveReader;
  /** The migrations the archive's schema was at. */
  readonly atBackup: readonly Migration[];
  /** The app's tenant migrations, applied after the rows. */
  readonly migrations: readonly Migration[];
  readonly options: CopyControl;
}

/**
 * Builds a tenant's schema from an archive, on a client inside an open transaction: the schema
 * at the archive's migrations, its rows (checked against their counts and checksums), the newer
 * migrations, the tenant role's grants. A restore and a move both build schemas with it.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * declare const restore: SchemaRestore;
 * const { tables, applied } = await restoreSchema(client, { id: 'acme', schema: 'tenant_acme' }, restore);
 * ```
 */
export async function restoreSchema(
  client: Queryable,
  tenant: { readonly id: string; readonly schema: string },
  restore: SchemaRestore,
): Promise<Restored> {
  const { sharedSchema, manifest, reader, atBackup, migrations, roles } = restore;
  await createTenantSchema(client, tenant);
  await migrateSchema(client, { schema: tenant.schema, sharedSchema, migrations: atBackup, tenantId: tenant.id });
  const tables = await loadArchiveRows(client, tenant.schema, manifest, reader, restore.options);
  const state = await migrateSchema(client, { schema: tenant.schema, sharedSchema, migrations, tenantId: tenant.id });
  if (roles !== undefined) await grantTenantRole(client, roles, tenant);
  return { tables, applied: state.applied, mark: { version: state.version, digest: digestOf(migrations) } };
}

/** What {@link restoreSchema} did. */
export interface Restored {
  readonly tables: readonly TableEnd[];
  readonly applied: readonly string[];
  readonly mark: MigrationMark;
}

/** Runs `load` in a row-level tenant's scope (its setting, and its role with tenant roles), inside the restore's transaction. */
async function loadInScope<R>(client: Queryable, tenantId: string, roles: TenantRoleNames | undefined, load: () => Promise<R>): Promise<R> {
  await client.query(`SELECT set_config('${TENANT_SETTING}', $1, true)`, [tenantId]);
  if (roles !== undefined) await client.query(`SET LOCAL ROLE ${quoteIdent(roles.roleOf(tenantId))}`);
  const result = await load();
  if (roles !== undefined) await client.query('RESET ROLE');
  return result;
}

/** The archive's placement where the tenancy has that server, else the registry's server. */
function placementOf(archived: string, placement: TenantPlacement | undefined): string {
  if (placement?.spread !== true) return archived;
  try {
    placement.detached(archived);
    return archived;
  } catch {
    return 'default';
  }
}

/**
 * Options of `tenancy.restore`.
 *
 * @example
 * ```ts
 * const options: RestoreOptions = { id: 'acme-staging', name: 'Acme (staging)', domains: ['acme.staging.example.com'] };
 * ```
 */
export interface RestoreOptions extends RestoreMigrationOptions, CopyControl {
  /** The new tenant's id (default: the archive's). Another id than the archive's makes a clone. */
  readonly id?: string;
  /** Its name (default: the archive's). */
  readonly name?: string;
  /**
   * Its domains. Default: the archive's when restoring under the archive's id; none for a clone
   * (a domain names one tenant only).
   */
  readonly domains?: readonly string[];
  /** Its status (default: the archive's). */
  readonly status?: TenantStatus;
  /**
   * The server it goes to, a name of `createTenancy({ servers })` (default: the archive's
   * placement when the tenancy has that server, else the registry's server).
   */
  readonly placement?: string;
}

/**
 * What a restore did.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * const { tenant, rows, applied } = await tenancy.restore(createReadStream('acme.tenantry.gz'), { id: 'acme-copy' });
 * ```
 */
export interface RestoreSummary {
  readonly tenant: Tenant;
  readonly manifest: BackupManifest;
  /** Each table's row count and checksum, checked against the rows loaded. */
  readonly tables: readonly TableEnd[];
  readonly rows: number;
  /** Bytes of COPY text loaded. */
  readonly bytes: number;
  /** The tenant migrations newer than the archive, applied after its rows were loaded. */
  readonly applied: readonly string[];
}

/**
 * Restores a tenant archive. In one transaction: the registry row and domains, the schema
 * migrated to the archive's migrations, the rows (counts and checksums checked), the sequences,
 * the newer migrations and the tenant role's grants. Any failure rolls all of it back.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * declare const context: import('./backup-context.js').BackupContext;
 * await restoreTenant(context, createReadStream('acme.tenantry.gz'), { id: 'acme-copy' });
 * ```
 */
export async function restoreTenant(context: BackupContext, source: ArchiveSource, options: RestoreOptions = {}): Promise<RestoreSummary> {
  if (!(context.registry instanceof PostgresRegistry)) {
    throw new InvalidConfigError('Restoring a tenant needs the PostgreSQL registry (createTenancy with a pool and the default registry)');
  }
  if (options.id !== undefined) assertTenantId(options.id);
  options.signal?.throwIfAborted();
  const reader = new ArchiveReader(source);
  try {
    const manifest = await reader.manifest();
    if (manifest.kind !== 'tenant' || manifest.tenant === undefined) {
      throw new BackupArchiveError('This archive holds the shared tables (tenantry backup --shared), not a tenant: tenancy.restore restores tenant archives only');
    }
    const archived = manifest.tenant;
    const id = options.id ?? archived.id;
    assertTenantId(id);
    const strategy = context.strategy ?? 'schema';
    if (manifest.strategy !== strategy) {
      throw new BackupArchiveError(`This archive holds a tenant of the ${manifest.strategy} strategy; this tenancy keeps its tenants with strategy '${strategy}'`);
    }
    const migrations = await context.tenantMigrations();
    // A row-level tenant's tables are the shared ones: no tenant migrations to match.
    const atBackup = strategy === 'rls' ? [] : migrationsAtBackup(manifest.migrations, migrations, options);
    const sameTenant = id === archived.id;
    const domains = options.domains ?? (sameTenant ? [...archived.domains].sort((a, b) => Number(b.primary) - Number(a.primary)).map((d) => d.domain) : []);
    let loaded: readonly TableEnd[] = [];
    let applied: readonly string[] = [];
    const { sharedSchema, provisioner: base, placement } = context;
    const restore: SchemaRestore = { sharedSchema, roles: base.roles, manifest, reader, atBackup, migrations, options };
    const restored = (result: Restored): MigrationMark => {
      loaded = result.tables;
      applied = result.applied;
      return result.mark;
    };
    const provisioner: Provisioner = {
      ...base,
      provision:
        strategy === 'rls'
          ? async (client, tenant) => {
              const mark = await base.provision(client, tenant);
              loaded = await loadInScope(client, tenant.id, base.roles, () => loadRowLevelRows(client, sharedSchema, manifest, reader, options));
              return mark;
            }
          : async (client, tenant) => restored(await restoreSchema(client, tenant, restore)),
    };
    // A tenant placed on another server (or in a database of its own) is restored there, outside the registry's transaction (docs/scaling.md).
    const placements: DetachedPlacements | undefined =
      placement?.spread === true
        ? {
            detached: (name) => {
              const elsewhere = placement.detached(name);
              if (elsewhere === undefined) return undefined;
              return { ...elsewhere, provision: async (tenant) => restored(await elsewhere.provisionWith(tenant, (client) => restoreSchema(client, tenant, restore))) };
            },
          }
        : undefined;
    const registry = new PostgresRegistry({
      pool: context.pool,
      sharedSchema,
      schemaPrefix: context.schemaPrefix,
      onChange: context.onChange,
      provisioner,
      ...(placements === undefined ? {} : { placements }),
    });
    const tenant = await registry.create({
      id,
      name: options.name ?? archived.name,
      status: options.status ?? archived.status,
      placement: options.placement ?? placementOf(archived.placement, placement),
      metadata: { ...archived.metadata },
      domains,
    });
    return {
      tenant,
      manifest,
      tables: loaded,
      rows: loaded.reduce((sum, table) => sum + table.rows, 0),
      bytes: loaded.reduce((sum, table) => sum + table.bytes, 0),
      applied,
    };
  } finally {
    await reader.close().catch(() => {});
  }
}
