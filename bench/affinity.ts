/**
 * Tenant-affine connections at scale: issue 19's W1 workload.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/affinity.ts
 *
 * BENCH_TENANTS (10,000) tenants of the 10-table inventory set, each with 10 products and 10
 * customers, live in the database BENCH_DATABASE (default `tenantry_bench_affinity`), which is
 * kept between runs: a run creates what is missing (printing the time) and measures. Drop it by
 * hand when done. Needs DATABASE_URL (a superuser URL on the same machine, for /proc).
 *
 * W1: primary-key lookups on two tables (products, customers), each query for a random tenant,
 * through tenantPool on a fresh pg.Pool (max 10) at concurrency 32, BENCH_SECONDS (120) per
 * variant:
 *   (base) over the first 100 tenants, affinity on: the warm baseline;
 *   (off)  over all tenants, `affinity: false` (pg-pool's order);
 *   (on)   over all tenants, affinity on (the default).
 * Every BENCH_SAMPLE_SECONDS (15): the interval's queries/s and the largest private memory
 * (RssAnon of /proc/PID/status) among the pool's backends. Every result is checked: one row, of
 * the intended tenant. Targets (on): queries/s ≥ 0.7 of (base), no backend above 50 MB.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTenancy, quoteIdent, type Tenancy, type Tenant } from '../src/index.js';
import { tenantPool } from '../src/pg/index.js';
import { positiveInt, printTable } from './bench-utils.js';
import { INVENTORY } from './inventory-set.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 10_000);
const SECONDS = positiveInt(process.env.BENCH_SECONDS, 120);
const SAMPLE_SECONDS = positiveInt(process.env.BENCH_SAMPLE_SECONDS, 15);
const DATABASE = process.env.BENCH_DATABASE ?? 'tenantry_bench_affinity';
const BASELINE_TENANTS = 100;
const POOL_MAX = 10;
const CONCURRENCY = 32;
const ROWS = 10;

interface Sample {
  readonly at: number;
  readonly queriesPerSecond: number;
  readonly largestBackendMb: number;
}

interface VariantResult {
  readonly name: string;
  readonly queries: number;
  readonly seconds: number;
  readonly samples: readonly Sample[];
  readonly affinity: ReturnType<typeof tenantPool>['affinity'];
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl === undefined) throw new Error('bench/affinity needs DATABASE_URL: a superuser URL of a PostgreSQL server on this machine');
  const url = await ensureDatabase(serverUrl, DATABASE);
  const setupPool = new pg.Pool({ connectionString: url, max: 8 });
  const folder = await mkdtemp(join(tmpdir(), 'tenantry-affinity-'));
  try {
    for (const [file, text] of Object.entries(INVENTORY)) await writeFile(join(folder, file), text);
    const tenancy = createTenancy({ pool: setupPool, sharedSchema: 'bench_shared', schemaPrefix: 't_', migrations: { tenant: folder } });
    await tenancy.migrate.shared();
    const tenants = await provision(tenancy, setupPool);
    const version = (await setupPool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    const relations = (await setupPool.query<{ n: string }>('SELECT count(*) AS n FROM pg_class')).rows[0]!.n;
    console.log(
      `affinity: ${tenants.length} tenants (${Number(relations).toLocaleString('en-US')} relations), pool max ${POOL_MAX}, ` +
        `concurrency ${CONCURRENCY}, ${SECONDS} s per variant, PostgreSQL ${version}, Node ${process.version}, ${availableParallelism()} CPUs`,
    );
    console.log(`load average (1 min) before: ${loadavg()[0]!.toFixed(1)}`);
    const results: VariantResult[] = [];
    results.push(await measure('(base) 100 tenants, affinity on', tenancy, url, tenants.slice(0, BASELINE_TENANTS), true));
    results.push(await measure(`(off) ${tenants.length} tenants, affinity off`, tenancy, url, tenants, false));
    results.push(await measure(`(on) ${tenants.length} tenants, affinity on`, tenancy, url, tenants, true));
    console.log(`load average (1 min) after: ${loadavg()[0]!.toFixed(1)}\n`);
    report(results);
  } finally {
    await setupPool.end();
    await rm(folder, { recursive: true, force: true });
  }
}

/** Creates the database when missing; returns its URL. */
async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The bench's tenants, creating the missing ones (4 at a time) with their rows. */
async function provision(tenancy: Tenancy, pool: pg.Pool): Promise<Tenant[]> {
  const ids = Array.from({ length: TENANTS }, (_, index) => `t-${String(index).padStart(5, '0')}`);
  const existing = new Set((await listAll(tenancy)).map((tenant) => tenant.id));
  const missing = ids.filter((id) => !existing.has(id));
  if (missing.length > 0) {
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < missing.length) {
          const id = missing[next++]!;
          const tenant = await tenancy.registry.create({ id });
          const schema = quoteIdent(tenant.schema);
          await pool.query(`INSERT INTO ${schema}.products (sku, name, unit_price) SELECT 'sku-' || g, $1, g FROM generate_series(1, ${ROWS}) g`, [id]);
          await pool.query(`INSERT INTO ${schema}.customers (name, email) SELECT $1, 'c' || g || '@example.com' FROM generate_series(1, ${ROWS}) g`, [id]);
          if (next % 1000 === 0) console.error(`  provisioned ${next} of ${missing.length}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`setup: ${missing.length} tenants created with registry.create (10 tables), 4 at a time, in ${seconds.toFixed(0)} s (${(missing.length / seconds).toFixed(0)} tenants/s)`);
  }
  const wanted = new Set(ids);
  return (await listAll(tenancy)).filter((tenant) => wanted.has(tenant.id));
}

/** Every tenant of the registry, page by page. */
async function listAll(tenancy: Tenancy): Promise<Tenant[]> {
  const tenants: Tenant[] = [];
  let after: string | undefined;
  do {
    const page = await tenancy.registry.list({ limit: 1000, after });
    tenants.push(...page.tenants);
    after = page.next;
  } while (after !== undefined);
  return tenants;
}

/** Runs W1 over `tenants` on a fresh pool for SECONDS, sampling throughput and backend memory. */
async function measure(name: string, tenancy: Tenancy, url: string, tenants: readonly Tenant[], affinity: boolean): Promise<VariantResult> {
  const pool = new pg.Pool({ connectionString: url, max: POOL_MAX });
  const backends = new Set<number>();
  pool.on('connect', (client) => backends.add((client as unknown as { processID: number }).processID));
  pool.on('remove', (client) => backends.delete((client as unknown as { processID: number }).processID));
  const db = tenantPool(tenancy, pool, { affinity });
  const samples: Sample[] = [];
  let queries = 0;
  let sampledQueries = 0;
  const started = performance.now();
  let sampledAt = started;
  const end = started + SECONDS * 1000;
  const sampler = setInterval(() => {
    const now = performance.now();
    void largestBackendMb(backends).then((mb) => {
      samples.push({ at: Math.round((now - started) / 1000), queriesPerSecond: ((queries - sampledQueries) * 1000) / (now - sampledAt), largestBackendMb: mb });
      sampledQueries = queries;
      sampledAt = now;
    });
  }, SAMPLE_SECONDS * 1000);
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
          const table = Math.random() < 0.5 ? 'products' : 'customers';
          const id = 1 + Math.floor(Math.random() * ROWS);
          const result = await tenancy.run(tenant, () => db.query<{ name: string }>(`SELECT name FROM ${table} WHERE id = $1`, [id]));
          if (result.rows.length !== 1 || result.rows[0]!.name !== tenant.id) {
            throw new Error(`W1 read ${JSON.stringify(result.rows)} for tenant ${tenant.id}`);
          }
          queries += 1;
        }
      }),
    );
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 100));
  const result = { name, queries, seconds, samples, affinity: db.affinity };
  await pool.end();
  console.log(`${name}: ${Math.round(queries / seconds).toLocaleString('en-US')} q/s; largest backend per sample (MB): ${samples.map((sample) => sample.largestBackendMb.toFixed(0)).join(' ')}`);
  return result;
}

/** The largest RssAnon (MB) among `pids`; 0 when /proc cannot be read. */
async function largestBackendMb(pids: ReadonlySet<number>): Promise<number> {
  let largest = 0;
  for (const pid of pids) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0);
      largest = Math.max(largest, kb / 1024);
    } catch {
      // The backend ended between the sample's start and its read.
    }
  }
  return largest;
}

function report(results: readonly VariantResult[]): void {
  const base = results[0]!;
  const baseRate = base.queries / base.seconds;
  printTable(
    ['variant', 'q/s', 'vs (base)', 'q/s per sample', 'largest backend MB per sample', 'max MB', 'home / borrowed / retired'],
    results.map((result) => {
      const rate = result.queries / result.seconds;
      const { homeCheckouts, borrowedCheckouts, retiredConnections, enabled } = result.affinity;
      return [
        result.name,
        Math.round(rate).toLocaleString('en-US'),
        (rate / baseRate).toFixed(2),
        result.samples.map((sample) => Math.round(sample.queriesPerSecond)).join(' '),
        result.samples.map((sample) => sample.largestBackendMb.toFixed(0)).join(' '),
        Math.max(0, ...result.samples.map((sample) => sample.largestBackendMb)).toFixed(0),
        enabled ? `${homeCheckouts} / ${borrowedCheckouts} / ${retiredConnections}` : '-',
      ];
    }),
  );
  const on = results[2]!;
  const onRate = on.queries / on.seconds / baseRate;
  const onMax = Math.max(0, ...on.samples.map((sample) => sample.largestBackendMb));
  console.log(`\ntargets (on): q/s >= 0.7 of (base): ${onRate.toFixed(2)} ${onRate >= 0.7 ? 'met' : 'MISSED'}; no backend above 50 MB: ${onMax.toFixed(0)} MB ${onMax <= 50 ? 'met' : 'MISSED'}`);
}

await main();
