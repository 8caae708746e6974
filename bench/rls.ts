/**
 * What the row-level strategy costs a query.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rls.ts
 *
 * BENCH_TENANTS (1,000) tenants of a `createTenancy({ strategy: 'rls' })`, each with 100 rows in
 * one shared table, `items (tenant_id, id, owner)`, primary key (tenant_id, id), made
 * tenant-scoped with `tenantry_tenant_table`. Primary-key lookups on one pg.Pool (max 10) at
 * concurrency 32:
 *   (a) raw pg, as a role row-level security does not apply to (the owner), with the tenant in
 *       the query: `select id, owner from items where tenant_id = $1 and id = $2`;
 *   (c) tenantPool under the policies, as a plain role, without the tenant filter:
 *       `tenancy.run(tenant, () => db.query('select id, owner from items where id = $1', [id]))`.
 * W1: every query for a random tenant. W2: requests of 5 queries for one random tenant, (c) running
 * a request's 5 in one `tenancy.run`, as a request handler does.
 * BENCH_QUERIES (40,000) per variant and workload, in BENCH_ROUNDS (8) rounds taking turns.
 * Every result is checked (one row, of the intended tenant). Targets: (c)/(a) >= 0.85 in W1,
 * >= 0.95 in W2. The EXPLAIN of (c)'s query, as the app runs it, is printed. Measures the built
 * package (run `npm run build` first), or src/ through tsx with BENCH_SOURCE=src (see library.ts).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import type { Tenancy, Tenant } from '../src/index.js';
import type { TenantPool } from '../src/pg/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { positiveInt, printTable, randomInt } from './bench-utils.js';
import { backendCpuMicros } from './item-tenants.js';
import { measuredSource, tenantry } from './library.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const QUERIES = positiveInt(process.env.BENCH_QUERIES, 40_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 8);
const POOL_MAX = 10;
const CONCURRENCY = 32;
const ROWS = 100;
const REQUEST_QUERIES = 5;
const APP_ROLE = `tenantry_bench_rls_app_${process.pid}`;

type Variant = 'a' | 'c';
type Lookup = (tenant: Tenant, id: number) => Promise<pg.QueryResult<{ id: number; owner: string }>>;
/** Runs a request's lookups in order: (c) runs them in one tenant scope, as a request handler does. */
type Request = (tenant: Tenant, work: () => Promise<void>) => Promise<void>;

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench_rls' });
  const owner = new pg.Pool({ connectionString: database.url, max: POOL_MAX });
  let app: pg.Pool | undefined;
  const tenancies: Tenancy[] = [];
  try {
    const source = await measuredSource();
    const { createTenancy } = await tenantry.core();
    const { tenantPool } = await tenantry.pg();
    const admin = createTenancy({
      pool: owner,
      strategy: 'rls',
      migrations: {
        shared: [
          {
            name: '001_items',
            checksum: '1',
            up: (client) =>
              client.query(`CREATE TABLE items (tenant_id text NOT NULL, id int NOT NULL, owner text NOT NULL, PRIMARY KEY (tenant_id, id));
                            SELECT tenantry_tenant_table('items')`),
          },
        ],
      },
    });
    tenancies.push(admin);
    await admin.migrate.shared();
    const started = performance.now();
    const tenants: Tenant[] = [];
    for (let index = 0; index < TENANTS; index++) tenants.push(await admin.registry.create({ id: `t-${String(index).padStart(5, '0')}` }));
    const createMs = (performance.now() - started) / TENANTS;
    await owner.query(`INSERT INTO items (tenant_id, id, owner) SELECT t.id, g, t.id FROM tenantry_tenants t, generate_series(1, ${ROWS}) g`);
    await owner.query('ANALYZE items');
    await owner.query(`CREATE ROLE ${APP_ROLE} LOGIN`);
    await owner.query(`GRANT SELECT ON items, tenantry_tenants, tenantry_domains TO ${APP_ROLE}`);
    const appUrl = new URL(database.url);
    appUrl.username = APP_ROLE;
    app = new pg.Pool({ connectionString: appUrl.toString(), max: POOL_MAX });
    const tenancy = createTenancy({ pool: app, strategy: 'rls' });
    tenancies.push(tenancy);
    const db = tenantPool(tenancy, app);
    const version = (await owner.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    console.log(`rls: ${TENANTS} tenants × ${ROWS} rows in one table, pool max ${POOL_MAX}, concurrency ${CONCURRENCY}, ${ROUNDS} rounds, PostgreSQL ${version} (${server.kind}), Node ${process.version}, tenantry from ${source}`);
    console.log(`registry.create under rls: ${createMs.toFixed(2)} ms per tenant (one registry row, no DDL), ${TENANTS} in a row`);
    await explain(tenancy, db, tenants[0]!);

    const lookups: Record<Variant, Lookup> = {
      a: (tenant, id) => owner.query('select id, owner from items where tenant_id = $1 and id = $2', [tenant.id, id]),
      c: (_tenant, id) => db.query('select id, owner from items where id = $1', [id]),
    };
    const requests: Record<Variant, Request> = {
      a: (_tenant, work) => work(),
      c: (tenant, work) => tenancy.runTenant(tenant, work),
    };
    for (const variant of ['a', 'c'] as const) await drive(lookups[variant], requests[variant], tenants, 2000, 1); // warm-up: every backend reads the table
    // The backends of both pools (each opened all its connections in the warm-up): their CPU time
    // while a variant runs is the server's share of its cost.
    const { rows: backends } = await owner.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    const pids = backends.map((backend) => backend.pid);
    console.log(`load average (1 min) before: ${loadavg()[0]!.toFixed(1)}`);
    const rows: string[][] = [];
    const cpuRows: string[][] = [];
    for (const [name, perRequest, target] of [
      ['W1 random tenant per query', 1, 0.85],
      ['W2 requests of 5 queries, one tenant', REQUEST_QUERIES, 0.95],
    ] as const) {
      const ms: Record<Variant, number> = { a: 0, c: 0 };
      /** This process's CPU time (user + system), µs: steadier than q/s on a busy machine. */
      const cpu: Record<Variant, number> = { a: 0, c: 0 };
      /** The backends' CPU time, µs (NaN where /proc cannot be read: a server on another machine). */
      const serverCpu: Record<Variant, number> = { a: 0, c: 0 };
      const perRound = Math.ceil(QUERIES / ROUNDS);
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const order: Variant[] = round % 2 === 0 ? ['a', 'c'] : ['c', 'a'];
        const took: Record<Variant, number> = { a: 0, c: 0 };
        for (const variant of order) {
          const serverBefore = backendCpuMicros(pids) ?? NaN;
          const before = process.cpuUsage();
          took[variant] = await drive(lookups[variant], requests[variant], tenants, perRound, perRequest);
          const used = process.cpuUsage(before);
          cpu[variant] += used.user + used.system;
          serverCpu[variant] += (backendCpuMicros(pids) ?? NaN) - serverBefore;
        }
        ms.a += took.a;
        ms.c += took.c;
        ratios.push(took.a / took.c);
      }
      const rate = (variant: Variant) => (perRound * ROUNDS * 1000) / ms[variant];
      const ratio = rate('c') / rate('a');
      const perQuery = (variant: Variant) => cpu[variant] / (perRound * ROUNDS);
      const serverPerQuery = (variant: Variant) => serverCpu[variant] / (perRound * ROUNDS);
      cpuRows.push([
        name,
        perQuery('a').toFixed(1),
        perQuery('c').toFixed(1),
        (perQuery('c') - perQuery('a')).toFixed(1),
        serverPerQuery('a').toFixed(1),
        serverPerQuery('c').toFixed(1),
        (serverPerQuery('c') - serverPerQuery('a')).toFixed(1),
      ]);
      rows.push([
        name,
        Math.round(rate('a')).toLocaleString('en-US'),
        Math.round(rate('c')).toLocaleString('en-US'),
        ratio.toFixed(2),
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
        `>= ${target} ${ratio >= target ? 'met' : 'MISSED'}`,
      ]);
    }
    console.log(`load average (1 min) after: ${loadavg()[0]!.toFixed(1)}\n`);
    printTable(['workload', '(a) raw, tenant in WHERE q/s', '(c) tenantPool under RLS q/s', '(c)/(a)', 'per round', 'target'], rows);
    console.log("\nCPU time per query, µs: the client (this process: pg, tenantry, the bench) and the server (both pools' backends, from /proc):");
    printTable(['workload', 'client (a)', 'client (c)', 'client (c) − (a)', 'server (a)', 'server (c)', 'server (c) − (a)'], cpuRows);
  } finally {
    // The tenancies first: their registry listeners hold connections that the DROP below would kill.
    for (const tenancy of tenancies) await tenancy.close();
    await app?.end();
    await owner.end();
    await database.drop();
    const cleanup = new pg.Client({ connectionString: server.url });
    await cleanup.connect();
    await cleanup.query(`DROP ROLE IF EXISTS ${APP_ROLE}`).catch(() => undefined);
    await cleanup.end();
    await server.stop();
  }
}

/** Prints the plan of (c)'s query as the app runs it: the policy's condition in the index scan. */
async function explain(tenancy: Tenancy, db: TenantPool, tenant: Tenant): Promise<void> {
  const plan = await tenancy.run(tenant, () => db.query<{ 'QUERY PLAN': string }>('explain select id, owner from items where id = 7'));
  console.log(`EXPLAIN (c) under tenant ${tenant.id}:\n${plan.rows.map((row) => `  ${row['QUERY PLAN']}`).join('\n')}`);
}

/**
 * Runs `count` lookups in requests of `perRequest` for one random tenant each (each request
 * through `request`), CONCURRENCY at a time; returns the milliseconds.
 */
async function drive(lookup: Lookup, request: Request, tenants: readonly Tenant[], count: number, perRequest: number): Promise<number> {
  let left = Math.ceil(count / perRequest);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) {
        const tenant = tenants[randomInt(tenants.length)]!;
        await request(tenant, async () => {
          for (let query = 0; query < perRequest; query++) {
            const id = 1 + randomInt(ROWS);
            const result = await lookup(tenant, id);
            const row = result.rows[0];
            if (result.rows.length !== 1 || row?.owner !== tenant.id || row.id !== id) throw new Error(`read ${JSON.stringify(result.rows)} for ${tenant.id}/${id}`);
          }
        });
      }
    }),
  );
  return performance.now() - started;
}

await main();
