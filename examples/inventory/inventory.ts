/**
 * The inventory app's wiring: one tenancy (registry, resolvers, migrations) and one Kysely
 * instance over tenantPool, handed to the domain modules and the three HTTP entry points.
 *
 * The example imports tenantry from its source (`../../src/…`) so it runs without a build; in
 * your app the same imports are `tenantry`, `tenantry/pg` and `tenantry/kysely`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { chainResolvers, createTenancy, headerResolver, pathResolver, subdomainResolver, type Tenancy } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { type Database, type Db, SHARED_TABLES } from './database.js';
import { LoginThrottle, type LoginThrottleOptions } from './domain/login-throttle.js';
import { DigestJobs } from './jobs/low-stock-digest-jobs.js';

/** The path prefix of path routing: `localhost:3000/t/acme/products`. */
export const PATH_PREFIX = '/t';

/** The header API clients may name their business with. */
export const TENANT_HEADER = 'x-tenant-id';

/**
 * Options of {@link createInventory}.
 *
 * @example
 * ```ts
 * createInventory(pool, { baseDomain: 'inventory.example.com', secureCookies: true });
 * ```
 */
export interface InventoryOptions {
  /**
   * The platform's host name; each business is a subdomain of it (default `localhost`:
   * Chromium, Firefox and curl resolve `acme.localhost` to the loopback address).
   */
  readonly baseDomain?: string;
  /** Mark cookies `Secure` and build `https://` links (default false: the demo is plain HTTP). */
  readonly secureCookies?: boolean;
  /** Where unexpected errors (the 500s) are reported (default `console.error`). */
  readonly logError?: (error: unknown) => void;
  /**
   * The prefix of the businesses' PostgreSQL roles (default `inventory_`). Each business runs as
   * a role of its own that can reach its schema and the shared tables only; role names are
   * cluster-wide, so two copies of the app on one server need prefixes of their own.
   */
  readonly rolePrefix?: string;
  /**
   * Create the businesses' roles WITH LOGIN (default false). Needed on Citus, whose coordinator
   * connects to the workers as the business's role (tenantry's `tenantRoles.login`).
   */
  readonly roleLogin?: boolean;
  /** Log-in throttling (default: 5 failures per account and 20 per address in 15 minutes). */
  readonly loginThrottle?: LoginThrottleOptions;
  /**
   * `'schema'` (default): a schema per business. `'rls'`: every business's rows in shared tables
   * under row-level security (migrations/rls); `pool` must then connect as a role the policies
   * apply to (app-login.ts), with `admin` the owner's pool.
   */
  readonly strategy?: 'schema' | 'rls';
  /** The pool of the tables' owner, for migrations and the registry's writes (default: `pool`). */
  readonly admin?: pg.Pool;
}

/**
 * What the domain modules and the HTTP layers share.
 *
 * @example
 * ```ts
 * const inventory = createInventory(pool);
 * await inventory.tenancy.run('acme', () => listProducts(inventory, {}));
 * ```
 */
export interface Inventory {
  readonly tenancy: Tenancy;
  /** The tenancy on the owner's pool: migrations and the registry's writes (`tenancy` itself without an `admin` pool). */
  readonly admin: Tenancy;
  /** Kysely over tenantPool: tenant tables go to the active business's schema, or throw NoTenantError. */
  readonly db: Db;
  readonly baseDomain: string;
  readonly secureCookies: boolean;
  readonly logError: (error: unknown) => void;
  /** Failed log-ins per account and per address, in this process's memory. */
  readonly loginThrottle: LoginThrottle;
  /** The low-stock digest's queue (pg-boss): stopped until `jobs.start(…)`. */
  readonly jobs: DigestJobs;
  /** Stops the job queue and the tenancy's registry listener. The pool is the caller's: end it after this. */
  close(): Promise<void>;
}

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * Creates the tenancy and the Kysely instance of the inventory app on a pg pool the caller owns.
 *
 * A request names its business by subdomain (`acme.localhost`), by path (`/t/acme/…`) or, for
 * API clients, by the `x-tenant-id` header; the first that matches wins. None of them is trusted
 * on its own: every page and API call that reads a business's data also needs a session of
 * that business (see http/api.ts and http/pages.ts).
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const inventory = createInventory(pool);
 * await inventory.tenancy.migrate.shared();
 * ```
 */
export function createInventory(pool: pg.Pool, options: InventoryOptions = {}): Inventory {
  const baseDomain = options.baseDomain ?? 'localhost';
  const strategy = options.strategy ?? 'schema';
  const settings = {
    strategy,
    tenantRoles: { prefix: options.rolePrefix ?? 'inventory_', login: options.roleLogin ?? false },
    migrations: strategy === 'rls' ? { shared: here('./migrations/rls') } : { shared: here('./migrations/shared'), tenant: here('./migrations/tenant') },
  };
  const tenancy = createTenancy({
    pool,
    ...settings,
    resolver: chainResolvers(
      subdomainResolver({ baseDomain }),
      pathResolver({ prefix: PATH_PREFIX }),
      headerResolver({ name: TENANT_HEADER }),
    ),
  });
  const admin = options.admin === undefined ? tenancy : createTenancy({ pool: options.admin, ...settings });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, pool) }),
    plugins: [tenantPlugin(tenancy, { sharedTables: SHARED_TABLES })],
  });
  const inventory: Inventory = {
    tenancy,
    admin,
    db,
    baseDomain,
    secureCookies: options.secureCookies ?? false,
    logError: options.logError ?? ((error) => console.error('inventory: unexpected error', error)),
    loginThrottle: new LoginThrottle(options.loginThrottle),
    get jobs() {
      return jobs;
    },
    // Not db.destroy(): that would end the caller's pool.
    async close() {
      await jobs.stop();
      await tenancy.close();
      if (admin !== tenancy) await admin.close();
    },
  };
  const jobs = new DigestJobs(inventory);
  return inventory;
}
