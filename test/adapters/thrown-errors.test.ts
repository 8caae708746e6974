/**
 * A resolver that fails (a database down, a bug) is not a refusal: each adapter hands the error
 * to its framework's own error handling, thrown at once or rejected later, and the request gets
 * the framework's 500 instead of hanging or crashing the process.
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { tenancyMiddleware as expressTenancy } from '../../src/adapters/express.js';
import { fastifyTenancy } from '../../src/adapters/fastify.js';
import { tenancyMiddleware as koaTenancy } from '../../src/adapters/koa.js';
import { createTenancy, type TenantResolver } from '../../src/index.js';
import { httpClient } from './http-client.js';

const failures: Record<string, TenantResolver> = {
  'thrown at once': () => {
    throw new Error('registry unreachable');
  },
  'rejected later': () => Promise.reject(new Error('registry unreachable')),
};

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(handler: RequestListener | Server): Promise<number> {
  const server = typeof handler === 'function' ? createServer(handler) : handler;
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function statusOf(port: number): Promise<number> {
  const client = httpClient(port);
  try {
    return (await client.send({ path: '/', headers: { host: 'acme.example.com' } })).status;
  } finally {
    client.close();
  }
}

describe.each(Object.entries(failures))('a resolver error %s', (_how, resolver) => {
  const tenancy = createTenancy({ tenants: [{ id: 'acme' }], resolver });

  it("reaches Express's error handlers", async () => {
    const seen: unknown[] = [];
    const app = express();
    app.use(expressTenancy(tenancy));
    app.get('/', (_req, res) => {
      res.send('unreachable');
    });
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      seen.push(error.message);
      res.status(500).send('failed');
    });
    expect(await statusOf(await listen(app))).toBe(500);
    expect(seen).toEqual(['registry unreachable']);
  });

  it("reaches Fastify's error handler", async () => {
    const seen: unknown[] = [];
    const app = Fastify();
    await app.register(fastifyTenancy, { tenancy });
    app.setErrorHandler((error, _request, reply) => {
      seen.push((error as Error).message);
      void reply.code(500).send('failed');
    });
    app.get('/', async () => 'unreachable');
    await app.ready();
    expect(await statusOf(await listen(app.server))).toBe(500);
    expect(seen).toEqual(['registry unreachable']);
  });

  it("reaches Koa's error handling", async () => {
    const seen: unknown[] = [];
    const app = new Koa();
    app.silent = true;
    app.on('error', (error: Error) => seen.push(error.message));
    app.use(koaTenancy(tenancy));
    app.use((ctx) => {
      ctx.body = 'unreachable';
    });
    expect(await statusOf(await listen(app.callback()))).toBe(500);
    expect(seen).toEqual(['registry unreachable']);
  });
});
