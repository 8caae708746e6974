import diagnostics from 'node:diagnostics_channel';
import { setImmediate as nextTurn } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channels, InvalidConfigError, type PoolDecisionEvent, type Tenancy } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { tenantsWithMarkers } from './fixtures.js';

const db = useTestDatabase();

interface Served {
  readonly owner: string;
  readonly pid: number;
}

/** Runs one lookup for `id` through `scoped`, checking it reads `id`'s row, and returns the backend it ran on. */
async function lookup(tenancy: Tenancy, scoped: ReturnType<typeof tenantPool>, id: string): Promise<Served> {
  const result = await tenancy.run(id, () => scoped.query<Served>('SELECT owner, pg_backend_pid() AS pid FROM items'));
  expect(result.rows.map((row) => row.owner)).toEqual([id]);
  return result.rows[0]!;
}

/** Which backends served each tenant, and which tenants each backend served. */
function tally(served: readonly Served[]): { pidsOf: Map<string, Set<number>>; tenantsOf: Map<number, Set<string>> } {
  const pidsOf = new Map<string, Set<number>>();
  const tenantsOf = new Map<number, Set<string>>();
  for (const { owner, pid } of served) {
    pidsOf.set(owner, (pidsOf.get(owner) ?? new Set()).add(pid));
    tenantsOf.set(pid, (tenantsOf.get(pid) ?? new Set()).add(owner));
  }
  return { pidsOf, tenantsOf };
}

/** The share of lookups each tenant got on the backend that served it most, over all tenants. */
function shareOnFavouriteBackend(served: readonly Served[]): number {
  const counts = new Map<string, Map<number, number>>();
  for (const { owner, pid } of served) {
    const byPid = counts.get(owner) ?? new Map<number, number>();
    byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    counts.set(owner, byPid);
  }
  let favourite = 0;
  for (const byPid of counts.values()) favourite += Math.max(...byPid.values());
  return favourite / served.length;
}

/** `count` lookups by `workers` concurrent loops, each for a random tenant of `ids`. */
async function randomLookups(tenancy: Tenancy, scoped: ReturnType<typeof tenantPool>, ids: readonly string[], count: number, workers: number): Promise<Served[]> {
  const random = seededRandom(42);
  const served: Served[] = [];
  let left = count;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (left-- > 0) served.push(await lookup(tenancy, scoped, ids[Math.floor(random() * ids.length)]!));
    }),
  );
  return served;
}

/** Opens `count` connections at once, so the pool has them all before the measured part. */
async function openConnections(pool: pg.Pool, count: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  for (const client of clients) client.release();
}

describe('tenant-affine connections', () => {
  let tenancy: Tenancy;
  let ids: string[];

  beforeAll(async () => {
    ({ tenancy, ids } = await tenantsWithMarkers(db.pool, 40));
  });

  it('serves each tenant on its home connection while the home is idle, so each backend sees its share of the tenants', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    try {
      await openConnections(pool, 4);
      const scoped = tenantPool(tenancy, pool);
      const served: Served[] = [];
      const random = seededRandom(7);
      for (let index = 0; index < 400; index++) {
        served.push(await lookup(tenancy, scoped, ids[Math.floor(random() * ids.length)]!));
        await nextTurn(); // past request affinity, which keeps a run's connection until the next turn
      }
      const { pidsOf, tenantsOf } = tally(served);
      for (const [owner, pids] of pidsOf) expect(pids.size, owner).toBe(1);
      expect(tenantsOf.size).toBe(4);
      for (const tenants of tenantsOf.values()) expect(tenants.size).toBeLessThan(25);
      expect(scoped.affinity).toMatchObject({ enabled: true, borrowedCheckouts: 0, retiredConnections: 0 });
      expect(scoped.affinity.homeCheckouts).toBe(400);
    } finally {
      await pool.end();
    }
  });

  it('keeps most checkouts at home when every connection is busy, without a wrong row, where pg-pool order spreads each tenant over every backend', async () => {
    const run = async (affinity: boolean) => {
      const pool = new pg.Pool({ connectionString: db.url, max: 4 });
      try {
        await openConnections(pool, 4);
        const scoped = tenantPool(tenancy, pool, { affinity });
        const served = await randomLookups(tenancy, scoped, ids, 2000, 24);
        return { statistics: scoped.affinity, atFavourite: shareOnFavouriteBackend(served) };
      } finally {
        await pool.end();
      }
    };
    const steered = await run(true);
    const plain = await run(false);
    const { homeCheckouts, borrowedCheckouts } = steered.statistics;
    expect(homeCheckouts + borrowedCheckouts).toBeGreaterThan(0);
    expect(homeCheckouts / (homeCheckouts + borrowedCheckouts)).toBeGreaterThan(0.6);
    expect(plain.statistics.enabled).toBe(false);
    expect(steered.atFavourite).toBeGreaterThan(0.6);
    expect(plain.atFavourite).toBeLessThan(0.5);
  });

  it('retires a connection once it has served maxTenantsPerConnection distinct tenants, with no query failing', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    const removed: number[] = [];
    pool.on('remove', (client) => removed.push((client as unknown as { processID: number }).processID));
    const decisions: PoolDecisionEvent[] = [];
    const listen = (event: unknown) => decisions.push(event as PoolDecisionEvent);
    diagnostics.subscribe(channels.poolDecision, listen);
    try {
      const scoped = tenantPool(tenancy, pool, { affinity: { maxTenantsPerConnection: 5 } });
      const served = await randomLookups(tenancy, scoped, ids, 600, 6);
      const { tenantsOf } = tally(served);
      for (const [pid, tenants] of tenantsOf) expect(tenants.size, `backend ${pid}`).toBeLessThanOrEqual(5);
      expect(scoped.affinity.retiredConnections).toBeGreaterThan(3);
      // pg.Pool emits 'remove' only once a retired client's end() has completed: wait for it.
      await vi.waitFor(() => expect(removed.length).toBeGreaterThanOrEqual(scoped.affinity.retiredConnections - pool.totalCount), { timeout: 10_000, interval: 20 });
      const retired = decisions.filter((event) => event.decision === 'retired');
      expect(retired.length).toBe(scoped.affinity.retiredConnections);
      expect(retired.every((event) => event.tenantsServed === 5 && event.tenantId === null)).toBe(true);
      const checkouts = decisions.filter((event) => event.decision !== 'retired');
      expect(checkouts.length).toBe(scoped.affinity.homeCheckouts + scoped.affinity.borrowedCheckouts);
      expect(checkouts.every((event) => ids.includes(event.tenantId!) && typeof event.processID === 'number')).toBe(true);
    } finally {
      diagnostics.unsubscribe(channels.poolDecision, listen);
      await pool.end();
    }
  });

  it('still serves waiters that want no tenant (the registry on the same pool) while tenants wait for their homes', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const scoped = tenantPool(tenancy, pool);
      const plain = Array.from({ length: 50 }, (_, index) => pool.query('SELECT $1::int AS n', [index]));
      const tenants = randomLookups(tenancy, scoped, ids, 400, 12);
      expect((await Promise.all(plain)).map((result) => result.rows[0].n)).toEqual(Array.from({ length: 50 }, (_, index) => index));
      expect((await tenants).length).toBe(400);
    } finally {
      await pool.end();
    }
  });

  it('is off in transaction mode and refuses a bad option', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      expect(tenantPool(tenancy, pool, { mode: 'transaction' }).affinity.enabled).toBe(false);
      expect(() => tenantPool(tenancy, pool, { affinity: { maxTenantsPerConnection: 0 } })).toThrow(InvalidConfigError);
      expect(() => tenantPool(tenancy, pool, { affinity: 'yes' as never })).toThrow(InvalidConfigError);
    } finally {
      await pool.end();
    }
  });
});
