/**
 * tenancy.forEachTenant: every active tenant once, in its own scope, at most `concurrency` at a
 * time, over the registry page by page; failures reported, not fatal; an abort stops it.
 */
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, NoTenantError, type Tenancy, TenantsFailedError } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const TENANTS = 500;

describe('forEachTenant over a registry of 500 tenants', () => {
  let tenancy: Tenancy;

  beforeAll(async () => {
    tenancy = createTenancy();
    for (let i = 0; i < TENANTS; i += 1) await tenancy.registry.create({ id: `t${String(i).padStart(3, '0')}` });
    await tenancy.registry.create({ id: 'paused' });
    await tenancy.registry.suspend('paused');
  });

  it('visits each active tenant once, in its scope, never more than `concurrency` at a time, a page at a time', async () => {
    const visits = new Map<string, number>();
    let running = 0;
    let mostAtOnce = 0;
    const pages: (string | undefined)[] = [];
    const list = tenancy.registry.list.bind(tenancy.registry);
    const registry = tenancy.registry as { list: typeof list };
    registry.list = (input) => {
      pages.push(input?.after);
      return list(input);
    };
    try {
      const report = await tenancy.forEachTenant(
        async (tenant) => {
          running += 1;
          mostAtOnce = Math.max(mostAtOnce, running);
          expect(tenancy.current()).toBe(tenant);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
          expect(tenancy.current()).toBe(tenant);
          visits.set(tenant.id, (visits.get(tenant.id) ?? 0) + 1);
          running -= 1;
          return tenant.id.toUpperCase();
        },
        { concurrency: 8, pageSize: 64 },
      );
      expect(report.failures).toEqual([]);
      expect(report.aborted).toBe(false);
      expect(report.results).toHaveLength(TENANTS);
      expect(report.results.every(({ tenant, value }) => value === tenant.id.toUpperCase())).toBe(true);
      expect(visits.size).toBe(TENANTS);
      expect([...visits.values()].every((count) => count === 1)).toBe(true);
      expect(visits.has('paused')).toBe(false);
      expect(mostAtOnce).toBe(8);
      expect(pages).toHaveLength(Math.ceil(TENANTS / 64));
      expect(() => report.throwIfFailed()).not.toThrow();
    } finally {
      registry.list = list;
    }
  });

  it('reports injected failures with their tenants and goes on with the others', async () => {
    const failing = new Set(['t007', 't250', 't499']);
    const progress: { done: number; failed: number }[] = [];
    const report = await tenancy.forEachTenant(
      (tenant) => {
        if (failing.has(tenant.id)) throw new Error(`boom in ${tenant.id}`);
        return 1;
      },
      { concurrency: 8, onProgress: ({ done, failed }) => progress.push({ done, failed }) },
    );
    expect(report.results).toHaveLength(TENANTS - failing.size);
    expect(report.failures.map(({ tenant }) => tenant.id).sort()).toEqual([...failing].sort());
    expect(report.failures.every(({ tenant, error }) => (error as Error).message === `boom in ${tenant.id}`)).toBe(true);
    expect(progress).toHaveLength(TENANTS);
    expect(progress.at(-1)).toEqual({ done: TENANTS, failed: failing.size });
    let thrown: unknown;
    try {
      report.throwIfFailed();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TenantsFailedError);
    expect(thrown).toMatchObject({ code: 'TENANTRY_TENANTS_FAILED', errors: report.failures.map(({ error }) => error) });
    expect((thrown as Error).message).toMatch(/^3 tenants failed: t\d{3} \(boom in t\d{3}\), /);
  });

  it('stops starting tenants once the signal aborts; those running finish', async () => {
    const controller = new AbortController();
    let started = 0;
    let finished = 0;
    const report = await tenancy.forEachTenant(
      async (_tenant, { signal }) => {
        started += 1;
        if (started === 20) controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(signal).toBe(controller.signal);
        finished += 1;
      },
      { concurrency: 4, signal: controller.signal },
    );
    expect(report.aborted).toBe(true);
    expect(started).toBeLessThan(20 + 4);
    expect(finished).toBe(started);
    expect(report.results).toHaveLength(started);
  });

  it('skips what the filter rejects, and refuses bad options with a typed error', async () => {
    const report = await tenancy.forEachTenant((tenant) => tenant.id, { filter: (tenant) => tenant.id.endsWith('9') });
    expect(report.results).toHaveLength(50);
    for (const concurrency of [0, -1, 1.5, 1000, Number.NaN]) {
      await expect(tenancy.forEachTenant(() => 1, { concurrency })).rejects.toBeInstanceOf(InvalidConfigError);
    }
    await expect(tenancy.forEachTenant(() => 1, { pageSize: 0 })).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(tenancy.forEachTenant('nope' as never)).rejects.toBeInstanceOf(InvalidConfigError);
  });
});

describe('tenancy.key', () => {
  it("starts with the active tenant's id, and refuses without a tenant", async () => {
    const tenancy = createTenancy();
    await tenancy.registry.create({ id: 'acme' });
    expect(await tenancy.run('acme', () => tenancy.key('products', 42))).toBe('acme:products:42');
    expect(await tenancy.run('acme', () => tenancy.key())).toBe('acme');
    expect(() => tenancy.key('products')).toThrow(NoTenantError);
    expect(() => tenancy.runShared(() => tenancy.key('products'))).toThrow(NoTenantError);
  });
});

describe('forEachTenant on PostgreSQL', () => {
  const db = useTestDatabase();

  it("runs each tenant's queries through tenantPool on that tenant's rows, concurrently", async () => {
    const { tenancy, ids } = await tenantsWithMarkers(db.pool, 12);
    const raw = new pg.Pool({ connectionString: db.url, max: 3 });
    const scoped = tenantPool(tenancy, raw);
    try {
      const report = await tenancy.forEachTenant(
        async (tenant) => {
          const { rows } = await scoped.query<{ owner: string }>('select owner from items');
          await scoped.query('insert into items (owner) values ($1)', [tenant.id]);
          return rows.map((row) => row.owner);
        },
        { concurrency: 6, pageSize: 5 },
      );
      report.throwIfFailed();
      const byId = (a: [string, unknown], b: [string, unknown]) => a[0].localeCompare(b[0]);
      expect(report.results.map(({ tenant, value }): [string, unknown] => [tenant.id, value]).sort(byId)).toEqual(ids.map((id): [string, unknown] => [id, [id]]).sort(byId));
      const counts = await tenancy.forEachTenant(async () => (await scoped.query<{ n: number }>('select count(*)::int as n from items')).rows[0]!.n);
      expect(counts.results.map(({ value }) => value)).toEqual(ids.map(() => 2));
    } finally {
      await raw.end();
    }
  });
});
