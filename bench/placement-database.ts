/**
 * The database strategy at many tenant databases under one connection budget.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/placement-database.ts
 *
 * BENCH_TENANTS (1,000) tenants of a `createTenancy({ strategy: 'database', databases: {
 * maxConnections: BENCH_BUDGET (20) } })`, each a database with one table, `items (id, owner)`, of
 * 100 rows. The registry database (`tenantry_bench_dbs`) and the tenant databases
 * (`tenantry_bench_dbs_t0`…) are kept between runs: only missing tenants are created (about 0.1 to
 * 0.6 s each, depending on the machine's load); `BENCH_DROP=1` drops them all and exits.
 *
 * W1: primary-key lookups through tenantPool, `select id, owner from items where id = $1`, each
 * for a random tenant, at concurrency 32 (more than the budget), for BENCH_SECONDS (20) s after
 * 3 s of warm-up (not counted, backends sampled all along):
 *   (a) baseline: over BENCH_BUDGET tenants only (each can keep a connection: no churn);
 *   (b) over every tenant (almost every query needs a connection to another database, made by
 *       closing the least recently used idle one);
 *   (c) the ceiling of (b) without tenantry: over every tenant, a new pg.Client per query
 *       (connect, the lookup, end) at concurrency BENCH_BUDGET, the budget's backends.
 * Every result is checked (one row, of the intended tenant); errors are counted. A sampler counts
 * the backends connected to tenant databases in pg_stat_activity every 10 ms: a sample above the
 * budget is an overrun. Prints throughput, p50/p99, errors, the highest sample and overruns,
 * (b)/(a) (what spreading over many databases costs) and (b)/(c) (how near (b) comes to the rate
 * at which the server opens connections).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { createTenancy, type Tenancy } from '../src/index.js';
import { tenantPool } from '../src/pg/index.js';
import { startTestServer } from '../src/testing/index.js';
import { eachConcurrently, formatRate, positiveInt, printTable, randomInt } from './bench-utils.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const BUDGET = positiveInt(process.env.BENCH_BUDGET, 20);
const SECONDS = positiveInt(process.env.BENCH_SECONDS, 20);
const CONCURRENCY = 32;
/** Traffic before the measured seconds, not counted: the pools fill and settle. */
const WARM_UP_SECONDS = 3;
const ROWS = 100;
const REGISTRY = 'tenantry_bench_dbs';
const PREFIX = `${REGISTRY}_`;

interface Run {
  readonly name: string;
  readonly queries: number;
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly wrong: number;
  readonly highest: number;
  readonly overruns: number;
  readonly samples: number;
}

function urlOf(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function ensureRegistryDatabase(serverUrl: string, drop: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    if (drop) {
      const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [REGISTRY]);
      for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      console.error(`dropped ${rows.length} databases`);
      return;
    }
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [REGISTRY]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${REGISTRY}"`);
  } finally {
    await admin.end();
  }
}

/** Creates the tenants the registry lacks, four at a time. */
async function ensureTenants(tenancy: Tenancy): Promise<void> {
  const existing = new Set<string>();
  for (let after: string | undefined; ; ) {
    const page = await tenancy.registry.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
    for (const tenant of page.tenants) existing.add(tenant.id);
    if (page.next === undefined) break;
    after = page.next;
  }
  const missing = Array.from({ length: TENANTS }, (_, index) => `t${index}`).filter((id) => !existing.has(id));
  if (missing.length === 0) return;
  console.error(`creating ${missing.length} tenant databases…`);
  const started = performance.now();
  await eachConcurrently(missing, 4, async (id, index) => {
    await tenancy.registry.create({ id });
    if ((index + 1) % 100 === 0) console.error(`  ${index + 1}/${missing.length}`);
  });
  console.error(`created ${missing.length} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

type Lookup = (id: string, key: number) => Promise<readonly { id: number; owner: string }[]>;

/** W1 through tenantPool. */
function throughTenantPool(tenancy: Tenancy, pool: pg.Pool): Lookup {
  const db = tenantPool(tenancy, pool);
  return async (id, key) => (await tenancy.run(id, () => db.query<{ id: number; owner: string }>('select id, owner from items where id = $1', [key]))).rows;
}

/** W1 without tenantry: a new connection to the tenant's database for each query. */
function connectionPerQuery(serverUrl: string): Lookup {
  return async (id, key) => {
    const client = new pg.Client({ connectionString: urlOf(serverUrl, `${PREFIX}${id}`) });
    await client.connect();
    try {
      return (await client.query<{ id: number; owner: string }>(`select id, owner from "${PREFIX}${id}".items where id = $1`, [key])).rows;
    } finally {
      await client.end();
    }
  };
}

async function run(name: string, lookup: Lookup, serverUrl: string, tenants: number, concurrency: number): Promise<Run> {
  const sampler = new pg.Client({ connectionString: serverUrl });
  await sampler.connect();
  let highest = 0;
  let overruns = 0;
  let samples = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(datname, $1)', [PREFIX]);
      const n = rows[0]!.n;
      samples += 1;
      highest = Math.max(highest, n);
      if (n > BUDGET) overruns += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const latencies: number[] = [];
  let errors = 0;
  let wrong = 0;
  const warmUpEnds = performance.now() + WARM_UP_SECONDS * 1000;
  const ends = warmUpEnds + SECONDS * 1000;
  let started = warmUpEnds;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < ends) {
        const id = `t${randomInt(tenants)}`;
        const key = 1 + randomInt(ROWS);
        const begun = performance.now();
        try {
          const rows = await lookup(id, key);
          if (rows.length !== 1 || rows[0]!.owner !== id || rows[0]!.id !== key) wrong += 1;
          if (begun >= warmUpEnds) latencies.push(performance.now() - begun);
          else started = Math.max(started, performance.now());
        } catch (error) {
          errors += 1;
          if (errors <= 3) console.error(error);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await sampling;
  await sampler.end();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { name, queries: latencies.length, seconds, p50: at(0.5), p99: at(0.99), errors, wrong, highest, overruns, samples };
}

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  try {
    await ensureRegistryDatabase(server.url, process.env.BENCH_DROP === '1');
    if (process.env.BENCH_DROP === '1') return;
    const pool = new pg.Pool({ connectionString: urlOf(server.url, REGISTRY), max: 8 });
    const tenancy = createTenancy({
      pool,
      strategy: 'database',
      schemaPrefix: PREFIX,
      databases: { maxConnections: BUDGET },
      migrations: {
        tenant: [
          {
            name: '001_items',
            checksum: '1',
            // The owner of every row is the tenant id: the schema's name without the prefix.
            up: (client) =>
              client.query(`CREATE TABLE items (id int PRIMARY KEY, owner text NOT NULL);
                            INSERT INTO items SELECT g, replace(substr(current_schema(), ${PREFIX.length + 1}), '_', '-') FROM generate_series(1, ${ROWS}) g`),
          },
        ],
      },
    });
    try {
      await tenancy.migrate.shared();
      await ensureTenants(tenancy);
      const viaTenantPool = throughTenantPool(tenancy, pool);
      // (c) first, while tenantry's pools hold no connection the sampler would count.
      const raw = await run(`(c) ${TENANTS} tenants, raw`, connectionPerQuery(server.url), server.url, TENANTS, BUDGET);
      const runs = [
        await run(`(a) ${BUDGET} tenants`, viaTenantPool, server.url, BUDGET, CONCURRENCY),
        await run(`(b) ${TENANTS} tenants`, viaTenantPool, server.url, TENANTS, CONCURRENCY),
        raw,
      ];
      console.log(`\nW1 through tenantPool, budget ${BUDGET} connections, concurrency ${CONCURRENCY}, ${SECONDS} s each; load average ${loadavg()[0]!.toFixed(1)}`);
      printTable(
        ['run', 'queries/s', 'p50 ms', 'p99 ms', 'errors', 'wrong rows', 'most backends', 'overruns/samples'],
        runs.map((r) => [
          r.name,
          formatRate(r.queries / r.seconds),
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          String(r.errors),
          String(r.wrong),
          String(r.highest),
          `${r.overruns}/${r.samples}`,
        ]),
      );
      const rate = (r: Run) => r.queries / r.seconds;
      console.log(`(b)/(a) throughput: ${(rate(runs[1]!) / rate(runs[0]!)).toFixed(3)}; (b)/(c): ${(rate(runs[1]!) / rate(runs[2]!)).toFixed(3)}`);
      if (runs.some((r) => r.errors > 0 || r.wrong > 0 || r.overruns > 0)) process.exitCode = 1;
    } finally {
      await tenancy.close();
      await pool.end();
    }
  } finally {
    await server.stop();
  }
}

await main();
