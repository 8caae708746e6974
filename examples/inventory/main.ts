/**
 * The inventory app in one command: `npm run demo` (`tsx examples/inventory/main.ts`).
 *
 * Starts PostgreSQL (DATABASE_URL, or an embedded server), creates a database, runs the shared
 * and tenant migrations, seeds two businesses (acme and globex), starts the low-stock digest's
 * job queue (pg-boss), and serves the app on Express with the same JSON API on Fastify and Koa.
 * Ctrl-C stops everything, in order.
 *
 *   --port N     the Express app's port (default 3000); Fastify and Koa take N+1 and N+2
 *   --host H     the address to listen on (default 127.0.0.1)
 *   --persist    keep the data (examples/inventory/.data, or database tenantry_inventory on DATABASE_URL)
 *   --strategy S `schema` (default): a schema per business; `rls`: shared tables under row-level
 *                security (migrations/rls), the app connecting as a plain login role (app-login.ts)
 *
 * @module
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { RunningServer } from './http/server.js';
import { startExpress } from './http/express.js';
import { startFastify } from './http/fastify.js';
import { startKoa } from './http/koa.js';
import { grantAppLogin, loginUrl, newAppLogin } from './app-login.js';
import { createInventory, type Inventory, TENANT_HEADER } from './inventory.js';
import { type DemoDatabase, startDemoDatabase } from './postgres.js';
import { seedDemo, type SeededBusiness } from './seed.js';

const USAGE = 'Usage: tsx examples/inventory/main.ts [--port 3000] [--host 127.0.0.1] [--persist] [--strategy schema|rls]';

interface Options {
  readonly port: number;
  readonly host: string;
  readonly persist: boolean;
  readonly strategy: 'schema' | 'rls';
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      persist: { type: 'boolean', default: false },
      strategy: { type: 'string', default: 'schema' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = Number(values.port);
  if (!/^[0-9]{1,5}$/.test(values.port) || port > 65533) throw new Error(`--port must be a port number from 0 to 65533, got ${JSON.stringify(values.port)}`);
  if (values.strategy !== 'schema' && values.strategy !== 'rls') throw new Error(`--strategy must be schema or rls, got ${JSON.stringify(values.strategy)}`);
  return { port, host: values.host, persist: values.persist, strategy: values.strategy };
}

/** What has been started so far, stopped in reverse. */
const running: { servers: RunningServer[]; inventory?: Inventory; pool?: pg.Pool; appPool?: pg.Pool; database?: DemoDatabase } = { servers: [] };
let stopping: Promise<void> | undefined;

async function stop(): Promise<void> {
  for (const server of running.servers.splice(0).reverse()) await server.close().catch(() => undefined);
  await running.inventory?.close();
  await running.appPool?.end().catch(() => undefined);
  await running.pool?.end().catch(() => undefined);
  await running.database?.stop();
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping !== undefined) {
    console.log(`\n${signal} again: exiting without cleaning up.`);
    process.exit(130);
  }
  console.log(`\n${signal}: stopping…`);
  stopping = stop().then(
    () => {
      console.log('Stopped.');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('Stopping failed:', error);
      process.exit(1);
    },
  );
}

/**
 * A port another program (a second demo) already listens on: said before PostgreSQL starts, with
 * the way out. Listening can still fail later (a race); the same message is printed then.
 */
class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(port: number, host: string, options: Options) {
    const suggested = options.port + 10;
    super(
      [
        `port ${port} on ${host} is already in use (is another demo running?).`,
        `  The demo needs ${options.port} (Express), ${options.port + 1} (Fastify) and ${options.port + 2} (Koa).`,
        `  Stop the other program, or choose other ports: npm run demo -- --port ${suggested}`,
      ].join('\n'),
    );
  }
}

/** Throws {@link PortInUseError} when one of the demo's ports is taken. */
async function checkPorts(options: Options): Promise<void> {
  if (options.port === 0) return;
  for (const port of [options.port, options.port + 1, options.port + 2]) {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, options.host, options) : error));
      probe.listen(port, options.host, () => probe.close(() => resolve()));
    });
  }
}

/** The error to report: EADDRINUSE from a server's listen becomes {@link PortInUseError}. */
function explain(error: unknown, options: Options | undefined): unknown {
  const { code, port } = (error ?? {}) as { code?: unknown; port?: unknown };
  if (code !== 'EADDRINUSE' || options === undefined) return error;
  return new PortInUseError(typeof port === 'number' ? port : options.port, options.host, options);
}

let parsed: Options | undefined;

async function main(): Promise<void> {
  const options = (parsed = readOptions());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  await checkPorts(options);

  console.log('Starting PostgreSQL…');
  running.database = await startDemoDatabase({ persist: options.persist, log: (line) => console.log(`  ${line}`) });
  running.pool = new pg.Pool({ connectionString: running.database.url, max: 10 });
  // Idle connections die when PostgreSQL stops (Ctrl-C reaches it too): that is not an error here.
  running.pool.on('error', () => {});
  // Under rls the app connects as a plain login role (row-level security skips superusers); the
  // owner's pool runs the migrations and the registry's writes.
  const login = options.strategy === 'rls' ? newAppLogin('inventory_') : undefined;
  if (login !== undefined) {
    running.appPool = new pg.Pool({ connectionString: loginUrl(running.database.url, login), max: 10 });
    running.appPool.on('error', () => {});
  }
  const inventory = (running.inventory = createInventory(running.appPool ?? running.pool, {
    baseDomain: 'localhost',
    strategy: options.strategy,
    ...(running.appPool === undefined ? {} : { admin: running.pool }),
  }));

  await inventory.admin.migrate.shared();
  if (login !== undefined) await grantAppLogin(running.pool, login, inventory.tenancy.tenantRoles!.loginGroup);
  const report = await inventory.admin.migrate.tenants({ concurrency: 4 });
  for (const failure of report.failed) console.error(`Migrating ${failure.tenantId} failed: ${failure.message}`);
  const seeded = await seedDemo(inventory);
  // The low-stock digest's queue (pg-boss, in this database): a worker, and a daily schedule.
  await inventory.jobs.start({ connectionString: running.database.url });
  // The start-up check: the database, the registry, pending migrations, the login role.
  const { warnings } = await inventory.tenancy.check();
  for (const warning of warnings) console.log(`  note: ${warning}`);

  const express = await startExpress(inventory, { port: options.port, host: options.host });
  running.servers.push(express);
  const next = (offset: number): number => (options.port === 0 ? 0 : express.port + offset);
  const fastify = await startFastify(inventory, { port: next(1), host: options.host });
  running.servers.push(fastify);
  const koa = await startKoa(inventory, { port: next(2), host: options.host });
  running.servers.push(koa);

  printBanner(running.database, seeded, { express: express.port, fastify: fastify.port, koa: koa.port });
}

function printBanner(database: DemoDatabase, seeded: readonly SeededBusiness[], ports: { express: number; fastify: number; koa: number }): void {
  const at = (port: number, host = 'localhost'): string => `http://${host}:${port}`;
  const lines = [
    '',
    `Inventory demo (strategy ${parsed?.strategy ?? 'schema'}): PostgreSQL is ${database.description}`,
    '',
    `  Platform (sign a business up)   ${at(ports.express)}/`,
  ];
  for (const { business, inviteCode } of seeded) {
    lines.push(
      `  ${business.name.padEnd(31)} ${at(ports.express, `${business.id}.localhost`)}/`,
      `    log in as ${business.owner.email} / ${business.owner.password}${inviteCode ? `   (invite code ${inviteCode})` : ''}`,
      `    or by path: ${at(ports.express)}/t/${business.id}/`,
    );
  }
  const [first] = seeded;
  const example = first?.business;
  lines.push(
    '',
    `  JSON API on Express ${at(ports.express)}/api   Fastify ${at(ports.fastify)}/api   Koa ${at(ports.koa)}/api`,
  );
  if (example !== undefined) {
    lines.push(
      '  for example:',
      `    curl -c jar -H '${TENANT_HEADER}: ${example.id}' -H 'content-type: application/json' \\`,
      `      -d '{"email":"${example.owner.email}","password":"${example.owner.password}"}' ${at(ports.fastify)}/api/session`,
      `    curl -b jar -H '${TENANT_HEADER}: ${example.id}' ${at(ports.fastify)}/api/products`,
    );
  }
  lines.push(
    '',
    `  Low-stock digest: daily at 07:00 UTC through pg-boss (schema inventory_jobs); an owner's dashboard has "Send digest now".`,
    '',
    'Press Ctrl-C to stop.',
  );
  console.log(lines.join('\n'));
}

main().catch(async (caught: unknown) => {
  const error = explain(caught, parsed);
  console.error(error instanceof Error ? `Could not start: ${error.message}` : error);
  await stop().catch(() => undefined);
  process.exit(1);
});
