/**
 * `createTenancy()`: wires the registry, the tenant context and the migrations together.
 *
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import type { BackupContext } from './backup/backup-context.js';
import type { BackupSummary } from './backup/backup-schema.js';
import type { BackupOptions } from './backup/backup-tenant.js';
import { backupShared, backupTenant } from './backup/backup-tenant.js';
import type { CloneOptions } from './backup/clone-tenant.js';
import { cloneTenant } from './backup/clone-tenant.js';
import type { ExportOptions, ExportSummary } from './backup/export-tenant.js';
import { exportTenant } from './backup/export-tenant.js';
import type { RestoreOptions, RestoreSummary } from './backup/restore-tenant.js';
import { restoreTenant } from './backup/restore-tenant.js';
import { checkTenancy } from './check/check-tenancy.js';
import type { TenancyCheckReport } from './check/startup-check.js';
import type { TenantScope } from './context.js';
import { TenantContext } from './context.js';
import type { PoolLike } from './db.js';
import { InvalidConfigError, NoTenantError, TenantNotFoundError, TenantSuspendedError } from './errors.js';
import type { ForEachTenantCall, ForEachTenantOptions, ForEachTenantReport } from './fleet/for-each-tenant.js';
import { forEachTenant } from './fleet/for-each-tenant.js';
import { impersonationOf, recordImpersonation } from './fleet/impersonation.js';
import { type ImpersonationEvent, impersonationChannel } from './diagnostics.js';
import { auditMigration, sparesMigration } from './registry/registry-migrations.js';
import type { SparesOptions, TenantSpares } from './provision/spare-pool.js';
import { SparePool, sparesOptions } from './provision/spare-pool.js';
import { assertSparePrefix } from './provision/spare-names.js';
import { normalizeDomain } from './domains.js';
import { assertSchemaName, assertTenantId, isValidTenantId } from './identifiers.js';
import { toMigrationSource } from './migrate/folder-source.js';
import type { MigrationsInput } from './migrate/migration.js';
import type { Migrator, MigratorOptions } from './migrate/migrator.js';
import { createMigrator } from './migrate/migrator.js';
import { createProvisioner } from './provision/provisioner.js';
import { MemoryRegistry } from './registry/memory-registry.js';
import { PostgresRegistry } from './registry/postgres-registry.js';
import type { CreateTenantInput, TenantRegistry } from './registry/registry.js';
import type { ChangeListener } from './registry/change-channel.js';
import { listenForChanges } from './registry/change-channel.js';
import type { TenantCacheOptions } from './registry/tenant-cache.js';
import { TenantCache } from './registry/tenant-cache.js';
import type { TenantMatch, TenantRequest, TenantResolver } from './resolvers/resolver.js';
import { type ResolveRequestNow, resolveRequestNow, runInScope, serversOf, singleTenantPools, tenantRoutes } from './tenancy-internals.js';
import { andThen, isPromise, type MaybePromise } from './util/maybe-promise.js';
import type { Tenant } from './types.js';
import type { TenantRoleNames, TenantRolesOptions } from './strategy/tenant-roles.js';
import { tenantRoleNames, withRoleMarker } from './strategy/tenant-roles.js';
import { observedBackup } from './backup/observed-backup.js';
import { type MoveContext, type MoveOptions, type MoveSummary, moveTenant } from './provision/move-tenant.js';
import { moveStrategy, type StrategyMoveContext, type StrategyMoveSummary, type StrategyTarget } from './strategy/strategy-move.js';
import { Servers, type ServerInput } from './placement/servers.js';
import { serverPlacement, type TenantPlacement } from './placement/placement.js';
import { placedProvisioner } from './placement/placed-provisioner.js';
import { createRowLevelProvisioner, rowLevelMigration, rowLevelRolesMigration, schemaPlacedMigration } from './strategy/row-level.js';
import type { TenancyStrategy } from './strategy/tenancy-strategy.js';
import { databasePlacement, type DatabaseStrategyOptions } from './strategy/database.js';

/**
 * Options of {@link createTenancy}.
 *
 * @example
 * ```ts
 * const tenancy = createTenancy({
 *   pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
 *   migrations: { shared: './migrations/shared', tenant: './migrations/tenant' },
 * });
 * ```
 */
export interface TenancyOptions {
  /** A pg.Pool for the registry, provisioning and migrations. */
  readonly pool?: PoolLike;
  /** The schema of the registry and the shared tables (default `public`). */
  readonly sharedSchema?: string;
  /** Prefix of derived tenant schema names (default `tenant_`). */
  readonly schemaPrefix?: string;
  /**
   * Where tenants are registered: `'postgres'` (the default with a pool; tables in the shared
   * schema), `'memory'` (the default without a pool; tests and static setups) or your own registry.
   */
  readonly registry?: 'postgres' | 'memory' | TenantRegistry;
  /** Tenants an in-memory registry starts with (no schema is created for them). */
  readonly tenants?: readonly CreateTenantInput[];
  /** Folders (or lists, or sources) of shared and tenant migrations. */
  readonly migrations?: { readonly shared?: MigrationsInput; readonly tenant?: MigrationsInput };
  /** How requests name their tenant (used by the HTTP adapters and `tenancy.resolveRequest`). */
  readonly resolver?: TenantResolver;
  /** The registry lookup cache, or `false` to look every tenant up in the registry. */
  readonly cache?: TenantCacheOptions | false;
  /**
   * A NOLOGIN PostgreSQL role per tenant (default off): provisioning creates it with USAGE on the
   * tenant's schema only, and tenantPool switches to it (`SET ROLE`) with the search_path, in
   * the same round trip, so a query that escapes the client's scoping gets a permission error
   * instead of another tenant's rows. See docs/security.md.
   */
  readonly tenantRoles?: boolean | TenantRolesOptions;
  /**
   * Records every `tenancy.impersonate` in a shared table, `tenantry_audit` (default off; the
   * diagnostics channel reports them either way). `migrate.shared()` creates the table; a
   * recording that fails stops the impersonation before it runs.
   */
  readonly audit?: boolean;
  /**
   * Spare tenants (default off): `count` schemas (and roles) provisioned ahead at the latest
   * tenant migrations, under reserved names, that `registry.create` claims with a rename in its
   * transaction (no migration runs) before it falls back to a full provisioning. Refilled in the
   * background after each create unless `refill: false`; `tenancy.spares.fill()` (or `tenantry
   * spares fill`) makes them. Needs the PostgreSQL registry; `migrate.shared()` creates their
   * table. See docs/provisioning.md.
   */
  readonly spares?: SparesOptions;
  /**
   * How tenants are kept apart: `'schema'` (default), a schema per tenant; or `'rls'`, shared
   * tables with a tenant column that PostgreSQL's row-level security filters on the active
   * tenant (docs/rls.md). Under `'rls'` there are no tenant migrations: tenant-scoped tables are
   * made in the shared migrations with `tenantry_tenant_table('products')`. Or `'database'`, a
   * database per tenant on the registry's server or the server of `servers` its placement names
   * (named after the tenant's schema, with the tenant's tables in that schema inside it), reached
   * through per-database pools under one connection budget (`databases`); shared tables stay in the registry's database, which tenant
   * databases cannot join. See docs/scaling.md.
   */
  readonly strategy?: TenancyStrategy;
  /**
   * The database strategy's connections (`strategy: 'database'`): `maxConnections`, the most
   * connections open at once to tenant databases, across all of them (default 10).
   *
   * @example
   * ```ts
   * createTenancy({ pool, strategy: 'database', databases: { maxConnections: 20 } });
   * ```
   */
  readonly databases?: DatabaseStrategyOptions;
  /**
   * The servers tenants are placed on, by name: a pg.Pool each, or a URL (tenantry makes that
   * pool, and ends it with `tenancy.close()`). A tenant's `placement` names its server;
   * `'default'` (the default) is the registry's server: the one whose pool is `pool`, else the
   * first. tenantPool routes each tenant's queries to its server, `registry.create({ placement })`
   * provisions there, `tenancy.move(id, server)` moves a tenant. See docs/scaling.md.
   *
   * @example
   * ```ts
   * declare const euPool: import('./db.js').PoolLike;
   * createTenancy({ pool, servers: { main: pool, eu: euPool } });
   * ```
   */
  readonly servers?: Readonly<Record<string, ServerInput>>;
}

/**
 * Who acts inside a tenant with `tenancy.impersonate`, and why.
 *
 * @example
 * ```ts
 * const by: Impersonator = { actor: 'support:jane@example.com', reason: 'ticket 4711: stock counts look wrong' };
 * ```
 */
export interface Impersonator {
  /** Who: a staff user id or e-mail (1 to 200 characters). */
  readonly actor: string;
  /** Why: a ticket, an incident (1 to 1000 characters). */
  readonly reason: string;
}

/**
 * What {@link Tenancy.resolveRequest} found: the tenant, and for a path prefix the path the app should route.
 *
 * @example
 * ```ts
 * const found = await tenancy.resolveRequest({ host: 'acme.example.com', path: '/', method: 'GET', headers: {} });
 * found?.tenant.id; // 'acme'
 * ```
 */
export interface RequestTenant {
  readonly tenant: Tenant;
  readonly path?: string;
}

/**
 * A tenancy: the registry, the tenant context and the migrations of one app.
 *
 * @example
 * ```ts
 * await tenancy.run('acme', async () => {
 *   tenancy.require().schema; // 'tenant_acme'
 * });
 * ```
 */
export interface Tenancy {
  readonly registry: TenantRegistry;
  readonly migrate: Migrator;
  /** The schema of the registry and shared tables. */
  readonly sharedSchema: string;
  /** The tenant roles' names, or `undefined` when `tenantRoles` is off. */
  readonly tenantRoles: TenantRoleNames | undefined;
  /** How tenants are kept apart: a schema each, or shared tables under row-level security. */
  readonly strategy: TenancyStrategy;
  /**
   * The spare tenants, with `createTenancy({ spares })`; `undefined` otherwise.
   *
   * @example
   * ```ts
   * await tenancy.spares?.fill(); // at deploy time, after migrate.tenants()
   * ```
   */
  readonly spares: TenantSpares | undefined;
  /**
   * Runs `fn` with a tenant active. An id is looked up in the registry: an invalid id throws
   * `InvalidTenantIdError`, an unknown one `TenantNotFoundError`, a suspended one
   * `TenantSuspendedError`. Nested runs restore the outer tenant when they end.
   */
  run<R>(tenantOrId: Tenant | string, fn: () => R): Promise<Awaited<R>>;
  /**
   * Runs `fn` synchronously with this Tenant object active: no lookup and no status check (the
   * caller has done both). For adapters and code that already holds the tenant. Extra arguments
   * are passed to `fn`, as `AsyncLocalStorage#run` does, so a hot path needs no closure.
   *
   * @example
   * ```ts
   * tenancy.runTenant(tenant, (next) => next(), done);
   * ```
   */
  runTenant<A extends unknown[], R>(tenant: Tenant, fn: (...args: A) => R, ...args: A): R;
  /** Runs `fn` in the explicit shared scope: no tenant, shared tables on purpose. */
  runShared<R>(fn: () => R): R;
  /** The active tenant, or `undefined` outside a tenant scope. */
  current(): Tenant | undefined;
  /** The active tenant; throws `NoTenantError` when there is none. */
  require(): Tenant;
  /** The active scope (a tenant, or shared), or `undefined` outside any run. */
  scope(): TenantScope | undefined;
  /** Binds a callback to the scope active now, for callbacks that run after the request moved on. */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  /**
   * Runs `fn` for every active tenant, inside that tenant's scope, `concurrency` (4) at a time,
   * reading the registry a page at a time. One tenant's failure does not stop the others: the
   * report lists each value and each failure (`report.throwIfFailed()` throws them as one
   * `TenantsFailedError`). An aborted `signal` stops it from starting more tenants.
   *
   * @example
   * ```ts
   * const report = await tenancy.forEachTenant(
   *   async () => (await db.query<{ n: number }>('select count(*)::int as n from products')).rows[0]?.n,
   *   { concurrency: 8, onProgress: ({ done }) => console.log(done) },
   * );
   * report.throwIfFailed();
   * ```
   */
  forEachTenant<R>(fn: (tenant: Tenant, call: ForEachTenantCall) => R | Promise<R>, options?: ForEachTenantOptions): Promise<ForEachTenantReport<Awaited<R>>>;
  /**
   * A key for caches, object storage and lock names that starts with the active tenant's id:
   * `tenancy.key('products', 42)` is `'acme:products:42'` in acme's scope. Throws
   * `NoTenantError` with no tenant active (also in `runShared`), so a key cannot lose its tenant.
   *
   * @example
   * ```ts
   * const cache = new Map<string, unknown>();
 * cache.set(tenancy.key('products', 7), { name: 'Bolt' }); // key 'acme:products:7'
   * ```
   */
  key(...parts: readonly (string | number)[]): string;
  /**
   * Runs `fn` inside a tenant's scope on behalf of platform staff, and records it: who (`actor`),
   * why (`reason`) and when go to the `tenantry:impersonation` diagnostics channel and, with
   * `createTenancy({ audit: true })`, into the shared `tenantry_audit` table before `fn` starts.
   * The tenant is looked up and checked as `run` does.
   *
   * @example
   * ```ts
   * await tenancy.impersonate('acme', { actor: 'support:jane', reason: 'ticket 4711' }, () =>
   *   db.query('select * from stock_movements order by id desc limit 20'),
   * );
   * ```
   */
  impersonate<R>(tenantOrId: Tenant | string, by: Impersonator, fn: () => R): Promise<Awaited<R>>;
  /** Looks a tenant up by id through the cache; `undefined` when unknown (or the id is invalid). */
  lookup(id: string): Promise<Tenant | undefined>;
  /** Looks a tenant up by one of its domains through the cache. */
  lookupDomain(domain: string): Promise<Tenant | undefined>;
  /**
   * Finds the tenant a request names with the configured (or given) resolver: `null` when no
   * resolver matched; `TenantNotFoundError` when one matched an unknown tenant; bad input throws
   * its typed error (400). The tenant's status is not checked: suspended tenants are returned.
   */
  resolveRequest(request: TenantRequest, resolver?: TenantResolver): Promise<RequestTenant | null>;
  /**
   * The start-up check, for an app to await before it serves: PostgreSQL answers, the registry's
   * tables are there at the version this tenantry needs, the shared migrations are applied and
   * no tenant is behind the tenant migrations. What makes the app unusable throws
   * (`DatabaseUnavailableError`, which says what to fix, such as "set DATABASE_URL";
   * `RegistryNotMigratedError`); migrations not applied yet are warnings in the report. A
   * tenancy without a pool skips the database checks.
   *
   * @example
   * ```ts
   * await tenancy.migrate.shared();
   * const { warnings } = await tenancy.check();
   * for (const warning of warnings) console.warn(warning);
   * ```
   */
  check(): Promise<TenancyCheckReport>;
  /**
   * Writes a portable archive of one tenant to `destination` (and ends it): its registry record
   * and domains, its migrations, each table's rows (COPY, streamed, gzip) with counts and
   * checksums, and its sequences, all from one REPEATABLE READ snapshot while the tenant keeps
   * serving writes. Memory stays flat whatever the tenant's size. See docs/backup.md.
   *
   * @example
   * ```ts
   * import { createWriteStream } from 'node:fs';
   * const { rows } = await tenancy.backup('acme', createWriteStream('acme.tenantry.gz'));
   * ```
   */
  backup(id: string, destination: Writable, options?: BackupOptions): Promise<BackupSummary>;
  /**
   * Writes an archive of the app's shared tables (every table of the shared schema except
   * tenantry's own `tenantry_*` tables), as `tenantry backup --shared` does.
   *
   * @example
   * ```ts
   * import { createWriteStream } from 'node:fs';
   * await tenancy.backupShared(createWriteStream('shared.tenantry.gz'));
   * ```
   */
  backupShared(destination: Writable, options?: BackupOptions): Promise<BackupSummary>;
  /**
   * Restores a tenant archive, under its own id or `options.id` (a clone). The schema is built
   * by the archive's migrations (refused with `BackupMigrationsError` when the app lacks one or
   * has it edited, unless allowed), the rows are loaded with COPY and checked against their
   * counts and checksums, the sequences set, the newer migrations applied; the tenant is
   * registered when all of that succeeded, in the same transaction. A corrupted or truncated
   * archive is a `BackupArchiveError`; any failure leaves nothing behind.
   *
   * @example
   * ```ts
   * import { createReadStream } from 'node:fs';
   * const { tenant } = await tenancy.restore(createReadStream('acme.tenantry.gz'), { id: 'acme-copy' });
   * ```
   */
  restore(source: Readable | AsyncIterable<Uint8Array>, options?: RestoreOptions): Promise<RestoreSummary>;
  /**
   * Copies a tenant into a new one: a backup piped into a restore, without a file (it uses two
   * connections of the pool). The clone gets no domains unless `options.domains` names some.
   *
   * @example
   * ```ts
   * await tenancy.clone('acme', 'acme-staging', { name: 'Acme (staging)' });
   * ```
   */
  clone(fromId: string, toId: string, options?: CloneOptions): Promise<RestoreSummary>;
  /**
   * Writes a tenant's data for people to `directory`: one JSON (or CSV) file per table and a
   * `tenant.json` with its record and domains, from one snapshot.
   *
   * @example
   * ```ts
   * await tenancy.exportTenant('acme', './exports/acme', { format: 'csv' });
   * ```
   */
  exportTenant(id: string, directory: string, options?: ExportOptions): Promise<ExportSummary>;
  /**
   * Moves a tenant to another server of `createTenancy({ servers })` without losing an
   * acknowledged write: its writes are paused (status `moving`: tenantPool refuses them with
   * `TenantMovingError`, the adapters answer 503 with `Retry-After`; reads go on), its rows are
   * copied in one snapshot, the registry switches its placement (every process's cache hears of
   * it) and the old schema is dropped. A failure leaves the tenant where it was, active. See
   * docs/scaling.md.
   *
   * @example
   * ```ts
   * const { pausedMs, rows } = await tenancy.move('acme', 'eu');
   * ```
   */
  move(id: string, server: string, options?: MoveOptions): Promise<MoveSummary>;
  /**
   * Moves a tenant of a row-level tenancy (`strategy: 'rls'`) out of the shared tables into a
   * schema of its own (`{ strategy: 'schema' }`: a big tenant outgrew them), or back (`{
   * strategy: 'rls' }`), without losing an acknowledged write: its writes are paused (status
   * `moving`, as for a move between servers), and one transaction builds the schema's tables
   * from the shared ones (or drops them), copies its rows, removes them from where they were and
   * switches the registry. A failure leaves the tenant where it was, active. See docs/rls.md,
   * "Moving between strategies".
   *
   * @example
   * ```ts
   * const { rows, pausedMs } = await tenancy.move('acme', { strategy: 'schema' });
   * await tenancy.move('acme', { strategy: 'rls' });
   * ```
   */
  move(id: string, target: StrategyTarget, options?: MoveOptions): Promise<StrategyMoveSummary>;
  /**
   * Stops listening for registry changes of other processes (for good: later lookups rely on the
   * cache's TTL alone). Call it when you stop, with `pool.end()`.
   */
  close(): Promise<void>;
}

/**
 * Creates a tenancy.
 *
 * @example
 * ```ts
 * const tenancy = createTenancy({ pool, migrations: { tenant: './migrations/tenant' } });
 * await tenancy.migrate.shared();
 * await tenancy.registry.create({ id: 'acme', name: 'Acme' });
 * await tenancy.run('acme', () => doWork());
 * ```
 */
export function createTenancy(options: TenancyOptions = {}): Tenancy {
  if (typeof options !== 'object' || options === null) throw new InvalidConfigError('createTenancy expects an options object');
  const servers = new Servers(options.servers, options.pool);
  const pool = options.pool ?? servers.homePool;
  const { schemaPrefix = 'tenant_' } = options;
  if (pool !== undefined && (typeof pool.query !== 'function' || typeof pool.connect !== 'function')) {
    throw new InvalidConfigError('createTenancy: `pool` must be a pg.Pool (with query and connect)');
  }
  const sharedSchema = options.sharedSchema ?? 'public';
  if (sharedSchema !== 'public') assertSchemaName(sharedSchema);
  assertSchemaName(`${schemaPrefix}x`);

  const strategy = strategyOf(options);
  const roles = tenantRoleNames(options.tenantRoles);
  // Row-level tenants have no migrations of their own, and their roles need no schema grants.
  const tenantMigrations = strategy === 'rls' ? toMigrationSource(undefined) : withRoleMarker(toMigrationSource(options.migrations?.tenant), roles);
  const provisioner =
    pool === undefined
      ? undefined
      : strategy === 'rls'
        ? createRowLevelProvisioner({ pool, sharedSchema, roles })
        : createProvisioner({ pool, sharedSchema, tenantMigrations, roles });
  const placement = pool === undefined ? undefined : placementOf(servers, pool, { sharedSchema, tenantMigrations, roles, strategy, databases: options.databases });
  const spares = makeSpares(options, schemaPrefix, provisioner);
  const cache = options.cache === false ? undefined : new TenantCache(options.cache);
  const onChange = (tenantId: string): void => cache?.invalidate(tenantId);
  const registry = makeRegistry(pool === undefined ? options : { ...options, pool }, sharedSchema, schemaPrefix, provisioner, spares, onChange, placement);
  const context = new TenantContext();
  let listener: ChangeListener | undefined;
  let closed = false;
  const listenForOthers = (): void => {
    if (closed || listener !== undefined || cache === undefined || pool === undefined) return;
    if (options.cache !== undefined && options.cache !== false && options.cache.listen === false) return;
    if (typeof registry.sharedMigrations !== 'function') return;
    listener = listenForChanges(pool, sharedSchema, onChange, () => cache.clear());
  };

  const migratorOptions: MigratorOptions = {
    pool,
    registry,
    sharedSchema,
    builtInShared: [
      ...(registry.sharedMigrations?.() ?? []),
      ...(options.audit === true ? [auditMigration(sharedSchema)] : []),
      ...(strategy === 'rls' ? [rowLevelMigration(sharedSchema)] : []),
      ...(strategy === 'rls' && roles !== undefined ? [rowLevelRolesMigration(sharedSchema, roles)] : []),
      ...(strategy === 'rls' ? [schemaPlacedMigration(sharedSchema)] : []),
      ...(spares === undefined ? [] : [sparesMigration(sharedSchema)]),
    ],
    sharedMigrations: toMigrationSource(options.migrations?.shared),
    tenantMigrations,
    roles,
    strategy,
    spares,
    ...(placement?.spread === true ? { placement } : {}),
  };
  const migrate = createMigrator(migratorOptions);

  const loadById = (id: string): Promise<Tenant | undefined> => registry.get(id);
  const loadByDomain = (domain: string): Promise<Tenant | undefined> => registry.getByDomain(domain);
  const lookup = (id: string): Promise<Tenant | undefined> => {
    if (cache === undefined) return loadById(id);
    listenForOthers();
    return cache.byId(id, loadById);
  };
  const lookupDomain = (domain: string): Promise<Tenant | undefined> => {
    const name = normalizeDomain(domain);
    if (cache === undefined) return loadByDomain(name);
    listenForOthers();
    return cache.byDomain(name, loadByDomain);
  };

  /** The tenant a run is for: at once for a Tenant object or a cached id, else after the lookup. */
  const resolveTenant = (tenantOrId: Tenant | string): MaybePromise<Tenant> => {
    if (typeof tenantOrId !== 'string') {
      assertTenantShape(tenantOrId);
      return activeTenant(tenantOrId, tenantOrId.id);
    }
    return andThen(lookupNow(tenantOrId), (tenant) => activeTenant(tenant, tenantOrId));
  };

  /**
   * A cached tenant now, or the registry lookup. The id is checked only when it is not cached:
   * an id the cache holds was checked before it got there.
   */
  const lookupNow = (id: unknown): MaybePromise<Tenant | undefined> => {
    const cached = typeof id === 'string' ? cache?.peekId(id, loadById) : undefined;
    if (cached === null) return undefined;
    if (cached !== undefined) return cached;
    assertTenantId(id);
    return lookup(id);
  };

  // One object for every resolver call, set once the tenancy exists.
  const resolverContext = {} as { tenancy: Tenancy };
  const resolveNow: ResolveRequestNow = (request, resolver) => {
    const resolve = resolver ?? options.resolver;
    if (resolve === undefined) throw new InvalidConfigError('No resolver: pass createTenancy({ resolver }) or the adapter option `resolver`');
    const match = resolve(request, resolverContext);
    return isPromise(match) ? match.then(tenantOfMatch) : tenantOfMatch(match);
  };

  /** The registry's tenant for what a resolver found; the cache answers at once when it can. */
  const tenantOfMatch = (match: string | TenantMatch | null | undefined): MaybePromise<RequestTenant | null> => {
    if (match === null || match === undefined) return null;
    const tenantId = typeof match === 'string' ? match : match.tenantId;
    const tenant = lookupNow(tenantId);
    return isPromise(tenant) ? tenant.then((found) => requestTenantOf(found, tenantId, match)) : requestTenantOf(tenant, tenantId, match);
  };

  const backups = (): BackupContext => {
    if (pool === undefined || provisioner === undefined) throw new InvalidConfigError('Backups and restores need createTenancy({ pool })');
    return {
      pool,
      strategy,
      registry,
      sharedSchema,
      schemaPrefix,
      provisioner,
      tenantMigrations: () => migrate.tenantMigrations(),
      onChange,
      ...(placement?.spread === true ? { poolOf: (tenant: Tenant) => placement.poolOf(tenant), placement } : {}),
    };
  };

  const moves = (): MoveContext => {
    const context = backups();
    if (placement?.spread !== true || !servers.placed || !(registry instanceof PostgresRegistry)) {
      throw new InvalidConfigError('tenancy.move needs createTenancy({ pool, servers }) with the PostgreSQL registry');
    }
    const budget = options.databases?.maxConnections ?? 10;
    if (strategy === 'database' && budget < 3) {
      throw new InvalidConfigError(`Moving a tenant database holds three connections of the budget at once (the write lock, the backup, the restore): databases.maxConnections is ${budget}`);
    }
    const home = placedProvisioner(async () => context.pool, (onServer) => createProvisioner({ pool: onServer, sharedSchema, tenantMigrations, roles }));
    // The registry's server has no detached provisioner under the schema strategy: a copy made there for a move is built as on any other server.
    return { registry, servers, placement, backups: context, siteOn: (server) => placement.detached(server) ?? home, databases: strategy === 'database' };
  };

  const strategyMoves = (): StrategyMoveContext => {
    if (strategy !== 'rls' || !(registry instanceof PostgresRegistry)) {
      throw new InvalidConfigError("tenancy.move(id, { strategy }) moves tenants of createTenancy({ pool, strategy: 'rls' }) with the PostgreSQL registry between the shared tables and a schema of their own");
    }
    return { registry, sharedSchema, roles };
  };

  const tenancy: Tenancy = Object.freeze({
    registry,
    migrate,
    sharedSchema,
    tenantRoles: roles,
    strategy,
    spares,
    // No async function: a run given a Tenant object or a cached id starts `fn` at once and
    // creates no promise of its own beyond the one it returns (each costs an async hook).
    run<R>(tenantOrId: Tenant | string, fn: () => R): Promise<Awaited<R>> {
      try {
        const tenant = resolveTenant(tenantOrId);
        if (isPromise(tenant)) return tenant.then((resolved) => context.runWith(resolved, fn)) as Promise<Awaited<R>>;
        return Promise.resolve(context.runWith(tenant, fn));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
    runTenant: <A extends unknown[], R>(tenant: Tenant, fn: (...args: A) => R, ...args: A): R => {
      assertTenantShape(tenant);
      return context.runWith(tenant, fn, ...args);
    },
    runShared: <R>(fn: () => R): R => context.runShared(fn),
    current: () => context.current(),
    require: () => context.require(),
    scope: () => context.scope(),
    bind: <A extends unknown[], R>(fn: (...args: A) => R) => context.bind(fn),
    lookup: (id: string) => (isValidTenantId(id) ? lookup(id) : Promise.resolve(undefined)),
    lookupDomain,
    check: () => checkTenancy(migratorOptions),
    async impersonate<R>(tenantOrId: Tenant | string, by: Impersonator, fn: () => R): Promise<Awaited<R>> {
      const event = impersonationOf(tenantOrId, by);
      const tenant = await resolveTenant(tenantOrId);
      const record: ImpersonationEvent = { ...event, tenantId: tenant.id };
      if (impersonationChannel.hasSubscribers) impersonationChannel.publish(record);
      if (options.audit === true) {
        if (pool === undefined) throw new InvalidConfigError('createTenancy({ audit: true }) needs a pool to record impersonations');
        await recordImpersonation(pool, sharedSchema, record);
      }
      return context.runWith(tenant, fn) as Awaited<R>;
    },
    forEachTenant: <R>(fn: (tenant: Tenant, call: ForEachTenantCall) => R | Promise<R>, forEachOptions?: ForEachTenantOptions) =>
      forEachTenant({ list: (input) => registry.list(input), run: (tenant, inScope) => tenancy.run(tenant, inScope) }, fn, forEachOptions),
    key: (...parts: readonly (string | number)[]): string => {
      const tenant = context.current();
      if (tenant === undefined) throw new NoTenantError('A tenant key');
      return parts.length === 0 ? tenant.id : `${tenant.id}:${parts.join(':')}`;
    },
    backup: async (id: string, destination: Writable, backupOptions?: BackupOptions) =>
      observedBackup('backup', id, () => backupTenant(backups(), id, destination, backupOptions)),
    backupShared: async (destination: Writable, backupOptions?: BackupOptions) =>
      observedBackup('backup-shared', null, () => backupShared(backups(), destination, backupOptions)),
    restore: async (source: Readable | AsyncIterable<Uint8Array>, restoreOptions?: RestoreOptions) =>
      observedBackup('restore', restoreOptions?.id ?? null, () => restoreTenant(backups(), source, restoreOptions)),
    clone: async (fromId: string, toId: string, cloneOptions?: CloneOptions) => {
      if (strategy === 'database' && (options.databases?.maxConnections ?? 10) < 2) {
        throw new InvalidConfigError('Cloning a tenant database holds two connections of the budget at once (the backup, the restore): databases.maxConnections is 1');
      }
      return observedBackup('clone', toId, () => cloneTenant(backups(), fromId, toId, cloneOptions));
    },
    exportTenant: async (id: string, directory: string, exportOptions?: ExportOptions) => {
      return exportTenant(backups(), id, directory, exportOptions);
    },
    move: (async (id: string, target: string | StrategyTarget, moveOptions?: MoveOptions) =>
      typeof target === 'object' && target !== null
        ? moveStrategy(strategyMoves(), id, target.strategy, moveOptions)
        : observedBackup('move', id, () => moveTenant(moves(), id, target, moveOptions))) as Tenancy['move'],
    async resolveRequest(request: TenantRequest, resolver?: TenantResolver): Promise<RequestTenant | null> {
      return resolveNow(request, resolver);
    },
    async close() {
      closed = true;
      const running = listener;
      listener = undefined;
      await Promise.all([running?.close(), spares?.close(), placement?.close()]);
    },
  });
  resolverContext.tenancy = tenancy;
  Object.freeze(resolverContext);
  resolveRequestNow.set(tenancy, resolveNow);
  runInScope.set(tenancy, context.runIn.bind(context));
  serversOf.set(tenancy, servers);
  if (placement?.spread === true) tenantRoutes.set(tenancy, (tenant) => placement.routeOf(tenant));
  return tenancy;
}

/**
 * Refuses a Tenant object whose id or schema is not valid (a hand-made one naming a reserved
 * schema, say). A frozen tenant (as registries return them) is checked once.
 */
function assertTenantShape(tenant: Tenant): void {
  if (checkedTenants.has(tenant)) return;
  assertTenantId(tenant?.id);
  assertSchemaName(tenant.schema);
  if (Object.isFrozen(tenant)) checkedTenants.add(tenant);
}

const checkedTenants = new WeakSet<Tenant>();

/** A request's tenant, found by id (and the path a path resolver left). */
function requestTenantOf(tenant: Tenant | undefined, tenantId: string, match: string | TenantMatch): RequestTenant {
  if (tenant === undefined) throw new TenantNotFoundError(tenantId);
  return typeof match === 'string' || match.path === undefined ? { tenant } : { tenant, path: match.path };
}

/** A tenant a run may enter: one that exists and is not suspended. */
function activeTenant(tenant: Tenant | undefined, id: string): Tenant {
  if (tenant === undefined) throw new TenantNotFoundError(id);
  if (tenant.status === 'suspended') throw new TenantSuspendedError(tenant.id);
  return tenant;
}

/** The spare pool of a `spares` option: checked, and refused where `registry.create` cannot claim. */
function makeSpares(options: TenancyOptions, schemaPrefix: string, provisioner: ReturnType<typeof createProvisioner> | undefined): SparePool | undefined {
  const spares = sparesOptions(options.spares);
  if (spares === undefined) return undefined;
  if (options.strategy === 'rls') {
    throw new InvalidConfigError("createTenancy({ strategy: 'rls' }) takes no spares: a row-level tenant is a registry row, created at once");
  }
  const kind = options.registry ?? (options.pool === undefined ? 'memory' : 'postgres');
  if (kind !== 'postgres' || provisioner === undefined) {
    throw new InvalidConfigError("spares need the PostgreSQL registry: createTenancy({ pool, spares }) without `registry` (or registry: 'postgres')");
  }
  assertSparePrefix(schemaPrefix);
  return new SparePool({ ...spares, provisioner, schemaPrefix });
}

/** Where tenants live: on the servers of `servers`, a schema each (the registry's server without it). */
function placementOf(
  servers: Servers,
  pool: PoolLike,
  options: {
    sharedSchema: string;
    tenantMigrations: ReturnType<typeof toMigrationSource>;
    roles: TenantRoleNames | undefined;
    strategy: TenancyStrategy;
    databases: DatabaseStrategyOptions | undefined;
  },
): TenantPlacement {
  if (options.strategy === 'database') {
    const { sharedSchema, tenantMigrations, roles, databases } = options;
    return databasePlacement({ home: pool, servers, sharedSchema, tenantMigrations, roles, databases, onPool: (made) => singleTenantPools.add(made) });
  }
  if (servers.placed && options.strategy === 'rls') {
    throw new InvalidConfigError("createTenancy({ strategy: 'rls' }) keeps every tenant on the registry's server: `servers` is for the schema and database strategies");
  }
  return serverPlacement(servers, pool, (_name, serverPool) =>
    placedProvisioner(serverPool, (onServer) => createProvisioner({ pool: onServer, sharedSchema: options.sharedSchema, tenantMigrations: options.tenantMigrations, roles: options.roles })),
  );
}

function makeRegistry(
  options: TenancyOptions,
  sharedSchema: string,
  schemaPrefix: string,
  provisioner: ReturnType<typeof createProvisioner> | undefined,
  spares: SparePool | undefined,
  onChange: (tenantId: string) => void,
  placement: TenantPlacement | undefined,
): TenantRegistry {
  const kind = options.registry ?? (options.pool === undefined ? 'memory' : 'postgres');
  if (typeof kind === 'object' && kind !== null) return kind;
  if (kind === 'memory') {
    return new MemoryRegistry({ schemaPrefix, onChange, ...(options.tenants ? { tenants: options.tenants } : {}), ...(provisioner ? { provisioner } : {}) });
  }
  if (kind === 'postgres') {
    if (options.pool === undefined) throw new InvalidConfigError("registry: 'postgres' needs createTenancy({ pool })");
    if (options.tenants !== undefined) throw new InvalidConfigError('`tenants` seeds an in-memory registry only; use registry.create with PostgreSQL');
    return new PostgresRegistry({
      pool: options.pool,
      sharedSchema,
      schemaPrefix,
      onChange,
      ...(provisioner ? { provisioner } : {}),
      ...(spares ? { spares } : {}),
      ...(placement?.spread === true ? { placements: placement } : {}),
    });
  }
  throw new InvalidConfigError(`registry must be 'postgres', 'memory' or a registry object, got ${JSON.stringify(kind)}`);
}

/** The strategy option, checked: row-level tenants have no migrations of their own. */
function strategyOf(options: TenancyOptions): TenancyStrategy {
  const strategy = options.strategy ?? 'schema';
  if (strategy !== 'schema' && strategy !== 'rls' && strategy !== 'database') {
    throw new InvalidConfigError(`createTenancy strategy must be 'schema', 'rls' or 'database', got ${JSON.stringify(strategy)}`);
  }
  if (strategy === 'database') assertDatabaseStrategy(options);
  else if (options.databases !== undefined) throw new InvalidConfigError("createTenancy `databases` is for strategy: 'database'");
  if (strategy === 'rls' && options.migrations?.tenant !== undefined) {
    throw new InvalidConfigError(
      "createTenancy({ strategy: 'rls' }) takes no tenant migrations: tenants share the tables of the shared migrations, made tenant-scoped with tenantry_tenant_table() (docs/rls.md)",
    );
  }
  return strategy;
}

/** Refuses what the database strategy does not do: spares, a registry other than PostgreSQL's. */
function assertDatabaseStrategy(options: TenancyOptions): void {
  if (options.spares !== undefined) {
    throw new InvalidConfigError("createTenancy({ strategy: 'database' }) takes no spares: each tenant's database is created by registry.create");
  }
  const kind = options.registry ?? (options.pool === undefined ? 'memory' : 'postgres');
  if (kind !== 'postgres') {
    throw new InvalidConfigError("createTenancy({ strategy: 'database' }) needs the PostgreSQL registry: createTenancy({ pool, strategy: 'database' }) without `registry`");
  }
}
