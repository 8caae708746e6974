/**
 * The inventory's daily low-stock digest on a real pg-boss queue in the test database: the daily
 * job fans out one job per business, each runs in its own business's scope (Acme and Globex have
 * different low stock), the dashboard shows the last digest, and owners (not staff) send one now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastLowStockDigest, type LowStockDigest } from '../../examples/inventory/domain/low-stock-digests.js';
import { startExpress } from '../../examples/inventory/http/express.js';
import type { RunningServer } from '../../examples/inventory/http/server.js';
import { DAILY_DIGEST_QUEUE, DIGEST_QUEUE } from '../../examples/inventory/jobs/low-stock-digest-jobs.js';
import { type Reply, type Send, send, sessionCookieOf } from './http.js';
import { ACME, GLOBEX, useInventory } from './inventory-fixture.js';

describe('inventory low-stock digest (pg-boss)', () => {
  const fixture = useInventory({ jobs: true });
  let server: RunningServer;
  const cookies = new Map<string, string>();

  const page = (id: string, path: string, extra: Omit<Send, 'path'> & { cookie?: string } = {}): Promise<Reply> =>
    send(server.port, { host: `${id}.localhost:${server.port}`, ...extra, path, headers: { cookie: extra.cookie ?? cookies.get(id)!, ...extra.headers } });
  const form = (fields: Record<string, string>): Pick<Send, 'raw' | 'method' | 'headers'> => ({
    method: 'POST',
    raw: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const csrfOf = (reply: Reply): string => /name="_csrf" value="([^"]+)"/.exec(reply.text)?.[1] ?? '';
  /** The business's newest digest once it is newer than `after` (the worker polls twice a second). */
  const nextDigest = async (id: string, after: number | undefined): Promise<LowStockDigest> => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const digest = await fixture.inventory.tenancy.run(id, () => lastLowStockDigest(fixture.inventory));
      if (digest !== undefined && digest.id !== after) return digest;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no new digest for ${id}`);
  };
  const digestId = async (id: string): Promise<number | undefined> => (await fixture.inventory.tenancy.run(id, () => lastLowStockDigest(fixture.inventory)))?.id;

  beforeAll(async () => {
    server = await startExpress(fixture.inventory, { port: 0, host: '127.0.0.1' });
    for (const business of [ACME, GLOBEX]) {
      const login = await send(server.port, { host: `${business.id}.localhost:${server.port}`, path: '/login', ...form({ email: business.owner.email, password: business.owner.password }) });
      cookies.set(business.id, sessionCookieOf(login));
    }
  });

  afterAll(async () => {
    await server?.close();
    expect(fixture.unexpected).toEqual([]);
  });

  it('shows no digest before the first run', async () => {
    const dashboard = await page('acme', '/');
    expect(dashboard.text).toContain('No digest yet: one is made every day at 07:00 UTC.');
    expect(dashboard.text).toContain('Send digest now');
  });

  it('runs the daily job: one digest per business, each in its own business (different low stock)', async () => {
    const jobId = await fixture.inventory.jobs.requestDailyRun();
    const [acme, globex] = await Promise.all([nextDigest('acme', undefined), nextDigest('globex', undefined)]);
    // Acme: bird seed 0 (alert at 10), skates 2 (2), magnet 4 (5); Globex: gadget 7 (10).
    expect(acme.items.map((item) => [item.sku, item.stock])).toEqual([
      ['ACME-SEED', 0],
      ['ACME-SKATES', 2],
      ['ACME-MAGNET', 4],
    ]);
    expect(acme.itemCount).toBe(3);
    expect(globex.items).toEqual([{ sku: 'GLX-GADGET', name: 'Gadget', stock: 7, lowStockThreshold: 10 }]);
    expect(await fixture.inventory.jobs.jobState(DAILY_DIGEST_QUEUE, jobId)).toMatchObject({ state: 'completed', output: { enqueued: 2 } });

    const acmePage = await page('acme', '/');
    const card = /<section class="card" id="digest">([\s\S]*?)<\/section>/.exec(acmePage.text)?.[1] ?? '';
    expect(card).toContain('<strong id="digest-count">3</strong> products were running low');
    expect(card).toContain('<code>ACME-SEED</code> Bird seed, 10 kg: 0 left (alert at 10)');
    expect(card).not.toContain('GLX-');
    const globexCard = /<section class="card" id="digest">([\s\S]*?)<\/section>/.exec((await page('globex', '/')).text)?.[1] ?? '';
    expect(globexCard).toContain('<strong id="digest-count">1</strong> product was running low');
    expect(globexCard).toContain('GLX-GADGET');
    expect(globexCard).not.toContain('ACME-');
  });

  it('sends a digest now from the dashboard (owners), for that business only', async () => {
    const [acmeBefore, globexBefore] = [await digestId('acme'), await digestId('globex')];
    const token = csrfOf(await page('acme', '/'));
    // The anvil runs low too: 12 out of stock, 8 out → 4, alert at 5.
    const anvil = /<a href="\/products\/(\d+)">ACME-ANVIL<\/a>/.exec((await page('acme', '/products?q=ACME-ANVIL')).text)![1];
    expect((await page('acme', `/products/${anvil}/movements`, form({ _csrf: token, kind: 'out', quantity: '8', note: 'big order' }))).status).toBe(303);

    const requested = await page('acme', '/digests', form({ _csrf: token }));
    expect([requested.status, requested.headers.location]).toEqual([303, '/?notice=digest-requested']);
    const digest = await nextDigest('acme', acmeBefore);
    expect(digest.items.map((item) => item.sku)).toEqual(['ACME-SEED', 'ACME-SKATES', 'ACME-ANVIL', 'ACME-MAGNET']);
    const dashboard = await page('acme', '/?notice=digest-requested');
    expect(dashboard.text).toContain('The low-stock digest is on its way');
    expect(dashboard.text).toContain('<strong id="digest-count">4</strong>');
    expect(await digestId('globex')).toBe(globexBefore);

    // The JSON API: 202 and the job's id; the job completes in Acme's scope.
    const api = await send(server.port, { path: '/api/digests', method: 'POST', json: {}, headers: { 'x-tenant-id': 'globex', cookie: cookies.get('globex')! } });
    expect(api.status, api.text).toBe(202);
    const globexDigest = await nextDigest('globex', globexBefore);
    expect(globexDigest.itemCount).toBe(1);
    for (let attempt = 0; attempt < 50 && (await fixture.inventory.jobs.jobState(DIGEST_QUEUE, api.json.jobId))?.state !== 'completed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await fixture.inventory.jobs.jobState(DIGEST_QUEUE, api.json.jobId)).toMatchObject({
      state: 'completed',
      output: { value: [{ digestId: globexDigest.id, itemCount: 1 }] }, // pg-boss keeps a batch handler's array as `value`
    });
  });

  it('keeps the button and the route from staff (403)', async () => {
    const staff = { name: 'Digest Staff', email: 'digest-staff@acme.test', password: 'digest-staff-1' };
    const joined = await page('acme', '/signup', { ...form({ ...staff, inviteCode: fixture.inviteCodes.get('acme')! }), cookie: '' });
    const cookie = sessionCookieOf(joined);
    const dashboard = await page('acme', '/', { cookie });
    expect(dashboard.text).toContain('id="digest"');
    expect(dashboard.text).not.toContain('Send digest now');
    const before = await digestId('acme');
    const refused = await page('acme', '/digests', { ...form({ _csrf: csrfOf(dashboard) }), cookie });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('Only an owner of this business may send the low-stock digest');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await digestId('acme')).toBe(before);
  });

  it('fails a job of a suspended business instead of running it elsewhere', async () => {
    const { tenancy } = fixture.inventory;
    const before = await digestId('globex');
    const jobId = await tenancy.run('globex', () => fixture.inventory.jobs.requestDigest());
    await tenancy.registry.suspend('globex');
    try {
      let state: string | undefined;
      for (let attempt = 0; attempt < 100 && state !== 'failed' && state !== 'retry'; attempt += 1) {
        state = (await fixture.inventory.jobs.jobState(DIGEST_QUEUE, jobId))?.state;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(['failed', 'retry']).toContain(state);
      expect(await fixture.inventory.jobs.jobState(DIGEST_QUEUE, jobId)).toMatchObject({ output: { code: 'TENANTRY_TENANT_SUSPENDED' } });
    } finally {
      await tenancy.registry.resume('globex');
    }
    expect(await digestId('globex')).toBe(before);
    expect(await digestId('acme')).toBeDefined();
  });
});
