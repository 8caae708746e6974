import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerResolver, type Tenancy, type TenantRequest } from '../../src/index.js';
import {
  ACTIVE,
  type AppKit,
  appTenancy,
  createAppKit,
  CUSTOM_DOMAIN,
  type Harness,
  type RunningServer,
  seedTenants,
  type ServerOptions,
  type SlowMode,
  TENANTS,
} from './app-kit.js';
import { type ChildServer, startChildServer } from './child-process.js';
import { type Client, httpClient, type Incoming, multipartBody, type Outgoing, pieces, sendRaw } from './http-client.js';

/** A running test app and a keep-alive client on it. */
interface Served {
  readonly server: RunningServer;
  readonly client: Client;
  send(request: Outgoing): Promise<Incoming>;
  /** GET `path` with `Host: host` (and more headers). */
  get(host: string, path: string, headers?: Record<string, string>): Promise<Incoming>;
}

const PROBLEM = 'application/problem+json';
/**
 * How soon another process must see a registry change: far below its cache's TTL (30 s), so only
 * the notification can explain it. About 50 ms on a quiet machine (the README says within a
 * second); the bound leaves room for a loaded CI machine.
 */
const NOTIFIED_WITHIN_MS = 5_000;

/** Asserts an RFC 9457 problem response with tenantry's code. */
function expectProblem(response: Incoming, status: number, code: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.contentType).toContain(PROBLEM);
  expect(response.json).toMatchObject({ status, code, type: `urn:tenantry:${code.replace(/^TENANTRY_/, '').toLowerCase().replaceAll('_', '-')}` });
  expect(typeof response.json.title).toBe('string');
  expect(typeof response.json.detail).toBe('string');
}

/** Asserts a 200 whose handler ran for `tenant`, and the adapter attached the same tenant. */
function expectTenant(response: Incoming, tenant: string): void {
  expect(response.status, response.text).toBe(200);
  expect(response.json).toMatchObject({ tenant, scope: 'tenant', attached: tenant });
}

/**
 * Asserts the 400 for a request-target whose host is malformed: tenantry's problem details, or,
 * on Fastify, the framework's own `FST_ERR_BAD_URL` for a target its router cannot read (an empty
 * host, a bad port, a scheme other than http and https), answered before any hook runs.
 */
function expectBadTarget(harness: Harness, response: Incoming, target: string): void {
  expect(response.status, `${target}: ${response.text}`).toBe(400);
  if (response.contentType.includes(PROBLEM)) {
    expectProblem(response, 400, 'TENANTRY_INVALID_DOMAIN');
    return;
  }
  expect(harness.name, `${target}: ${response.text}`).toBe('fastify');
  expect(response.json, target).toMatchObject({ code: 'FST_ERR_BAD_URL', statusCode: 400 });
}

/**
 * The behaviour every HTTP adapter must have, over real HTTP against a PostgreSQL registry.
 * Each framework's test file calls it with its harness and its own test database.
 */
export function adapterSuite(harness: Harness, db: { readonly pool: pg.Pool; readonly url: string }): void {
  describe(`${harness.name} adapter`, () => {
    let tenancy: Tenancy;
    let kit: AppKit;
    const running: Served[] = [];

    async function serve(options: ServerOptions = {}): Promise<Served> {
      const server = await harness.start(kit, options);
      const client = httpClient(server.port);
      const served: Served = {
        server,
        client,
        send: (request) => client.send(request),
        get: (host, path, headers = {}) => client.send({ path, headers: { host, ...headers } }),
      };
      running.push(served);
      return served;
    }

    beforeAll(async () => {
      tenancy = appTenancy(db.pool);
      await seedTenants(tenancy, db.pool);
      kit = createAppKit(tenancy, db.pool);
    });

    afterAll(async () => {
      for (const served of running) {
        served.client.close();
        await served.server.close();
      }
      kit?.close();
      await tenancy?.close();
    });

    describe('finds the tenant with every resolver', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve();
      });

      it('subdomain, from the Host header (any case, port, trailing dot)', async () => {
        expectTenant(await app.get('acme.example.test', '/whoami'), 'acme');
        expectTenant(await app.get('globex.localhost:3000', '/whoami'), 'globex');
        expectTenant(await app.get('BIG-CO.Example.Test.:8080', '/whoami'), 'big-co');
        expect((await app.get('acme.example.test', '/whoami')).json.url).toBe('/whoami');
      });

      it('custom domain, from the registry', async () => {
        expectTenant(await app.get(CUSTOM_DOMAIN, '/whoami'), 'acme');
        expectTenant(await app.get(`${CUSTOM_DOMAIN.toUpperCase()}:8443`, '/whoami'), 'acme');
      });

      it('path prefix: the app routes the rest of the path and keeps the query string', async () => {
        const response = await app.get('example.test', '/t/globex/whoami?x=1&y=%20');
        expectTenant(response, 'globex');
        expect(response.json.url).toBe('/whoami?x=1&y=%20');
        const bare = await app.get('example.test', '/t/big-co');
        expectTenant(bare, 'big-co');
        expect(bare.json.url).toBe('/');
        const bareQuery = await app.get('example.test', '/t/big-co?page=2');
        expectTenant(bareQuery, 'big-co');
        expect(bareQuery.json.url).toBe('/?page=2');
        expectTenant(await app.get('example.test', '/t/ac%6De/whoami'), 'acme');
      });

      it('header', async () => {
        expectTenant(await app.get('example.test', '/whoami', { 'x-tenant-id': 'big-co' }), 'big-co');
        expectTenant(await app.get('127.0.0.1', '/whoami', { 'x-tenant-id': ' globex ' }), 'globex');
      });

      it('reads each tenant’s own rows through tenantPool', async () => {
        for (const id of ACTIVE) {
          const response = await app.get(`${id}.example.test`, '/items');
          expectTenant(response, id);
          expect(response.json.owners).toEqual([id]);
        }
      });
    });

    describe('refuses with problem details', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve();
      });

      it('400 for an invalid tenant id, from any resolver', async () => {
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'ACME' }), 400, 'TENANTRY_INVALID_TENANT_ID');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'acme, globex' }), 400, 'TENANTRY_INVALID_TENANT_ID');
        expectProblem(await app.get('example.test', '/t/Acme/whoami'), 400, 'TENANTRY_INVALID_TENANT_ID');
        expectProblem(await app.get('example.test', '/t/%2e%2e/whoami'), 400, 'TENANTRY_INVALID_TENANT_ID');
        expectProblem(await app.get('example.test', '/t/acme%2Fx/whoami'), 400, 'TENANTRY_INVALID_TENANT_ID');
      });

      it('400 for a Host that is not a host name', async () => {
        expectProblem(await app.get('bad_host.example.test', '/whoami'), 400, 'TENANTRY_INVALID_DOMAIN');
        expectProblem(await app.get('acme.example.test:99x', '/whoami'), 400, 'TENANTRY_INVALID_DOMAIN');
        expectProblem(await app.get('[::1', '/whoami'), 400, 'TENANTRY_INVALID_DOMAIN');
      });

      it('404 for an unknown tenant', async () => {
        expectProblem(await app.get('ghost.example.test', '/whoami'), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'ghost' }), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await app.get('example.test', '/t/ghost/whoami'), 404, 'TENANTRY_TENANT_NOT_FOUND');
      });

      it('403 for a suspended tenant', async () => {
        expectProblem(await app.get('sleepy.example.test', '/whoami'), 403, 'TENANTRY_TENANT_SUSPENDED');
        expectProblem(await app.get('example.test', '/items', { 'x-tenant-id': 'sleepy' }), 403, 'TENANTRY_TENANT_SUSPENDED');
      });

      it('404 when a request that needs a tenant names none', async () => {
        for (const host of ['example.test', 'www.example.test', 'localhost:3000', '127.0.0.1', '[::1]:8080', 'unregistered.io']) {
          expectProblem(await app.get(host, '/whoami'), 404, 'TENANTRY_TENANT_REQUIRED');
        }
      });

      it('refuses before the body is parsed or the handler runs', async () => {
        const response = await app.send({
          method: 'POST',
          path: '/echo',
          headers: { host: 'ghost.example.test', 'content-type': 'application/json' },
          body: JSON.stringify({ hello: 'world' }),
        });
        expectProblem(response, 404, 'TENANTRY_TENANT_NOT_FOUND');
        expect(response.text).not.toContain('hello');
      });
    });

    describe('request-targets in absolute form and Host headers (RFC 9112 §3.2)', () => {
      let app: Served;
      /** A GET written over a socket as given: `target` on the request line, then `headers`. */
      const get = (target: string, ...headers: string[]): Promise<Incoming> => sendRaw(app.server.port, [`GET ${target} HTTP/1.1`, ...headers]);
      beforeAll(async () => {
        app = await serve();
      });

      it('absolute form: the target names the tenant and the path, and the Host header is ignored', async () => {
        const response = await get('http://globex.example.test/whoami?x=1', 'Host: acme.example.test');
        expectTenant(response, 'globex');
        // The route of the target's path answered; the framework's URL keeps the target as received.
        expect(response.json.url).toBe('http://globex.example.test/whoami?x=1');
        expectTenant(await get('HTTPS://BIG-CO.Example.Test.:8443/whoami', 'Host: globex.example.test'), 'big-co');
        expectTenant(await get(`http://${CUSTOM_DOMAIN}/whoami`, 'Host: globex.example.test'), 'acme');
        expectTenant(await get('http://[::1]:3000/whoami', 'Host: acme.example.test', 'X-Tenant-Id: big-co'), 'big-co');
        const prefixed = await get('http://example.test/t/globex/whoami?x=1', 'Host: acme.example.test');
        expectTenant(prefixed, 'globex');
        expect(prefixed.json.url).toBe('http://example.test/whoami?x=1');
        // A plain request over the same raw client.
        expectTenant(await get('/whoami', 'Host: acme.example.test'), 'acme');
      });

      it('a fragment sent in the target (no client should) is not part of the path: never a 500', async () => {
        for (const target of ['/t/acme//#%e9@', '/t/acme/whoami#frag', '/whoami#%zz']) {
          const response = await get(target, 'Host: acme.example.test');
          expect(response.status, target).toBeLessThan(500);
        }
      });

      it('attack: a target naming one tenant with a Host naming another serves the target’s tenant, never the Host’s', async () => {
        for (const [named, host] of [
          ['acme', 'globex'],
          ['globex', 'acme'],
          ['big-co', 'acme'],
        ] as const) {
          const response = await get(`http://${named}.example.test/items`, `Host: ${host}.example.test`);
          expectTenant(response, named);
          expect(response.json.owners).toEqual([named]);
          expect(response.text).not.toContain(`"${host}"`);
          const posted = await sendRaw(
            app.server.port,
            [`POST http://${named}.example.test/echo HTTP/1.1`, `Host: ${host}.example.test`, 'Content-Type: application/json', 'Content-Length: 13'],
            '{"order":"7"}',
          );
          expectTenant(posted, named);
          expect(posted.json.body).toEqual({ order: '7' });
        }
        // The Host does not stand in for a target that names no tenant, an unknown or a suspended one.
        expectProblem(await get('http://example.test/whoami', 'Host: acme.example.test'), 404, 'TENANTRY_TENANT_REQUIRED');
        expectProblem(await get('http://ghost.example.test/whoami', 'Host: acme.example.test'), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await get('http://sleepy.example.test/whoami', 'Host: acme.example.test'), 403, 'TENANTRY_TENANT_SUSPENDED');
      });

      it('400 for an absolute-form target whose host is malformed, whatever the Host header names', async () => {
        for (const target of [
          'http://user@globex.example.test/whoami',
          'http://user:secret@globex.example.test/whoami',
          'http://acme.example.test@globex.example.test/whoami',
          'http:///whoami',
          'http://globex.example.test:99x/whoami',
          'http://bad_host.example.test/whoami',
          'ftp://globex.example.test/whoami',
        ]) {
          expectBadTarget(harness, await get(target, 'Host: acme.example.test'), target);
        }
      });

      it('400 for two Host headers, serving neither tenant', async () => {
        const cases: string[][] = [
          ['/whoami', 'Host: acme.example.test', 'Host: globex.example.test'],
          ['/items', 'Host: globex.example.test', 'host: acme.example.test'],
          ['/whoami', 'Host: acme.example.test', 'HOST: acme.example.test'],
          ['/whoami', 'Host: acme.example.test', 'Host:'],
          ['/t/acme/whoami', 'Host: example.test', 'Host: example.test'],
          ['/whoami', 'Host: example.test', 'X-Tenant-Id: acme', 'Host: globex.example.test'],
          ['http://acme.example.test/whoami', 'Host: acme.example.test', 'Host: globex.example.test'],
        ];
        for (const [target, ...headers] of cases) {
          const response = await get(target!, ...headers);
          expectProblem(response, 400, 'TENANTRY_INVALID_DOMAIN');
          expect(response.json.detail, headers.join(', ')).toContain('one Host header');
        }
        const lenient = await serve({ required: false, trustProxy: true });
        const response = await sendRaw(lenient.server.port, ['GET /whoami HTTP/1.1', 'Host: acme.example.test', 'Host: globex.example.test', 'X-Forwarded-Host: acme.example.test']);
        expectProblem(response, 400, 'TENANTRY_INVALID_DOMAIN');
      });

      it('no Host: 400 on HTTP/1.1 (from Node by default, else from the adapter); HTTP/1.0 may omit it', async () => {
        // Node's requireHostHeader answers before any framework code runs.
        expect((await sendRaw(app.server.port, ['GET /t/acme/whoami HTTP/1.1'])).status).toBe(400);
        expectTenant(await sendRaw(app.server.port, ['GET /t/acme/whoami HTTP/1.0']), 'acme');
        expectTenant(await sendRaw(app.server.port, ['GET http://globex.example.test/whoami HTTP/1.0']), 'globex');
        expectProblem(await sendRaw(app.server.port, ['GET /whoami HTTP/1.0']), 404, 'TENANTRY_TENANT_REQUIRED');

        const lax = await serve({ requireHostHeader: false });
        for (const target of ['/t/acme/whoami', 'http://acme.example.test/whoami']) {
          const response = await sendRaw(lax.server.port, [`GET ${target} HTTP/1.1`, 'X-Tenant-Id: acme']);
          expectProblem(response, 400, 'TENANTRY_INVALID_DOMAIN');
          expect(response.json.detail).toContain('must have a Host header');
        }
        expectTenant(await sendRaw(lax.server.port, ['GET /t/acme/whoami HTTP/1.0']), 'acme');
      });

      it('trustProxy: a trusted X-Forwarded-Host still wins over an absolute-form target', async () => {
        const proxied = await serve({ trustProxy: true });
        const forwarded = (target: string, ...headers: string[]) => sendRaw(proxied.server.port, [`GET ${target} HTTP/1.1`, ...headers]);
        expectTenant(await forwarded('http://globex.example.test/whoami', 'Host: acme.example.test', 'X-Forwarded-Host: big-co.example.test'), 'big-co');
        expectTenant(await forwarded('http://globex.example.test/whoami', 'Host: acme.example.test'), 'globex');
        expectBadTarget(harness, await forwarded('http://user@globex.example.test/whoami', 'Host: acme.example.test', 'X-Forwarded-Host: big-co.example.test'), 'user@');
      });
    });

    describe('with required: false', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve({ required: false });
      });

      it('serves requests that name no tenant in the shared scope: shared tables readable, tenant tables not', async () => {
        const response = await app.get('example.test', '/plans');
        expect(response.status, response.text).toBe(200);
        expect(response.json).toEqual({ tenant: null, scope: 'shared', attached: null, plans: ['free', 'pro'], itemsError: '42P01' });
        expect((await app.get('www.example.test', '/whoami')).json).toMatchObject({ tenant: null, scope: 'shared', attached: null });
      });

      it('still serves tenants their own scope, and still refuses bad, unknown and suspended ones', async () => {
        const response = await app.get('acme.example.test', '/plans');
        expectTenant(response, 'acme');
        expect(response.json).toMatchObject({ plans: ['free', 'pro'], itemsError: null });
        expectProblem(await app.get('ghost.example.test', '/whoami'), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await app.get('sleepy.example.test', '/whoami'), 403, 'TENANTRY_TENANT_SUSPENDED');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'Nope!' }), 400, 'TENANTRY_INVALID_TENANT_ID');
      });
    });

    describe.runIf(harness.perRouteConfig)('per-route config', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve();
      });

      it('config: { tenancy: false } serves the route in the shared scope without resolving anything', async () => {
        for (const headers of [{ host: 'example.test' }, { host: 'ghost.example.test' }, { host: 'sleepy.example.test' }, { host: 'example.test', 'x-tenant-id': 'BAD' }, { host: 'acme.example.test' }]) {
          const response = await app.send({ path: '/health', headers });
          expect(response.status, JSON.stringify(headers)).toBe(200);
          expect(response.json).toMatchObject({ tenant: null, scope: 'shared', attached: null });
        }
        const plans = await app.get('example.test', '/public-plans');
        expect(plans.json).toEqual({ tenant: null, scope: 'shared', attached: null, plans: ['free', 'pro'], itemsError: '42P01' });
      });

      it("config: { tenancy: 'optional' } serves no tenant in the shared scope and a named one in its own", async () => {
        expect((await app.get('example.test', '/maybe')).json).toMatchObject({ tenant: null, scope: 'shared', attached: null });
        expectTenant(await app.get('acme.example.test', '/maybe'), 'acme');
        expectProblem(await app.get('ghost.example.test', '/maybe'), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await app.get('sleepy.example.test', '/maybe'), 403, 'TENANTRY_TENANT_SUSPENDED');
        // The other routes still require a tenant.
        expectProblem(await app.get('example.test', '/whoami'), 404, 'TENANTRY_TENANT_REQUIRED');
      });
    });

    describe('options', () => {
      it('authorize: false → 403; called with the request and the tenant, after the registry said it exists', async () => {
        const calls: string[] = [];
        const app = await serve({
          resolver: headerResolver(),
          authorize: async (request: TenantRequest, tenant) => {
            calls.push(tenant.id);
            await sleep(1);
            const allowed = String(request.headers['x-user-tenants'] ?? '').split(',');
            return allowed.includes(tenant.id);
          },
        });
        expectTenant(await app.get('example.test', '/whoami', { 'x-tenant-id': 'acme', 'x-user-tenants': 'globex,acme' }), 'acme');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'acme', 'x-user-tenants': 'globex' }), 403, 'TENANTRY_TENANT_FORBIDDEN');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'acme' }), 403, 'TENANTRY_TENANT_FORBIDDEN');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'ghost', 'x-user-tenants': 'ghost' }), 404, 'TENANTRY_TENANT_NOT_FOUND');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'sleepy', 'x-user-tenants': 'sleepy' }), 403, 'TENANTRY_TENANT_SUSPENDED');
        expect(calls).toEqual(['acme', 'acme', 'acme']);
      });

      it('trustProxy: X-Forwarded-Host is ignored unless set', async () => {
        const direct = await serve();
        expectProblem(await direct.get('example.test', '/whoami', { 'x-forwarded-host': 'acme.example.test' }), 404, 'TENANTRY_TENANT_REQUIRED');
        expectTenant(await direct.get('globex.example.test', '/whoami', { 'x-forwarded-host': 'acme.example.test' }), 'globex');

        const proxied = await serve({ trustProxy: true });
        expectTenant(await proxied.get('example.test', '/whoami', { 'x-forwarded-host': 'acme.example.test' }), 'acme');
        expectTenant(await proxied.get('globex.example.test', '/whoami', { 'x-forwarded-host': 'acme.example.test' }), 'acme');
        expectTenant(await proxied.get('example.test', '/whoami', { 'x-forwarded-host': 'big-co.example.test, evil.example.test' }), 'big-co');
        expectTenant(await proxied.get('example.test', '/whoami', { 'x-forwarded-host': CUSTOM_DOMAIN }), 'acme');
        expectTenant(await proxied.get('globex.example.test', '/whoami'), 'globex');
        expectProblem(await proxied.get('acme.example.test', '/whoami', { 'x-forwarded-host': 'example.test' }), 404, 'TENANTRY_TENANT_REQUIRED');
        expectProblem(await proxied.get('acme.example.test', '/whoami', { 'x-forwarded-host': 'bad host' }), 400, 'TENANTRY_INVALID_DOMAIN');
      });

      it('onRefused: answers refusals itself, with the typed error', async () => {
        const app = await serve({
          onRefused: (error) => ({ status: error.httpStatus === 404 ? 410 : error.httpStatus, body: `refused: ${error.code}` }),
        });
        const cases: [string, number, string][] = [
          ['ghost.example.test', 410, 'TENANTRY_TENANT_NOT_FOUND'],
          ['example.test', 410, 'TENANTRY_TENANT_REQUIRED'],
          ['sleepy.example.test', 403, 'TENANTRY_TENANT_SUSPENDED'],
          ['bad_host.example.test', 400, 'TENANTRY_INVALID_DOMAIN'],
        ];
        for (const [host, status, code] of cases) {
          const response = await app.get(host, '/whoami');
          expect(response.status, host).toBe(status);
          expect(response.contentType).toContain('text/plain');
          expect(response.text).toBe(`refused: ${code}`);
        }
        expectTenant(await app.get('acme.example.test', '/whoami'), 'acme');
      });
    });

    describe('keeps the tenant through bodies', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve();
      });

      it('a JSON POST, small or large and sent slowly', async () => {
        const small = await app.send({
          method: 'POST',
          path: '/t/globex/echo',
          headers: { host: 'example.test', 'content-type': 'application/json' },
          body: JSON.stringify({ order: 7 }),
        });
        expectTenant(small, 'globex');
        expect(small.json.body).toEqual({ order: 7 });

        const big = { rows: Array.from({ length: 3_000 }, (_, i) => ({ i, text: 'x'.repeat(50) })) };
        const large = await app.send({
          method: 'POST',
          path: '/echo',
          headers: { host: 'acme.example.test', 'content-type': 'application/json' },
          chunks: pieces(Buffer.from(JSON.stringify(big)), 12),
          chunkDelayMs: 3,
        });
        expectTenant(large, 'acme');
        expect(large.json.body.rows).toHaveLength(3_000);
      });

      it('a multipart upload, the tenant seen by the parser’s callbacks and the handler', async () => {
        const content = 'line of text\n'.repeat(8_000);
        const { body, contentType } = await multipartBody({ note: 'hello' }, { field: 'file', name: 'notes.txt', content });
        const response = await app.send({
          method: 'POST',
          path: '/upload',
          headers: { host: 'big-co.example.test', 'content-type': contentType },
          chunks: pieces(body, 10),
          chunkDelayMs: 3,
        });
        expectTenant(response, 'big-co');
        expect(response.json.file).toEqual({ name: 'notes.txt', size: Buffer.byteLength(content), text: content });
        expect(response.json.fields).toEqual({ note: 'hello', seenInHandler: 'big-co' });
        expect(response.json.seenWhileParsing.length).toBeGreaterThan(0);
        expect(new Set(response.json.seenWhileParsing)).toEqual(new Set(['big-co']));
      });

      it('a raw body read with data listeners and a stream pipeline', async () => {
        const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1_000, i));
        const response = await app.send({
          method: 'POST',
          path: '/stream',
          headers: { host: CUSTOM_DOMAIN, 'content-type': 'application/octet-stream' },
          chunks,
          chunkDelayMs: 5,
        });
        expect(response.status, response.text).toBe(200);
        expect(response.json.tenant).toBe('acme');
        expect(response.json.bytes).toBe(8_000);
        expect(response.json.observed.length).toBeGreaterThan(3);
        expect(new Set(response.json.observed)).toEqual(new Set(['acme']));
        expect(response.json.owners).toEqual(['acme']);
      });
    });

    describe('interleaved requests', () => {
      let app: Served;
      beforeAll(async () => {
        app = await serve();
      });

      /** How request `i` names tenant `id`: subdomain, custom domain (acme), path prefix or header. */
      function addressed(id: string, i: number, path: string): { path: string; headers: Record<string, string> } {
        switch (i % 4) {
          case 0:
            return { path, headers: { host: `${id}.example.test` } };
          case 1:
            return id === TENANTS.acme ? { path, headers: { host: CUSTOM_DOMAIN } } : { path, headers: { host: `${id}.localhost:3000` } };
          case 2:
            return { path: `/t/${id}${path}`, headers: { host: 'example.test' } };
          default:
            return { path, headers: { host: 'example.test', 'x-tenant-id': id } };
        }
      }

      it('a slow request and a fast one of two tenants each see their own tenant', async () => {
        const slow = app.send({ path: '/slow?mode=mixed&ms=60', headers: { host: 'acme.example.test' } });
        await sleep(10);
        const fast = await app.send({ path: '/slow?mode=mixed&ms=1', headers: { host: 'globex.example.test' } });
        const done = await slow;
        for (const [response, id] of [
          [fast, 'globex'],
          [done, 'acme'],
        ] as const) {
          expect(response.status, response.text).toBe(200);
          expect(response.json.tenant).toBe(id);
          expect(new Set(response.json.observed)).toEqual(new Set([id]));
          expect(new Set(response.json.owners)).toEqual(new Set([id]));
        }
      });

      it('many concurrent requests of three tenants through timers, emitters, streams, bodies and queries', async () => {
        const modes: SlowMode[] = ['timer', 'emitter', 'db', 'mixed'];
        const requests = Array.from({ length: 120 }, (_, i) => {
          const id = ACTIVE[i % ACTIVE.length]!;
          const ms = 1 + ((i * 7) % 25);
          const kind = i % 6;
          let request: Outgoing;
          if (kind < 4) {
            request = addressed(id, i, `/slow?mode=${modes[kind]}&ms=${ms}`);
          } else if (kind === 4) {
            const target = addressed(id, i, '/stream');
            request = {
              method: 'POST',
              path: target.path,
              headers: { ...target.headers, 'content-type': 'application/octet-stream' },
              chunks: Array.from({ length: 4 }, () => Buffer.alloc(500, id)),
              chunkDelayMs: ms,
            };
          } else {
            const target = addressed(id, i, '/echo');
            request = {
              method: 'POST',
              path: target.path,
              headers: { ...target.headers, 'content-type': 'application/json' },
              chunks: pieces(Buffer.from(JSON.stringify({ id, i, pad: 'p'.repeat(2_000) })), 4),
              chunkDelayMs: ms,
            };
          }
          return { id, i, kind, promise: app.send(request) };
        });
        for (const { id, i, kind, promise } of requests) {
          const response = await promise;
          const label = `request ${i} (kind ${kind}) for ${id}`;
          expect(response.status, `${label}: ${response.text}`).toBe(200);
          expect(response.json.tenant, label).toBe(id);
          if (kind === 5) {
            expect(response.json.attached, label).toBe(id);
            expect(response.json.body, label).toMatchObject({ id, i });
          } else {
            expect(response.json.observed.length, label).toBeGreaterThan(0);
            expect(new Set(response.json.observed), label).toEqual(new Set([id]));
          }
          if (kind === 2 || kind === 3 || kind === 4) expect(new Set(response.json.owners), label).toEqual(new Set([id]));
        }
      });
    });

    describe('registry cache', () => {
      it('a suspension is seen by the next request in the same process, and so is the resume', async () => {
        const app = await serve();
        expectTenant(await app.get('flip.example.test', '/whoami'), 'flip');
        expectTenant(await app.get('example.test', '/whoami', { 'x-tenant-id': 'flip' }), 'flip');
        await tenancy.registry.suspend(TENANTS.flip);
        expectProblem(await app.get('flip.example.test', '/whoami'), 403, 'TENANTRY_TENANT_SUSPENDED');
        expectProblem(await app.get('example.test', '/whoami', { 'x-tenant-id': 'flip' }), 403, 'TENANTRY_TENANT_SUSPENDED');
        await tenancy.registry.resume(TENANTS.flip);
        expectTenant(await app.get('flip.example.test', '/whoami'), 'flip');
      });

      it('a domain added or removed is seen by the next request', async () => {
        const app = await serve();
        expectProblem(await app.get('globex-shop.test', '/whoami'), 404, 'TENANTRY_TENANT_REQUIRED');
        await tenancy.registry.addDomain(TENANTS.globex, 'globex-shop.test');
        expectTenant(await app.get('globex-shop.test', '/whoami'), 'globex');
        await tenancy.registry.removeDomain('globex-shop.test');
        expectProblem(await app.get('globex-shop.test', '/whoami'), 404, 'TENANTRY_TENANT_REQUIRED');
      });

      describe('across processes', () => {
        let child: ChildServer | undefined;
        let client: Client;
        const whoami = () => client.send({ path: '/whoami', headers: { host: 'remote.example.test' } });

        beforeAll(async () => {
          child = await startChildServer(harness, db.url);
          client = httpClient(child.port);
        });

        afterAll(async () => {
          client?.close();
          await child?.stop();
        });

        /** The process id of the child's LISTEN connection, once it has one. */
        async function listeningBackend(): Promise<number> {
          for (let tries = 0; tries < 200; tries += 1) {
            const { rows } = await db.pool.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
              [child!.applicationName],
            );
            if (rows[0] !== undefined) return rows[0].pid;
            await sleep(50);
          }
          throw new Error('the child process never listened for registry changes');
        }

        /** Polls the child until it answers `status` (or 10 s pass); the last response and the time it took. */
        async function pollUntil(status: number): Promise<{ response: Incoming; elapsed: number }> {
          const start = performance.now();
          let response = await whoami();
          while (response.status !== status && performance.now() - start < 10_000) {
            await sleep(10);
            response = await whoami();
          }
          return { response, elapsed: performance.now() - start };
        }

        it('another process sees a suspension and a resume within a second (LISTEN/NOTIFY)', async () => {
          expectTenant(await whoami(), 'remote');
          // Only once the child listens can nothing but a notification reach its cache in time (its TTL is 30 s).
          await listeningBackend();
          expectTenant(await whoami(), 'remote');

          await tenancy.registry.suspend(TENANTS.remote);
          const suspended = await pollUntil(403);
          expectProblem(suspended.response, 403, 'TENANTRY_TENANT_SUSPENDED');
          expect(suspended.elapsed).toBeLessThan(NOTIFIED_WITHIN_MS);

          await tenancy.registry.resume(TENANTS.remote);
          const resumed = await pollUntil(200);
          expectTenant(resumed.response, 'remote');
          expect(resumed.elapsed).toBeLessThan(NOTIFIED_WITHIN_MS);
        });

        it('another process whose listening connection was killed forgets its cache when it reconnects', async () => {
          expectTenant(await whoami(), 'remote');
          const backend = await listeningBackend();
          await db.pool.query('SELECT pg_terminate_backend($1)', [backend]);
          // The notification of this change reaches no one: the child is not listening now.
          await tenancy.registry.suspend(TENANTS.remote);
          try {
            const suspended = await pollUntil(403);
            expectProblem(suspended.response, 403, 'TENANTRY_TENANT_SUSPENDED');
            expect(suspended.elapsed).toBeLessThan(NOTIFIED_WITHIN_MS);
            expect(await listeningBackend()).not.toBe(backend);
          } finally {
            await tenancy.registry.resume(TENANTS.remote);
          }
        });
      });
    });
  });
}
