/**
 * The three strategies side by side, measured in one run on one server.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/strategies.ts
 *
 * Each strategy gets a fresh database and one table, `items (id, owner)` with BENCH_ROWS (20)
 * rows per tenant (under `rls` one shared table, `(tenant_id, id, owner)`, primary key
 * (tenant_id, id), made tenant-scoped with `tenantry_tenant_table`):
 *   - provisioning: BENCH_TENANTS (1,000) `registry.create` calls, 4 at a time (`schema`: a schema
 *     and its migration; `rls`: a registry row; `database`: a database, its schema and migration,
 *     for BENCH_DATABASE_TENANTS (20) tenants only: CREATE DATABASE copies a template);
 *   - migration: one `ALTER TABLE items ADD COLUMN` over every tenant (`migrate.tenants` at
 *     concurrency 4; under `rls` one shared migration);
 *   - query cost: W1 primary-key lookups, each for a random tenant, at concurrency 32 through
 *     tenantPool, against raw pg naming the tenant itself (its schema; its tenant_id as the owner;
 *     its database, a pool per database), BENCH_QUERIES (20,000) each in 4 rounds taking turns,
 *     every row checked (under `rls` tenantPool runs as a plain role the policies apply to);
 *   - catalog: pg_class rows and database size (tenant databases included) at half and all the
 *     tenants, and the growth per tenant between the two, extrapolated to 10,000 tenants.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { createTenancy, type Tenancy, type TenancyOptions, type Tenant } from '../src/index.js';
import { quoteIdent } from '../src/identifiers.js';
import { tenantPool } from '../src/pg/index.js';
import { createTestDatabase, startTestServer, type TestServer } from '../src/testing/index.js';
import { eachConcurrently, positiveInt, printTable, randomInt } from './bench-utils.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const DATABASE_TENANTS = positiveInt(process.env.BENCH_DATABASE_TENANTS, 20);
const QUERIES = positiveInt(process.env.BENCH_QUERIES, 20_000);
const ROWS = positiveInt(process.env.BENCH_ROWS, 20);
const ROUNDS = 4;
const CONCURRENCY = 32;
const CREATE_CONCURRENCY = 4;
const POOL_MAX = 10;
const EXTRAPOLATE_TO = 10_000;
const PREFIX = `bst${process.pid}_`;
const APP_ROLE = `tenantry_bench_strategies_app_${process.pid}`;

type Strategy = 'schema' | 'rls' | 'database';

interface Catalog {
  readonly classes: number;
  readonly bytes: number;
}

interface Measured {
  readonly strategy: Strategy;
  readonly tenants: number;
  readonly createMs: number;
  readonly alterMs: number;
  readonly raw: number;
  readonly scoped: number;
  readonly half: Catalog;
  readonly full: Catalog;
}

const ITEMS = `CREATE TABLE items (id int PRIMARY KEY, owner text NOT NULL);
               INSERT INTO items SELECT g, current_schema() FROM generate_series(1, ${ROWS}) g`;
const ROW_LEVEL_ITEMS = `CREATE TABLE items (tenant_id text NOT NULL, id int NOT NULL, owner text NOT NULL, PRIMARY KEY (tenant_id, id));
                         SELECT tenantry_tenant_table('items')`;
const ALTER = { name: '002_note', checksum: '1', up: (client: pg.ClientBase) => client.query('ALTER TABLE items ADD COLUMN note text') };

/** The tenancy of a strategy, with the ALTER migration too when `altered`. */
function tenancyOf(strategy: Strategy, pool: pg.Pool, altered: boolean): Tenancy {
  const first = { name: '001_items', checksum: '1', up: (client: pg.ClientBase) => client.query(strategy === 'rls' ? ROW_LEVEL_ITEMS : ITEMS) };
  const migrations = altered ? [first, ALTER] : [first];
  const options: TenancyOptions = { pool, schemaPrefix: `${PREFIX}${strategy.slice(0, 1)}_`, strategy };
  if (strategy === 'rls') return createTenancy({ ...options, migrations: { shared: migrations } });
  if (strategy === 'database') return createTenancy({ ...options, migrations: { tenant: migrations }, databases: { maxConnections: DATABASE_TENANTS } });
  return createTenancy({ ...options, migrations: { tenant: migrations } });
}

/** pg_class rows and bytes of the strategy's database, and of its tenant databases. */
async function catalogOf(server: TestServer, owner: pg.Pool, strategy: Strategy, tenants: readonly Tenant[]): Promise<Catalog> {
  const home = (await owner.query<{ classes: number; bytes: string }>('SELECT (SELECT count(*)::int FROM pg_class) AS classes, pg_database_size(current_database()) AS bytes')).rows[0]!;
  if (strategy !== 'database' || tenants.length === 0) return { classes: home.classes, bytes: Number(home.bytes) };
  const sizes = await owner.query<{ bytes: string }>('SELECT sum(pg_database_size(datname))::bigint AS bytes FROM pg_database WHERE datname = ANY($1)', [tenants.map((tenant) => tenant.schema)]);
  // Every tenant database has the same catalog: count one.
  const url = new URL(server.url);
  url.pathname = `/${tenants[0]!.schema}`;
  const one = new pg.Client({ connectionString: url.toString() });
  await one.connect();
  const classes = (await one.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_class')).rows[0]!.n;
  await one.end();
  return { classes: home.classes + classes * tenants.length, bytes: Number(home.bytes) + Number(sizes.rows[0]!.bytes) };
}

/** Runs `count` lookups, each for a random tenant, CONCURRENCY at a time; returns the milliseconds. */
async function drive(lookup: (tenant: Tenant, id: number) => Promise<string | undefined>, tenants: readonly Tenant[], expected: (tenant: Tenant) => string, count: number): Promise<number> {
  let left = count;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const tenant = tenants[randomInt(tenants.length)]!;
        const owner = await lookup(tenant, 1 + randomInt(ROWS));
        if (owner !== expected(tenant)) throw new Error(`read owner ${String(owner)} for ${tenant.id}`);
      }
    }),
  );
  return performance.now() - started;
}

/**
 * Under rls, the tenants' rows (a schema's migration writes them with the schema), so that both
 * catalog points hold the rows of the tenants they count.
 */
async function addRowLevelRows(owner: pg.Pool, strategy: Strategy, tenants: readonly Tenant[]): Promise<void> {
  if (strategy !== 'rls') return;
  await owner.query(`INSERT INTO items (tenant_id, id, owner) SELECT t, g, t FROM unnest($1::text[]) t, generate_series(1, ${ROWS}) g`, [tenants.map((tenant) => tenant.id)]);
}

async function measure(server: TestServer, strategy: Strategy): Promise<Measured> {
  const database = await createTestDatabase({ serverUrl: server.url, prefix: `tenantry_bench_${strategy}` });
  const owner = new pg.Pool({ connectionString: database.url, max: POOL_MAX });
  const pools: pg.Pool[] = [];
  const count = strategy === 'database' ? Math.min(DATABASE_TENANTS, TENANTS) : TENANTS;
  let tenants: Tenant[] = [];
  try {
    const admin = tenancyOf(strategy, owner, false);
    await admin.migrate.shared();
    const created: Tenant[] = new Array<Tenant>(count);
    const ids = Array.from({ length: count }, (_, index) => `t-${String(index).padStart(5, '0')}`);
    const started = performance.now();
    const halfway = Math.floor(count / 2);
    await eachConcurrently(ids.slice(0, halfway), CREATE_CONCURRENCY, async (id, index) => (created[index] = await admin.registry.create({ id })));
    const firstHalfMs = performance.now() - started;
    await addRowLevelRows(owner, strategy, created.slice(0, halfway));
    const half = await catalogOf(server, owner, strategy, created.slice(0, halfway));
    const resumed = performance.now();
    await eachConcurrently(ids.slice(halfway), CREATE_CONCURRENCY, async (id, index) => (created[halfway + index] = await admin.registry.create({ id })));
    const createMs = (firstHalfMs + performance.now() - resumed) / count;
    tenants = created;
    await addRowLevelRows(owner, strategy, created.slice(halfway));
    const full = await catalogOf(server, owner, strategy, tenants);

    const altering = performance.now();
    const altered = tenancyOf(strategy, owner, true);
    if (strategy === 'rls') {
      await altered.migrate.shared();
    } else {
      const report = await altered.migrate.tenants({ concurrency: 4 });
      if (report.failed.length > 0 || report.migrated.length !== count) throw new Error(`migrate.tenants: ${report.migrated.length} migrated, ${report.failed.length} failed`);
    }
    const alterMs = performance.now() - altering;
    await altered.close();

    // Query cost: tenantPool against raw pg that names the tenant itself.
    let app = owner;
    if (strategy === 'rls') {
      await owner.query(`CREATE ROLE ${APP_ROLE} LOGIN`);
      await owner.query(`GRANT SELECT ON items, tenantry_tenants, tenantry_domains TO ${APP_ROLE}`);
      const url = new URL(database.url);
      url.username = APP_ROLE;
      app = new pg.Pool({ connectionString: url.toString(), max: POOL_MAX });
      pools.push(app);
    }
    const tenancy = strategy === 'rls' ? createTenancy({ pool: app, strategy: 'rls' }) : admin;
    const db = tenantPool(tenancy, app);
    const databasePools = new Map<string, pg.Pool>();
    if (strategy === 'database') {
      for (const tenant of tenants) {
        const url = new URL(server.url);
        url.pathname = `/${tenant.schema}`;
        const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
        databasePools.set(tenant.id, pool);
        pools.push(pool);
      }
    }
    const raw = async (tenant: Tenant, id: number): Promise<string | undefined> => {
      if (strategy === 'rls') return (await owner.query<{ owner: string }>('SELECT id, owner FROM items WHERE tenant_id = $1 AND id = $2', [tenant.id, id])).rows[0]?.owner;
      if (strategy === 'database') return (await databasePools.get(tenant.id)!.query<{ owner: string }>(`SELECT id, owner FROM ${quoteIdent(tenant.schema)}.items WHERE id = $1`, [id])).rows[0]?.owner;
      return (await owner.query<{ owner: string }>(`SELECT id, owner FROM ${quoteIdent(tenant.schema)}.items WHERE id = $1`, [id])).rows[0]?.owner;
    };
    const scoped = (tenant: Tenant, id: number): Promise<string | undefined> =>
      tenancy.runTenant(tenant, async () => (await db.query<{ owner: string }>('SELECT id, owner FROM items WHERE id = $1', [id])).rows[0]?.owner);
    const expected = (tenant: Tenant) => (strategy === 'rls' ? tenant.id : tenant.schema);
    await drive(raw, tenants, expected, 2000); // warm-up: every backend reads the catalog and the table
    await drive(scoped, tenants, expected, 2000);
    const took = { raw: 0, scoped: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const perRound = Math.ceil(QUERIES / ROUNDS);
      for (const variant of round % 2 === 0 ? (['raw', 'scoped'] as const) : (['scoped', 'raw'] as const)) {
        took[variant] += await drive(variant === 'raw' ? raw : scoped, tenants, expected, perRound);
      }
    }
    const rate = (ms: number) => (Math.ceil(QUERIES / ROUNDS) * ROUNDS * 1000) / ms;
    if (tenancy !== admin) await tenancy.close();
    await admin.close();
    return { strategy, tenants: count, createMs, alterMs, raw: rate(took.raw), scoped: rate(took.scoped), half, full };
  } finally {
    for (const pool of pools) await pool.end().catch(() => undefined);
    await owner.end();
    await database.drop();
    const cleanup = new pg.Client({ connectionString: server.url });
    await cleanup.connect();
    if (strategy === 'database') {
      for (const tenant of tenants) if (tenant !== undefined) await cleanup.query(`DROP DATABASE IF EXISTS ${quoteIdent(tenant.schema)} WITH (FORCE)`).catch(() => undefined);
    }
    if (strategy === 'rls') await cleanup.query(`DROP ROLE IF EXISTS ${APP_ROLE}`).catch(() => undefined);
    await cleanup.end();
  }
}

/** Growth per tenant between the two catalog points, and the catalog at EXTRAPOLATE_TO tenants. */
function extrapolate(measured: Measured): { classesPerTenant: number; bytesPerTenant: number; at: Catalog } {
  const between = measured.tenants - Math.floor(measured.tenants / 2);
  const classesPerTenant = (measured.full.classes - measured.half.classes) / between;
  const bytesPerTenant = (measured.full.bytes - measured.half.bytes) / between;
  const more = EXTRAPOLATE_TO - measured.tenants;
  return { classesPerTenant, bytesPerTenant, at: { classes: measured.full.classes + classesPerTenant * more, bytes: measured.full.bytes + bytesPerTenant * more } };
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  try {
    const owner = new pg.Client({ connectionString: server.url });
    await owner.connect();
    const version = (await owner.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    await owner.end();
    console.log(
      `strategies: ${TENANTS} tenants (database: ${Math.min(DATABASE_TENANTS, TENANTS)}), ${ROWS} rows each, W1 ${QUERIES} lookups per variant at concurrency ${CONCURRENCY}, PostgreSQL ${version} (${server.kind}), Node ${process.version}`,
    );
    console.log(`load average (1 min) before: ${loadavg()[0]!.toFixed(1)}`);
    const results: Measured[] = [];
    for (const strategy of ['schema', 'rls', 'database'] as const) {
      const started = performance.now();
      results.push(await measure(server, strategy));
      console.error(`${strategy}: measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    console.log(`load average (1 min) after: ${loadavg()[0]!.toFixed(1)}\n`);
    printTable(
      ['strategy', 'tenants', 'registry.create ms/tenant', 'one ALTER over all s', 'W1 raw q/s', 'W1 tenantPool q/s', 'ratio', 'pg_class rows', 'size', 'per tenant', `at ${EXTRAPOLATE_TO.toLocaleString('en-US')} (extrapolated)`],
      results.map((measured) => {
        const { classesPerTenant, bytesPerTenant, at } = extrapolate(measured);
        return [
          measured.strategy,
          measured.tenants.toLocaleString('en-US'),
          measured.createMs.toFixed(2),
          (measured.alterMs / 1000).toFixed(2),
          Math.round(measured.raw).toLocaleString('en-US'),
          Math.round(measured.scoped).toLocaleString('en-US'),
          (measured.scoped / measured.raw).toFixed(2),
          measured.full.classes.toLocaleString('en-US'),
          mb(measured.full.bytes),
          `${classesPerTenant.toFixed(1)} classes, ${(bytesPerTenant / 1024).toFixed(0)} KB`,
          `${Math.round(at.classes).toLocaleString('en-US')} classes, ${mb(at.bytes)}`,
        ];
      }),
    );
  } finally {
    await server.stop();
  }
}

await main();
