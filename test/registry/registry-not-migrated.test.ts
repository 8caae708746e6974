/**
 * A PostgreSQL registry whose tables were never created (`migrate.shared()` forgotten): every
 * entry point says so with a typed error, and an HTTP request gets a 503 that says what to run.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, describe, expect, it } from 'vitest';
import { tenancyMiddleware as expressTenancy } from '../../src/adapters/express.js';
import { fastifyTenancy } from '../../src/adapters/fastify.js';
import { tenancyMiddleware as koaTenancy } from '../../src/adapters/koa.js';
import {
  chainResolvers,
  createTenancy,
  domainResolver,
  isTenancyError,
  RegistryNotMigratedError,
  subdomainResolver,
  type Tenancy,
} from '../../src/index.js';
import { httpClient, type Incoming } from '../adapters/http-client.js';
import { useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();
const servers: Server[] = [];
const tenancies: Tenancy[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  await Promise.all(tenancies.map((tenancy) => tenancy.close()));
});

let counter = 0;

/** A tenancy on a shared schema nobody migrated. */
function unmigrated(): Tenancy {
  counter += 1;
  const tenancy = createTenancy({
    pool: db.pool,
    sharedSchema: `never_migrated_${counter}`,
    resolver: chainResolvers(subdomainResolver({ baseDomain: 'example.com' }), domainResolver()),
  });
  tenancies.push(tenancy);
  return tenancy;
}

function expectNotMigrated(error: unknown, sharedSchema: string): void {
  expect(error).toBeInstanceOf(RegistryNotMigratedError);
  expect(isTenancyError(error)).toBe(true);
  expect(error).toMatchObject({ code: 'TENANTRY_REGISTRY_NOT_MIGRATED', httpStatus: 503, sharedSchema, cause: { code: '42P01' } });
  expect((error as Error).message).toBe(
    `The tenant registry is not set up in schema "${sharedSchema}": run tenancy.migrate.shared() (or tenantry migrate --shared) first`,
  );
}

describe('a registry that was never migrated', () => {
  it.each([
    ['registry.create', (t: Tenancy) => t.registry.create({ id: 'acme', domains: ['shop.acme.test'] })],
    ['registry.ensure', (t: Tenancy) => t.registry.ensure({ id: 'acme' })],
    ['registry.get', (t: Tenancy) => t.registry.get('acme')],
    ['registry.getByDomain', (t: Tenancy) => t.registry.getByDomain('shop.acme.test')],
    ['registry.list', (t: Tenancy) => t.registry.list({ status: 'active' })],
    ['registry.suspend', (t: Tenancy) => t.registry.suspend('acme')],
    ['registry.delete', (t: Tenancy) => t.registry.delete('acme')],
    ['registry.addDomain', (t: Tenancy) => t.registry.addDomain('acme', 'shop.acme.test')],
    ['registry.domains', (t: Tenancy) => t.registry.domains('acme')],
    ['tenancy.run (a lookup)', (t: Tenancy) => t.run('acme', () => 1)],
    ['tenancy.lookupDomain', (t: Tenancy) => t.lookupDomain('shop.acme.test')],
    ['migrate.tenants', (t: Tenancy) => t.migrate.tenants()],
    ['migrate.tenant', (t: Tenancy) => t.migrate.tenant('acme')],
  ])('%s rejects with RegistryNotMigratedError', async (_name, call) => {
    const tenancy = unmigrated();
    expectNotMigrated(await call(tenancy).catch((error: unknown) => error), tenancy.sharedSchema);
  });

  it('is gone once migrate.shared() has run', async () => {
    const tenancy = unmigrated();
    await tenancy.migrate.shared();
    await tenancy.registry.create({ id: 'acme' });
    expect(await tenancy.run('acme', () => tenancy.require().id)).toBe('acme');
  });

  it("answers an Express request with the framework's 503, naming what to run", async () => {
    const app = express();
    app.use(expressTenancy(unmigrated()));
    app.get('/', (_req, res) => {
      res.send('unreachable');
    });
    const response = await get(createServer(app), 'acme.example.com');
    expect(response.status).toBe(503);
    expect(response.text).toContain('run tenancy.migrate.shared() (or tenantry migrate --shared) first');
  });

  it("answers a Fastify request with the framework's 503 JSON, naming what to run", async () => {
    const app = Fastify();
    await app.register(fastifyTenancy, { tenancy: unmigrated() });
    app.get('/', async () => 'unreachable');
    await app.ready();
    const response = await get(app.server, 'shop.acme.test');
    expect(response.status).toBe(503);
    expect(response.json).toMatchObject({ statusCode: 503, code: 'TENANTRY_REGISTRY_NOT_MIGRATED' });
    expect(response.json.message).toContain('run tenancy.migrate.shared() (or tenantry migrate --shared) first');
  });

  it("answers a Koa request with the framework's 503 text, naming what to run", async () => {
    const app = new Koa();
    app.silent = true;
    app.use(koaTenancy(unmigrated()));
    app.use((ctx) => {
      ctx.body = 'unreachable';
    });
    const response = await get(createServer(app.callback()), 'acme.example.com');
    expect(response.status).toBe(503);
    expect(response.text).toMatch(/^The tenant registry is not set up in schema "never_migrated_\d+": run tenancy\.migrate\.shared\(\)/);
  });
});

async function get(server: Server, host: string): Promise<Incoming> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = httpClient((server.address() as AddressInfo).port);
  try {
    return await client.send({ path: '/', headers: { host } });
  } finally {
    client.close();
  }
}
