/**
 * `tenancy.migrate`: shared migrations, one tenant, or every tenant with pending work.
 *
 * @module
 */
import { type TenantMigrationEvent, provisioningChannel, tenantMigrationChannel } from '../diagnostics.js';
import type { PoolLike } from '../db.js';
import { databaseUnavailable } from '../connection-problem.js';
import { withTransaction } from '../db.js';
import { InvalidConfigError, MigrationFailedError, TenantNotFoundError, isTenancyError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { TenantRegistry } from '../registry/registry.js';
import type { Tenant } from '../types.js';
import { mapConcurrent } from './map-concurrent.js';
import type { Migration, MigrationSource } from './migration.js';
import { digestOf } from './migration.js';
import { migrateSchema } from './schema-migrator.js';
import { grantSharedTables, grantTenantRole } from '../provision/tenant-role-grants.js';
import type { TenancyStrategy } from '../strategy/row-level.js';
import type { TenantRoleNames } from '../strategy/tenant-roles.js';
import type { SparePool } from '../provision/spare-pool.js';

/** What one schema's run applied. */
export interface MigrationResult {
  /** The tenant, or `undefined` for the shared schema. */
  readonly tenantId: string | undefined;
  readonly applied: readonly string[];
}

/** Progress of `migrate.tenants`, reported after each tenant. */
export interface MigrationProgress {
  readonly tenantId: string;
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  /** The error of this tenant, when it failed. */
  readonly error?: MigrationFailedError;
}

/**
 * Options of `migrate.tenants`.
 *
 * @example
 * ```ts
 * await tenancy.migrate.tenants({ concurrency: 8, only: ['acme'], onProgress: (p) => console.log(`${p.done}/${p.total}`) });
 * ```
 */
export interface MigrateTenantsOptions {
  /** Tenants migrated at once (default 4); each holds one connection of the pool. */
  readonly concurrency?: number;
  /** Called after each tenant. */
  readonly onProgress?: (progress: MigrationProgress) => void;
  /** Migrate only these tenant ids. */
  readonly only?: readonly string[];
  /** Accept applied migrations that were edited (records the new checksum). */
  readonly allowChanged?: boolean;
}

/**
 * What `migrate.tenants` did. A failed tenant does not stop the others; its transaction was
 * rolled back, and a re-run resumes it.
 */
export interface MigrateTenantsReport {
  /** Tenants that had work to do (the others were already up to date). */
  readonly total: number;
  readonly migrated: readonly MigrationResult[];
  readonly failed: readonly MigrationFailedError[];
}

/**
 * Migration runs of a tenancy (`tenancy.migrate`).
 *
 * @example
 * ```ts
 * await tenancy.migrate.shared();
 * const report = await tenancy.migrate.tenants({ concurrency: 4 });
 * if (report.failed.length > 0) process.exitCode = 1;
 * ```
 */
export interface Migrator {
  /**
   * Creates the registry tables (PostgreSQL registry) and applies the shared migrations. Often an
   * app's first query, so a connection that fails throws `DatabaseUnavailableError` (what to fix).
   */
  shared(options?: { allowChanged?: boolean }): Promise<MigrationResult>;
  /** Applies pending tenant migrations to one tenant; throws {@link MigrationFailedError} on failure. */
  tenant(id: string, options?: { allowChanged?: boolean }): Promise<MigrationResult>;
  /**
   * Applies pending tenant migrations to every tenant that has some (found with one registry
   * query), then, with spares on and no `only`, to the spares that are behind (a spare whose
   * migration fails is dropped and reported on the `provisioning` channel, not in the report).
   */
  tenants(options?: MigrateTenantsOptions): Promise<MigrateTenantsReport>;
  /**
   * The tenant migrations as this tenancy applies them: yours, then tenantry's own (with tenant
   * roles on, a marker that makes every tenant without its role's grants pending).
   */
  tenantMigrations(): Promise<readonly Migration[]>;
  /** The shared migrations as `shared()` applies them: tenantry's own (the registry, the audit table when on), then yours. */
  sharedMigrations(): Promise<readonly Migration[]>;
}

/** What {@link createMigrator} needs. */
export interface MigratorOptions {
  readonly pool: PoolLike | undefined;
  readonly registry: TenantRegistry;
  readonly sharedSchema: string;
  /** Migrations applied to the shared schema before the app's own (the registry tables). */
  readonly builtInShared: readonly Migration[];
  readonly sharedMigrations: MigrationSource;
  readonly tenantMigrations: MigrationSource;
  /** The tenant roles' names, when tenant roles are on: grants follow every migration run. */
  readonly roles?: TenantRoleNames | undefined;
  /** The spares `tenants()` migrates after the tenants, with `createTenancy({ spares })`. */
  readonly spares?: SparePool | undefined;
  /** How the tenancy keeps tenants apart (default `'schema'`): the start-up checks differ. */
  readonly strategy?: TenancyStrategy | undefined;
}

/**
 * Makes `tenancy.migrate`.
 *
 * @example
 * ```ts
 * declare const registry: import('../registry/registry.js').TenantRegistry;
 * declare const sharedMigrations: import('./migration.js').MigrationSource;
 * declare const tenantMigrations: import('./migration.js').MigrationSource;
 * const migrate = createMigrator({ pool, registry, sharedSchema: 'public', builtInShared: [], sharedMigrations, tenantMigrations });
 * ```
 */
export function createMigrator(options: MigratorOptions): Migrator {
  const { registry, sharedSchema, builtInShared, sharedMigrations, tenantMigrations, roles, spares } = options;

  const requirePool = (): PoolLike => {
    if (options.pool === undefined) throw new InvalidConfigError('Migrations need createTenancy({ pool })');
    return options.pool;
  };

  const migrateTenant = async (
    tenant: Tenant,
    migrations: readonly Migration[],
    digest: string,
    allowChanged: boolean,
  ): Promise<MigrationResult> => {
    const started = performance.now();
    if (tenantMigrationChannel.hasSubscribers) tenantMigrationChannel.publish({ phase: 'start', tenantId: tenant.id } satisfies TenantMigrationEvent);
    try {
      const result = await migrateTenantNow(tenant, migrations, digest, allowChanged);
      if (tenantMigrationChannel.hasSubscribers) {
        tenantMigrationChannel.publish({ phase: 'done', tenantId: tenant.id, applied: result.applied, durationMs: performance.now() - started } satisfies TenantMigrationEvent);
      }
      return result;
    } catch (error) {
      if (tenantMigrationChannel.hasSubscribers) {
        tenantMigrationChannel.publish({ phase: 'failed', tenantId: tenant.id, error, durationMs: performance.now() - started } satisfies TenantMigrationEvent);
      }
      throw error;
    }
  };

  const migrateTenantNow = async (
    tenant: Tenant,
    migrations: readonly Migration[],
    digest: string,
    allowChanged: boolean,
  ): Promise<MigrationResult> => {
    const state = await withTransaction(requirePool(), (client) =>
      migrateSchema(client, {
        schema: tenant.schema,
        sharedSchema,
        migrations,
        allowChanged,
        tenantId: tenant.id,
        ...(roles === undefined ? {} : { afterApply: (migrated) => grantTenantRole(migrated, roles, tenant) }),
      }),
    );
    await registry.recordMigration(tenant.id, { version: state.version, digest });
    return { tenantId: tenant.id, applied: state.applied };
  };

  const loadShared = async (): Promise<readonly Migration[]> => [...builtInShared, ...(await sharedMigrations.load())];

  return {
    tenantMigrations: () => tenantMigrations.load(),
    sharedMigrations: loadShared,

    async shared({ allowChanged = false } = {}) {
      const migrations = await loadShared();
      const state = await withTransaction(requirePool(), async (client) => {
        const migrated = await migrateSchema(client, { schema: sharedSchema, migrations, allowChanged, createSchema: true });
        if (roles !== undefined) await grantSharedTables(client, roles, sharedSchema);
        return migrated;
      }).catch((error: unknown) => {
        throw databaseUnavailable(error) ?? error;
      });
      return { tenantId: undefined, applied: state.applied };
    },

    async tenant(id, { allowChanged = false } = {}) {
      assertTenantId(id);
      const tenant = await registry.get(id);
      if (tenant === undefined) throw new TenantNotFoundError(id);
      const migrations = await tenantMigrations.load();
      return migrateTenant(tenant, migrations, digestOf(migrations), allowChanged);
    },

    async tenants({ concurrency = 4, onProgress, only, allowChanged = false } = {}) {
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new InvalidConfigError(`concurrency must be a positive integer, got ${String(concurrency)}`);
      }
      for (const id of only ?? []) assertTenantId(id);
      const migrations = await tenantMigrations.load();
      const digest = digestOf(migrations);
      const stale = await registry.listStale(digest, only === undefined ? {} : { only });
      const migrated: MigrationResult[] = [];
      const failed: MigrationFailedError[] = [];
      let done = 0;
      let progressError: { error: unknown } | undefined;
      await mapConcurrent(stale, concurrency, async (tenant) => {
        let error: MigrationFailedError | undefined;
        try {
          migrated.push(await migrateTenant(tenant, migrations, digest, allowChanged));
        } catch (caught) {
          error = asMigrationFailure(caught, tenant.id);
          failed.push(error);
        }
        done += 1;
        try {
          onProgress?.({ tenantId: tenant.id, done, total: stale.length, failed: failed.length, ...(error ? { error } : {}) });
        } catch (thrown) {
          progressError ??= { error: thrown };
        }
      });
      if (progressError !== undefined) throw progressError.error;
      if (spares !== undefined && only === undefined) {
        const started = performance.now();
        await spares.migrate({ migrations, version: migrations.at(-1)?.name ?? null, digest }, concurrency).catch((error: unknown) => {
          if (provisioningChannel.hasSubscribers) provisioningChannel.publish({ phase: 'failed', tenantId: null, error, durationMs: performance.now() - started });
        });
      }
      return { total: stale.length, migrated, failed };
    },
  };
}

function asMigrationFailure(error: unknown, tenantId: string): MigrationFailedError {
  if (error instanceof MigrationFailedError) return error;
  const migration = isTenancyError(error) && 'migration' in error ? String(error.migration) : undefined;
  return new MigrationFailedError(tenantId, migration, { cause: error });
}
