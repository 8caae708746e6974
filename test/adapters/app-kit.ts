import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter, once } from 'node:events';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import {
  chainResolvers,
  createTenancy,
  domainResolver,
  headerResolver,
  pathResolver,
  subdomainResolver,
  type Tenancy,
  type TenancyError,
  type TenantRequest,
  type TenantResolver,
  type Tenant,
} from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';

/** The shared schema the adapter tests use (the child process of the cross-process test opens the same). */
export const SHARED_SCHEMA = 'app_shared';

/** Tenants every adapter test database has; each has an `items` table holding one row owned by its id. */
export const TENANTS = {
  /** Reached through its subdomains and its custom domain `shop.acme.test`. */
  acme: 'acme',
  globex: 'globex',
  /** An id with a hyphen (schema `app_t_big_co`). */
  bigCo: 'big-co',
  /** Created suspended. */
  sleepy: 'sleepy',
  /** Suspended and resumed by the cache tests. */
  flip: 'flip',
  /** Suspended from the parent while a child process serves it. */
  remote: 'remote',
} as const;

/** The active tenants the interleaving and fuzz tests spread their requests over. */
export const ACTIVE = [TENANTS.acme, TENANTS.globex, TENANTS.bigCo] as const;

export const CUSTOM_DOMAIN = 'shop.acme.test';
export const BASE_DOMAINS = ['example.test', 'localhost'] as const;
export const PATH_PREFIX = '/t';

/**
 * The resolver chain of the adapter tests: subdomain of example.test or localhost, custom domain,
 * path prefix `/t`, then the `x-tenant-id` header.
 */
export function standardResolver(): TenantResolver {
  return chainResolvers(subdomainResolver({ baseDomains: BASE_DOMAINS }), domainResolver(), pathResolver({ prefix: PATH_PREFIX }), headerResolver());
}

/** A tenancy over the adapter test database (tables created by {@link seedTenants}). */
export function appTenancy(pool: pg.Pool): Tenancy {
  return createTenancy({
    pool,
    sharedSchema: SHARED_SCHEMA,
    schemaPrefix: 'app_t_',
    resolver: standardResolver(),
    migrations: {
      shared: [
        {
          name: '001_plans',
          checksum: '1',
          up: (c) => c.query("CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free'), ('pro')"),
        },
      ],
      tenant: [{ name: '001_items', checksum: '1', up: (c) => c.query('CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL)') }],
    },
  });
}

/** Creates the shared tables and {@link TENANTS}, each with its marker row, through the PostgreSQL registry. */
export async function seedTenants(tenancy: Tenancy, pool: pg.Pool): Promise<void> {
  await tenancy.migrate.shared();
  for (const id of Object.values(TENANTS)) {
    const tenant = await tenancy.registry.create({
      id,
      name: `Tenant ${id}`,
      ...(id === TENANTS.acme ? { domains: [CUSTOM_DOMAIN] } : {}),
      ...(id === TENANTS.sleepy ? { status: 'suspended' as const } : {}),
    });
    await pool.query(`INSERT INTO "${tenant.schema}".items (owner) VALUES ($1)`, [id]);
  }
}

/** Which tenant (and scope) code sees: what every handler reports. */
export interface Seen {
  /** `tenancy.current()?.id`, or null. */
  readonly tenant: string | null;
  /** `tenancy.scope()?.kind`, or null outside any scope. */
  readonly scope: 'tenant' | 'shared' | null;
}

/** Options of an adapter under test, framework-neutral; each harness maps them onto its framework. */
export interface ServerOptions {
  readonly resolver?: TenantResolver;
  readonly required?: boolean;
  readonly trustProxy?: boolean;
  readonly suspended?: 'forbid' | 'allow';
  readonly authorize?: (request: TenantRequest, tenant: Tenant) => boolean | Promise<boolean>;
  /** A custom refusal: the harness answers with this status and body as `text/plain`. */
  readonly onRefused?: (error: TenancyError) => { readonly status: number; readonly body: string };
  /**
   * Node's server option (default `true`: an HTTP/1.1 request without Host gets Node's own 400
   * before any framework code runs); `false` lets such requests reach the adapter.
   */
  readonly requireHostHeader?: boolean;
}

/** A server listening on 127.0.0.1. */
export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A web framework's app, built from the neutral {@link Handlers}. */
/** Waits for a server told to listen (`app.listen(0, '127.0.0.1')`); `close()` also ends its keep-alive connections. */
export async function listenOnLoopback(server: Server): Promise<RunningServer> {
  if (!server.listening) await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Harness {
  readonly name: 'express' | 'fastify' | 'koa';
  /** Whether routes can opt out of tenancy (`config: { tenancy: false | 'optional' }`). */
  readonly perRouteConfig: boolean;
  start(kit: AppKit, options?: ServerOptions): Promise<RunningServer>;
}

/** Kinds of asynchronous work `/slow` does between looking at the tenant. */
export type SlowMode = 'timer' | 'emitter' | 'db' | 'mixed';

/** What the test apps' routes do, whatever the framework. Each returns the JSON body to send. */
export interface Handlers {
  /** GET /whoami: the tenant seen, the tenant the adapter attached, and the URL the app routed. */
  whoami(attached: Tenant | null | undefined, url: string): Record<string, unknown>;
  /** GET /items, and any path no other route takes: the tenant's rows, through tenantPool. */
  items(attached: Tenant | null | undefined, url: string): Promise<Record<string, unknown>>;
  /** GET /plans: the shared `plans` table, and what reading the tenant table `items` gave. */
  plans(attached: Tenant | null | undefined): Promise<Record<string, unknown>>;
  /** GET /slow?mode&ms: looks at the tenant across timers, emitters and queries. */
  slow(mode: SlowMode, ms: number): Promise<Record<string, unknown>>;
  /** POST /echo (JSON): echoes the parsed body. */
  echo(attached: Tenant | null | undefined, body: unknown): Record<string, unknown>;
  /** POST /stream (application/octet-stream): reads the raw body with `data` listeners and a Transform pipeline. */
  stream(body: NodeJS.ReadableStream): Promise<Record<string, unknown>>;
  /** POST /upload (multipart): what the parser gave, and the tenants seen while parsing. */
  upload(attached: Tenant | null | undefined, file: { name: string; size: number; text: string } | undefined, fields: Record<string, unknown>, seenWhileParsing: readonly (string | null)[]): Record<string, unknown>;
  /** Records the tenant active now (for parsers' callbacks). */
  seen(): string | null;
}

/** What the test apps need: the tenancy, the tenant-scoped pool, and the neutral handlers. */
export interface AppKit {
  readonly tenancy: Tenancy;
  readonly db: TenantPool;
  readonly handlers: Handlers;
  close(): void;
}

/**
 * The neutral handlers over a tenancy and a pool. A ticker started here (outside any request)
 * emits on a shared emitter: a listener bound with `tenancy.bind` must still see its own tenant.
 */
export function createAppKit(tenancy: Tenancy, pool: pg.Pool): AppKit {
  const db = tenantPool(tenancy, pool);
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  const ticker = setInterval(() => bus.emit('tick'), 2);
  ticker.unref();

  const seen = (): string | null => tenancy.current()?.id ?? null;
  const scope = (): Seen['scope'] => tenancy.scope()?.kind ?? null;
  const owners = async (): Promise<string[]> => (await db.query<{ owner: string }>('SELECT owner FROM items ORDER BY id')).rows.map((row) => row.owner);
  const base = (attached: Tenant | null | undefined) => ({ tenant: seen(), scope: scope(), attached: attached === undefined ? 'unset' : (attached?.id ?? null) });

  const handlers: Handlers = {
    seen,
    whoami: (attached, url) => ({ ...base(attached), url }),
    // In the shared scope there are no tenant rows to read (the query would fail: no such table).
    items: async (attached, url) => ({ ...base(attached), url, owners: tenancy.current() === undefined ? null : await owners() }),
    async plans(attached) {
      const plans = (await db.query<{ id: string }>('SELECT id FROM plans ORDER BY id')).rows.map((row) => row.id);
      let itemsError: string | null = null;
      try {
        await db.query('SELECT owner FROM items');
      } catch (error) {
        itemsError = (error as { code?: string }).code ?? String(error);
      }
      return { ...base(attached), plans, itemsError };
    },
    async slow(mode, ms) {
      const start = seen();
      const observed: (string | null)[] = [];
      const look = (): void => void observed.push(seen());
      if (mode === 'timer' || mode === 'mixed') {
        await sleep(ms);
        look();
        await new Promise<void>((resolve) => setTimeout(() => (look(), resolve()), ms));
        await new Promise<void>((resolve) => setImmediate(() => (look(), resolve())));
        await new Promise<void>((resolve) => process.nextTick(() => (look(), resolve())));
        await new Promise<void>((resolve) => queueMicrotask(() => (look(), resolve())));
      }
      if (mode === 'emitter' || mode === 'mixed') {
        // A local emitter fired from a timer, and the shared ticker (emitting in no tenant's context).
        const local = new EventEmitter();
        const fired = once(local, 'go').then(look);
        setTimeout(() => local.emit('go'), ms);
        await fired;
        await new Promise<void>((resolve) => bus.once('tick', tenancy.bind(() => (look(), resolve()))));
      }
      let rows: string[] = [];
      if (mode === 'db' || mode === 'mixed') {
        await db.query('SELECT pg_sleep($1::float8 / 1000)', [ms]);
        look();
        rows = await owners();
        look();
        const client = await db.connect();
        try {
          const inner = await client.query<{ owner: string }>('SELECT owner FROM items');
          rows = rows.concat(inner.rows.map((row) => row.owner));
        } finally {
          client.release();
        }
        look();
      }
      look();
      return { tenant: start, scope: scope(), observed, owners: rows };
    },
    echo: (attached, body) => ({ ...base(attached), body }),
    async stream(body) {
      const start = seen();
      const observed: (string | null)[] = [];
      let bytes = 0;
      body.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        observed.push(seen());
      });
      const upper = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          observed.push(seen());
          setTimeout(() => done(null, chunk), 1);
        },
      });
      const sink = new Writable({
        write(_chunk, _encoding, done) {
          observed.push(seen());
          done();
        },
      });
      await pipeline(body, upper, sink);
      observed.push(seen());
      return { tenant: start, observed, bytes, owners: await owners() };
    },
    upload: (attached, file, fields, seenWhileParsing) => ({ ...base(attached), file: file ?? null, fields, seenWhileParsing }),
  };
  return {
    tenancy,
    db,
    handlers,
    close: () => clearInterval(ticker),
  };
}
