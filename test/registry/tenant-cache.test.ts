import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
    // A TTL no pause of a loaded machine between two lookups reaches (30 ms did; the misses'
    // LRU keeps its own clock, so faking performance.now does not move it).
    const cache = new TenantCache({ negativeTtl: 1_000 });
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
    await new Promise((resolve) => setTimeout(resolve, 1_100));
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

  describe('on a clock the test moves (performance.now faked)', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['performance'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });
    /** Lets settled loads run their callbacks (timers are real: only the clock is fake). */
    const settle = () => sleep(0);

    it('reloads a tenant in use in the background before it expires, so no lookup waits for the registry', async () => {
      const cache = new TenantCache({ ttl: 1000 });
      let version = 0;
      let release: (() => void) | undefined;
      const loadById = (id: string): Promise<Tenant | undefined> => {
        version += 1;
        const loaded = { ...tenant(id), name: `v${version}` };
        return new Promise((resolve) => {
          release = () => resolve(loaded);
        });
      };
      const first = cache.byId('acme', () => loadById('acme'));
      release!();
      expect((await first)?.name).toBe('v1');
      vi.advanceTimersByTime(700);
      expect(cache.peekId('acme', loadById)?.name).toBe('v1');
      expect(version).toBe(1); // before three quarters of the TTL: no reload

      vi.advanceTimersByTime(100);
      // Answered at once from the cache while the registry is asked again (the loader has not answered yet).
      expect(cache.peekId('acme', loadById)?.name).toBe('v1');
      expect(cache.peekId('acme', loadById)?.name).toBe('v1');
      expect((await cache.byId('acme', () => loadById('acme')))?.name).toBe('v1');
      expect(version).toBe(2); // one reload, shared
      release!();
      await settle();
      expect(cache.peekId('acme', loadById)?.name).toBe('v2');

      vi.advanceTimersByTime(300); // past the first load's TTL: the reloaded entry is still there
      expect(cache.peekId('acme', loadById)?.name).toBe('v2');
      expect(version).toBe(2);
    });

    it('drops a tenant the reload no longer finds; keeps one whose reload failed until its TTL, retrying now and then', async () => {
      const cache = new TenantCache({ ttl: 1000 });
      await cache.byId('gone', async () => tenant('gone'));
      await cache.byId('flaky', async () => tenant('flaky'));
      let attempts = 0;
      const down = () => {
        attempts += 1;
        return Promise.reject(new Error('registry down'));
      };
      vi.advanceTimersByTime(800);
      expect(cache.peekId('gone', async () => undefined)?.id).toBe('gone');
      expect(cache.peekId('flaky', down)?.id).toBe('flaky');
      await settle();
      expect(cache.peekId('gone', async () => undefined)).toBeNull();
      for (let i = 0; i < 5; i += 1) expect(cache.peekId('flaky', down)?.id).toBe('flaky');
      expect(attempts).toBe(1); // not one registry query per lookup while it is down
      vi.advanceTimersByTime(125); // the retry interval: an eighth of the TTL, at most 1 s
      expect(cache.peekId('flaky', down)?.id).toBe('flaky');
      await settle();
      expect(attempts).toBe(2);
      vi.advanceTimersByTime(100); // past the TTL
      expect(cache.peekId('flaky', down)).toBeUndefined();
    });

    it('keeps a tenant in use when the cache is full: its reloads make it recent, so an unused one goes first', async () => {
      const cache = new TenantCache({ ttl: 1000, max: 2 });
      const load = (id: string) => async () => tenant(id);
      const loadById = async (id: string) => tenant(id);
      await cache.byId('busy', load('busy'));
      await cache.byId('idle', load('idle'));
      vi.advanceTimersByTime(800);
      expect(cache.peekId('busy', loadById)?.id).toBe('busy'); // due: reloaded in the background
      await settle();
      await cache.byId('new', load('new'));
      expect(cache.peekId('busy', loadById)?.id).toBe('busy');
      expect(cache.peekId('idle', loadById)).toBeUndefined();
    });
  });
});
