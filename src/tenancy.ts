/**
 * `createTenancy()`: wires the registry, the tenant context and the migrations together.
 *
 * @module
 */
import type { TenantScope } from './context.js';
import { TenantContext } from './context.js';
import type { PoolLike } from './db.js';
import { InvalidConfigError, TenantNotFoundError, TenantSuspendedError } from './errors.js';
import { assertSchemaName, assertTenantId } from './identifiers.js';
import { toMigrationSource } from './migrate/folder-source.js';
import type { MigrationsInput } from './migrate/migration.js';
import type { Migrator } from './migrate/migrator.js';
import { createMigrator } from './migrate/migrator.js';
import { createProvisioner } from './provision/provisioner.js';
import { MemoryRegistry } from './registry/memory-registry.js';
import { PostgresRegistry } from './registry/postgres-registry.js';
import type { CreateTenantInput, TenantRegistry } from './registry/registry.js';
import { registryMigrations } from './registry/registry-migrations.js';
import type { Tenant } from './types.js';

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
  /**
   * Runs `fn` with a tenant active. An id is looked up in the registry: an invalid id throws
   * `InvalidTenantIdError`, an unknown one `TenantNotFoundError`, a suspended one
   * `TenantSuspendedError`. Nested runs restore the outer tenant when they end.
   */
  run<R>(tenantOrId: Tenant | string, fn: () => R): Promise<Awaited<R>>;
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
  const { pool, schemaPrefix = 'tenant_' } = options;
  if (pool !== undefined && (typeof pool.query !== 'function' || typeof pool.connect !== 'function')) {
    throw new InvalidConfigError('createTenancy: `pool` must be a pg.Pool (with query and connect)');
  }
  const sharedSchema = options.sharedSchema ?? 'public';
  if (sharedSchema !== 'public') assertSchemaName(sharedSchema);
  assertSchemaName(`${schemaPrefix}x`);

  const tenantMigrations = toMigrationSource(options.migrations?.tenant);
  const provisioner = pool === undefined ? undefined : createProvisioner({ pool, sharedSchema, tenantMigrations });
  const registry = makeRegistry(options, sharedSchema, schemaPrefix, provisioner);
  const context = new TenantContext();

  const migrate = createMigrator({
    pool,
    registry,
    sharedSchema,
    builtInShared: registry instanceof PostgresRegistry ? registryMigrations(sharedSchema) : [],
    sharedMigrations: toMigrationSource(options.migrations?.shared),
    tenantMigrations,
  });

  const resolveTenant = async (tenantOrId: Tenant | string): Promise<Tenant> => {
    if (typeof tenantOrId !== 'string') {
      assertTenantId(tenantOrId?.id);
      assertSchemaName(tenantOrId.schema);
      if (tenantOrId.status === 'suspended') throw new TenantSuspendedError(tenantOrId.id);
      return tenantOrId;
    }
    assertTenantId(tenantOrId);
    const tenant = await registry.get(tenantOrId);
    if (tenant === undefined) throw new TenantNotFoundError(tenantOrId);
    if (tenant.status === 'suspended') throw new TenantSuspendedError(tenant.id);
    return tenant;
  };

  return Object.freeze({
    registry,
    migrate,
    sharedSchema,
    async run<R>(tenantOrId: Tenant | string, fn: () => R): Promise<Awaited<R>> {
      const tenant = await resolveTenant(tenantOrId);
      return context.runWith(tenant, async (): Promise<Awaited<R>> => await fn());
    },
    runShared: <R>(fn: () => R): R => context.runShared(fn),
    current: () => context.current(),
    require: () => context.require(),
    scope: () => context.scope(),
    bind: <A extends unknown[], R>(fn: (...args: A) => R) => context.bind(fn),
  });
}

function makeRegistry(
  options: TenancyOptions,
  sharedSchema: string,
  schemaPrefix: string,
  provisioner: ReturnType<typeof createProvisioner> | undefined,
): TenantRegistry {
  const kind = options.registry ?? (options.pool === undefined ? 'memory' : 'postgres');
  if (typeof kind === 'object' && kind !== null) return kind;
  if (kind === 'memory') {
    return new MemoryRegistry({ schemaPrefix, ...(options.tenants ? { tenants: options.tenants } : {}), ...(provisioner ? { provisioner } : {}) });
  }
  if (kind === 'postgres') {
    if (options.pool === undefined) throw new InvalidConfigError("registry: 'postgres' needs createTenancy({ pool })");
    if (options.tenants !== undefined) throw new InvalidConfigError('`tenants` seeds an in-memory registry only; use registry.create with PostgreSQL');
    return new PostgresRegistry({ pool: options.pool, sharedSchema, schemaPrefix, ...(provisioner ? { provisioner } : {}) });
  }
  throw new InvalidConfigError(`registry must be 'postgres', 'memory' or a registry object, got ${JSON.stringify(kind)}`);
}
