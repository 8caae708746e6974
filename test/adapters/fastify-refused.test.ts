import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { createTenancy, headerResolver } from '../../src/index.js';
import { fastifyTenancy } from '../../src/adapters/fastify.js';

describe('fastifyTenancy onRefused', () => {
  it('answers with the problem response when onRefused sends nothing, and never runs the handler', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }], resolver: headerResolver() });
    const app = Fastify();
    const seen: string[] = [];
    await app.register(fastifyTenancy, { tenancy, onRefused: (error) => void seen.push(error.code) });
    let handled = 0;
    app.get('/who', async () => {
      handled += 1;
      return { tenant: tenancy.current()?.id ?? null };
    });
    const refused = await app.inject({ method: 'GET', url: '/who', headers: { 'x-tenant-id': 'ghost' } });
    expect(refused.statusCode).toBe(404);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(seen).toEqual(['TENANTRY_TENANT_NOT_FOUND']);
    expect(handled).toBe(0);
    const served = await app.inject({ method: 'GET', url: '/who', headers: { 'x-tenant-id': 'acme' } });
    expect(served.json()).toEqual({ tenant: 'acme' });
    await app.close();
  });
});
