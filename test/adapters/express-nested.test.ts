import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { tenancyMiddleware } from '../../src/adapters/express.js';
import { createTenancy, headerResolver } from '../../src/index.js';

describe('tenancyMiddleware mounted twice (an app and a nested router)', () => {
  it('parses a JSON body after both and the handler sees the tenant', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }, { id: 'globex' }], resolver: headerResolver() });
    const app = express();
    const router = express.Router();
    app.use(tenancyMiddleware(tenancy));
    router.use(tenancyMiddleware(tenancy));
    router.use(express.json());
    router.post('/who', (req, res) => {
      res.json({ tenant: tenancy.current()?.id ?? null, body: req.body as unknown });
    });
    app.use('/api', router);
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const answers = await Promise.all(
        ['acme', 'globex'].map(async (id) => {
          const response = await fetch(`http://127.0.0.1:${port}/api/who`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-tenant-id': id },
            body: JSON.stringify({ id }),
          });
          return { status: response.status, body: (await response.json()) as unknown };
        }),
      );
      expect(answers).toEqual([
        { status: 200, body: { tenant: 'acme', body: { id: 'acme' } } },
        { status: 200, body: { tenant: 'globex', body: { id: 'globex' } } },
      ]);
    } finally {
      server.close();
    }
  });
});
