import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createTenancy, headerResolver } from '../../src/index.js';
import { fastifyTenancy } from '../../src/adapters/fastify.js';

describe('fastifyTenancy and the app’s own hooks', () => {
  it('runs every hook registered after it, from onRequest on, in the request’s scope', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }, { id: 'globex' }], resolver: headerResolver() });
    const app = Fastify();
    await app.register(fastifyTenancy, { tenancy });
    const seen: string[] = [];
    const note = (hook: string) => seen.push(`${hook}:${tenancy.current()?.id ?? '-'}`);
    app.addHook('onRequest', (_request, _reply, done) => {
      note('onRequest');
      done();
    });
    app.addHook('onRequest', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      note('async onRequest');
    });
    app.addHook('preParsing', async (_request, _reply, payload) => {
      note('preParsing');
      return payload;
    });
    app.addHook('preHandler', async () => void note('preHandler'));
    app.addHook('onSend', async (_request, _reply, payload) => {
      note('onSend');
      return payload;
    });
    app.addHook('onResponse', async () => void note('onResponse'));
    app.post('/who', async (request) => ({ tenant: tenancy.current()?.id ?? null, body: request.body }));

    const [acme, globex] = await Promise.all(
      ['acme', 'globex'].map((id) => app.inject({ method: 'POST', url: '/who', headers: { 'x-tenant-id': id }, payload: { n: id.length } })),
    );
    expect(acme!.json()).toEqual({ tenant: 'acme', body: { n: 4 } });
    expect(globex!.json()).toEqual({ tenant: 'globex', body: { n: 6 } });
    for (const id of ['acme', 'globex']) {
      expect(seen.filter((entry) => entry.endsWith(`:${id}`)).map((entry) => entry.split(':')[0])).toEqual([
        'onRequest',
        'async onRequest',
        'preParsing',
        'preHandler',
        'onSend',
        'onResponse',
      ]);
    }
    expect(seen.filter((entry) => entry.endsWith(':-'))).toEqual([]);
    await app.close();
  });
});
