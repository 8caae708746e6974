/**
 * `tenancy.migrate`: shared migrations, one tenant, or every tenant with pending work.
 *
 * @module
 */
import { type TenantMigrationEvent, provisioningChannel, tenantMigrationChannel } from '../diagnostics.js';
import type { PoolLike } from '../db.js';
import { databaseUnavailable } from '../connection-problem.js';
import { withTransaction } from '../db.js';
import { InvalidConfigError, MigrationFailedError, TenantNotFoundError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { TenantRegistry } from '../registry/registry.js';
import type { Tenant } from '../types.js';
import { FleetRecords } from './fleet-records.js';
import { migrateFleet } from './migrate-fleet.js';
import type { DriftOptions, DriftReport } from '../fleet/schema-drift.js';
import { detectDrift } from '../fleet/schema-drift.js';
import type { Migration, MigrationSource } from './migration.js';
import { digestOf } from './migration.js';
import { migrateSchema } from './schema-migrator.js';
import { grantSharedTables, grantTenantRole } from '../provision/tenant-role-grants.js';
import type { TenancyStrategy } from '../strategy/tenancy-strategy.js';
import type { TenantRoleNames } from '../strategy/tenant-roles.js';
import type { SparePool } from '../provision/spare-pool.js';
import type { TenantPlacement } from '../placement/placement.js';
import { refuseChangesUnderPlacedTenants, tenantTablesShape } from '../strategy/schema-placed-guard.js';

/** What one schema's run applied. */
export interface MigrationResult {
  /** The tenant, or `undefined` for the shared schema. */
  readonly tenantId: string | undefined;
  readonly applied: readonly string[];
}

/**
 * Progress of `migrate.tenants`, reported after each attempt at a tenant.
 *
 * @example
 * ```ts
 * const onProgress = (p: MigrationProgress) => {
 *   if (p.outcome === 'retrying') console.warn(`${p.tenantId}: lock wait, retried later`);
 *   console.log(`${p.done}/${p.total}, ETA ${p.etaMs === undefined ? '?' : Math.round(p.etaMs / 1000)} s`);
 * };
 * await tenancy.migrate.tenants({ onProgress });
 * ```
 */
export interface MigrationProgress {
  readonly tenantId: string;
  /**
   * `migrated` (its transaction committed), `failed` (rolled back, for good in this run), or
   * `retrying`: a statement waited longer than `lock_timeout`, the transaction rolled back, and
   * the tenant goes to the back of the queue.
   */
  readonly outcome: 'migrated' | 'failed' | 'retrying';
  /** What this tenant's run applied (`migrated` only). */
  readonly applied?: readonly string[];
  /** The attempt this event reports, from 1. */
  readonly attempt: number;
  /** Tenants finished (migrated or failed for good). */
  readonly done: number;
  readonly total: number;
  readonly failed: number;
  /** Tenants queued for another attempt after a lock wait. */
  readonly waiting: number;
  /** Since the run started. */
  readonly elapsedMs: number;
  /** The time left at the rate so far; `undefined` until a tenant finished. */
  readonly etaMs: number | undefined;
  /** The error of this attempt (`failed` and `retrying`). */
  readonly error?: MigrationFailedError;
}

/**
 * Options of `migrate.tenants`.
 *
 * @example
 * ```ts
 * await tenancy.migrate.tenants({ concurrency: 8, lockTimeout: 2_000, only: ['acme'], onProgress: (p) => console.log(`${p.done}/${p.total}`) });
 * ```
 */
export interface MigrateTenantsOptions {
  /**
   * Tenants migrated at once; each holds one connection of the pool while it runs. Default: half
   * the pool's `max` (pg.Pool's default 10 gives 5), at least 1 and at most 8; 4 for a pool whose
   * `max` is not known. Never more than the pool's `max`.
   */
  readonly concurrency?: number;
  /**
   * `lock_timeout` of each tenant's migration transaction, in milliseconds (default 5000; `0`
   * waits without limit): a tenant blocked by another session's lock is rolled back and tried
   * again later in the run, instead of stalling its worker (and queueing the app's queries on
   * that table behind the migration).
   */
  readonly lockTimeout?: number;
  /** How many more times a tenant that hit `lock_timeout` is tried, after the others (default 2). */
  readonly lockRetries?: number;
  /** Called after each attempt at a tenant (see {@link MigrationProgress}). */
  readonly onProgress?: (progress: MigrationProgress) => void;
  /** Called when an attempt at a tenant starts, with the number of tenants of the run. */
  readonly onStart?: (tenantId: string, total: number) => void;
  /** Once aborted, no tenant starts; those in flight commit or roll back; the rest are `notStarted`. */
  readonly signal?: AbortSignal;
  /** Migrate only these tenant ids. */
  readonly only?: readonly string[];
  /** Accept applied migrations that were edited (records the new checksum). */
  readonly allowChanged?: boolean;
}

/**
 * What `migrate.tenants` did. A failed tenant does not stop the others; its transaction was
 * rolled back, and a re-run resumes it. (One whose migration committed but whose registry record
 * could not be written fails too, with the registry's error: a re-run finds it behind and records it.)
 * Each tenant's transaction commits without waiting for the disk; the run flushes the WAL before
 * it records a batch of tenants in the registry and before it returns, so what it reports is durable.
 */
export interface MigrateTenantsReport {
  /** Tenants that had work to do (the others were already up to date). */
  readonly total: number;
  readonly migrated: readonly MigrationResult[];
  /** Each failed tenant; one that ran out of lock attempts is a `MigrationLockTimeoutError`. */
  readonly failed: readonly MigrationFailedError[];
  /** Tenants that hit `lock_timeout` at least once (they may have succeeded on a later attempt). */
  readonly retried: readonly string[];
  /** Tenants not started because `signal` aborted; a re-run picks them up. */
  readonly notStarted: readonly string[];
  readonly interrupted: boolean;
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
  /**
   * Applies pending tenant migrations to one tenant; throws {@link MigrationFailedError} on failure.
   * `lockTimeout` (milliseconds) bounds each statement's wait for a lock (default: the session's).
   */
  tenant(id: string, options?: { allowChanged?: boolean; lockTimeout?: number }): Promise<MigrationResult>;
  /**
   * Applies pending tenant migrations to every tenant that has some, found with one registry
   * query (a run with nothing to apply is that one query), then, with spares on and no `only`,
   * to the spares that are behind (a spare whose migration fails is dropped and reported on the
   * `provisioning` channel, not in the report). See {@link MigrateTenantsOptions} for
   * concurrency, `lock_timeout` and retries.
   */
  tenants(options?: MigrateTenantsOptions): Promise<MigrateTenantsReport>;
  /**
   * Compares every tenant schema's structure (tables, columns with their types, nullability and
   * defaults, indexes, constraints, triggers, functions, enum types) with a reference built from
   * the tenant migrations (a scratch schema migrated in a transaction that is rolled back), in a
   * few catalog queries for the whole fleet. Lists each tenant whose schema differs, with what
   * differs; clean tenants are not listed.
   *
   * @example
   * ```ts
   * const { drifted } = await tenancy.migrate.drift();
   * for (const tenant of drifted) {
   *   for (const d of tenant.differences) console.log(`${tenant.tenantId}: ${d.change} ${d.kind} ${d.name}`);
   * }
   * ```
   */
  drift(options?: DriftOptions): Promise<DriftReport>;
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
  /** Where tenants live when they are spread over servers: each tenant migrates on its own; the app's shared migrations run on every server. */
  readonly placement?: TenantPlacement | undefined;
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
  const { registry, sharedSchema, builtInShared, sharedMigrations, tenantMigrations, roles, spares, strategy } = options;

  const requirePool = (): PoolLike => {
    if (options.pool === undefined) throw new InvalidConfigError('Migrations need createTenancy({ pool })');
    return options.pool;
  };

  const migrateTenant = async (tenant: Tenant, run: TenantRun): Promise<MigrationResult> => {
    const started = performance.now();
    if (tenantMigrationChannel.hasSubscribers) tenantMigrationChannel.publish({ phase: 'start', tenantId: tenant.id } satisfies TenantMigrationEvent);
    try {
      const result = await migrateTenantNow(tenant, run);
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

  const migrateTenantNow = async (tenant: Tenant, run: TenantRun): Promise<MigrationResult> => {
    const { migrations, digest, allowChanged, lockTimeoutMs, records } = run;
    const pool = options.placement === undefined ? requirePool() : await options.placement.poolOf(tenant);
    const state = await withTransaction(pool, (client) =>
      migrateSchema(client, {
        schema: tenant.schema,
        sharedSchema,
        migrations,
        allowChanged,
        tenantId: tenant.id,
        asyncCommit: records !== undefined,
        ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
        ...(roles === undefined ? {} : { afterApply: (migrated) => grantTenantRole(migrated, roles, tenant) }),
      }),
    );
    const record = { id: tenant.id, version: state.version, digest };
    if (records === undefined) await registry.recordMigration(tenant.id, record);
    else await records.add(pool, record);
    return { tenantId: tenant.id, applied: state.applied };
  };

  const loadShared = async (): Promise<readonly Migration[]> => [...builtInShared, ...(await sharedMigrations.load())];

  return {
    tenantMigrations: () => tenantMigrations.load(),
    sharedMigrations: loadShared,

    async shared({ allowChanged = false } = {}) {
      const migrations = await loadShared();
      // The shared schema of one server: its migrations, then the tenant roles' grants on its tables.
      const migrateOn = (pool: PoolLike, list: readonly Migration[]) =>
        withTransaction(pool, async (client) => {
          // Row-level tenants moved into schemas of their own hold copies of the tenant-scoped tables.
          const shape = strategy === 'rls' ? await tenantTablesShape(client, sharedSchema) : undefined;
          const migrated = await migrateSchema(client, { schema: sharedSchema, migrations: list, allowChanged, createSchema: true });
          await refuseChangesUnderPlacedTenants(client, sharedSchema, shape, migrated.applied);
          if (roles !== undefined) await grantSharedTables(client, roles, sharedSchema);
          return migrated;
        });
      const state = await migrateOn(requirePool(), migrations).catch((error: unknown) => {
        throw databaseUnavailable(error) ?? error;
      });
      // The app's own shared migrations (not the registry's tables) on the other servers too: their tenants' queries read them there.
      const own = migrations.slice(builtInShared.length);
      for (const serverPool of (await options.placement?.otherPools()) ?? []) await migrateOn(serverPool, own);
      return { tenantId: undefined, applied: state.applied };
    },

    async drift({ only } = {}) {
      const pool = requirePool();
      for (const id of only ?? []) assertTenantId(id);
      const migrations = await tenantMigrations.load();
      const tenants = only === undefined ? await allTenants(registry) : await namedTenants(registry, only);
      const behind = new Set((await registry.listStale(digestOf(migrations), only === undefined ? {} : { only })).map((tenant) => tenant.id));
      const { placement } = options;
      return detectDrift({ pool, sharedSchema, migrations, tenants, behind, ...(placement?.spread === true ? { poolOf: (tenant: Tenant) => placement.poolOf(tenant) } : {}) });
    },

    async tenant(id, { allowChanged = false, lockTimeout } = {}) {
      assertTenantId(id);
      if (lockTimeout !== undefined) assertLockTimeout(lockTimeout);
      const tenant = await registry.get(id);
      if (tenant === undefined) throw new TenantNotFoundError(id);
      const migrations = await tenantMigrations.load();
      return migrateTenant(tenant, { migrations, digest: digestOf(migrations), allowChanged, lockTimeoutMs: lockTimeout });
    },

    async tenants({ concurrency, onProgress, onStart, signal, only, allowChanged = false, lockTimeout = 5_000, lockRetries = 2 } = {}) {
      const poolMax = maxConnections(requirePool());
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
        throw new InvalidConfigError(`concurrency must be a positive integer, got ${String(concurrency)}`);
      }
      if (!Number.isInteger(lockRetries) || lockRetries < 0) {
        throw new InvalidConfigError(`lockRetries must be a whole number, got ${String(lockRetries)}`);
      }
      assertLockTimeout(lockTimeout);
      for (const id of only ?? []) assertTenantId(id);
      const migrations = await tenantMigrations.load();
      const digest = digestOf(migrations);
      const stale = await registry.listStale(digest, only === undefined ? {} : { only });
      const effective = Math.min(concurrency ?? defaultConcurrency(poolMax), poolMax ?? Number.MAX_SAFE_INTEGER);
      const records = new FleetRecords(registry);
      const run: TenantRun = { migrations, digest, allowChanged, lockTimeoutMs: lockTimeout, records };
      let report: MigrateTenantsReport | undefined;
      let unrecorded: ReadonlyMap<string, unknown>;
      try {
        report = await migrateFleet({
          tenants: stale,
          concurrency: effective,
          lockRetries,
          lockTimeoutMs: lockTimeout,
          signal,
          onStart,
          onProgress,
          migrate: (tenant) => migrateTenant(tenant, run),
        });
      } finally {
        unrecorded = await records.finish();
      }
      report = withUnrecorded(report, unrecorded);
      if (spares !== undefined && only === undefined && signal?.aborted !== true) {
        const started = performance.now();
        await spares.migrate({ migrations, version: migrations.at(-1)?.name ?? null, digest }, effective).catch((error: unknown) => {
          if (provisioningChannel.hasSubscribers) provisioningChannel.publish({ phase: 'failed', tenantId: null, error, durationMs: performance.now() - started });
        });
      }
      return report;
    },
  };
}

/** What a run applies to each tenant, and where it records it (a fleet run's batches, or the registry at once). */
interface TenantRun {
  readonly migrations: readonly Migration[];
  readonly digest: string;
  readonly allowChanged: boolean;
  readonly lockTimeoutMs: number | undefined;
  readonly records?: FleetRecords;
}

/** The report, with the tenants whose registry record failed moved from migrated to failed. */
function withUnrecorded(report: MigrateTenantsReport, unrecorded: ReadonlyMap<string, unknown>): MigrateTenantsReport {
  if (unrecorded.size === 0) return report;
  return {
    ...report,
    migrated: report.migrated.filter((result) => !unrecorded.has(result.tenantId!)),
    failed: [...report.failed, ...[...unrecorded].map(([id, cause]) => new MigrationFailedError(id, undefined, { cause }))],
  };
}

/** Every tenant, a registry page (1,000) at a time. */
async function allTenants(registry: TenantRegistry): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  let after: string | undefined;
  do {
    const page = await registry.list({ limit: 1000, after });
    tenants.push(...page.tenants);
    after = page.next;
  } while (after !== undefined);
  return tenants;
}

/** The named tenants; an unknown id throws `TenantNotFoundError`. */
async function namedTenants(registry: TenantRegistry, ids: readonly string[]): Promise<Tenant[]> {
  return Promise.all(
    ids.map(async (id) => {
      const tenant = await registry.get(id);
      if (tenant === undefined) throw new TenantNotFoundError(id);
      return tenant;
    }),
  );
}

/** The pool's `max` (pg.Pool keeps its options), or `undefined` for a pool that does not say. */
function maxConnections(pool: PoolLike): number | undefined {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  return typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : undefined;
}

/** Half the pool, at least 1 and at most 8; 4 when the pool's size is not known. */
function defaultConcurrency(poolMax: number | undefined): number {
  return poolMax === undefined ? 4 : Math.max(1, Math.min(8, Math.floor(poolMax / 2)));
}

function assertLockTimeout(lockTimeout: number): void {
  if (!Number.isInteger(lockTimeout) || lockTimeout < 0) {
    throw new InvalidConfigError(`lockTimeout must be a whole number of milliseconds, got ${String(lockTimeout)}`);
  }
}
