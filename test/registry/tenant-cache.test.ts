import { describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/index.js';
import { TenantCache } from '../../src/registry/tenant-cache.js';

const tenant = (id: string): Tenant =>
  Object.freeze({ id, name: id, schema: `tenant_${id}`, status: 'active', placement: 'default', metadata: {}, migrationVersion: null, createdAt: new Date(), updatedAt: new Date() });

describe('TenantCache', () => {
  it('keeps real tenants through a flood of misses', async () => {
    const cache = new TenantCache({ max: 10 });
    let loads = 0;
    const load = (id: string) => async () => {
      loads += 1;
      return id === 'acme' ? tenant('acme') : undefined;
    };
    await cache.byId('acme', load('acme'));
    for (let i = 0; i < 100; i += 1) await cache.byDomain(`random-${i}.example.com`, load(`random-${i}`));
    const before = loads;
    expect((await cache.byId('acme', load('acme')))?.id).toBe('acme');
    expect(loads).toBe(before);
  });

  it('keeps misses for the negative TTL only, and shares a lookup in flight', async () => {
    const cache = new TenantCache({ negativeTtl: 30 });
    let loads = 0;
    const miss = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return undefined;
    };
    await Promise.all([cache.byId('ghost', miss), cache.byId('ghost', miss)]);
    expect(loads).toBe(1);
    await cache.byId('ghost', miss);
    expect(loads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await cache.byId('ghost', miss);
    expect(loads).toBe(2);
  });

  it('forgets a tenant by id and by domain, and every miss, on invalidate', async () => {
    const cache = new TenantCache();
    let version = 1;
    const load = async () => ({ ...tenant('acme'), name: `v${version}` });
    await cache.byId('acme', load);
    await cache.byDomain('shop.acme.com', load);
    await cache.byId('ghost', async () => undefined);
    version = 2;
    cache.invalidate('acme');
    expect((await cache.byId('acme', load))?.name).toBe('v2');
    expect((await cache.byDomain('shop.acme.com', load))?.name).toBe('v2');
    expect((await cache.byId('ghost', async () => tenant('ghost')))?.id).toBe('ghost');
  });
});
