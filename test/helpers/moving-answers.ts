import type { AddressInfo } from 'node:net';
import express from 'express';
import { expect } from 'vitest';
import { tenancyMiddleware } from '../../src/adapters/express.js';
import type { Tenancy } from '../../src/index.js';

/**
 * Asserts what the Express adapter answers a moving tenant (named by the `x-tenant-id` header):
 * 503 with `Retry-After: 5` and the error's JSON to a write, 200 to a read.
 */
export async function expectMovingAnswers(tenancy: Tenancy, tenantId: string): Promise<void> {
  const app = express();
  app.use(tenancyMiddleware(tenancy));
  app.all('/things', (_req, res) => void res.json({ ok: true }));
  const server = app.listen(0);
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/things`;
    const write = await fetch(url, { method: 'POST', headers: { 'x-tenant-id': tenantId } });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('5');
    expect(await write.json()).toMatchObject({ code: 'TENANTRY_TENANT_MOVING', status: 503 });
    expect((await fetch(url, { headers: { 'x-tenant-id': tenantId } })).status).toBe(200);
  } finally {
    server.close();
  }
}
