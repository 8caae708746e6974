import { describe, expect, it } from 'vitest';
import { createTenancy, type Migration, type PoolLike } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tableExists, toleratePoolTeardown, tracked } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const TENANTS = 1000;
const NAMES = { sharedSchema: 'pending_registry', schemaPrefix: 'p_' } as const;
const items: Migration = {
  name: '001_items',
  checksum: 'items-v1',
  up: (client) => client.query('CREATE TABLE items (id int PRIMARY KEY)'),
};
const notes: Migration = {
  name: '002_notes',
  checksum: 'notes-v1',
  up: (client) => client.query('CREATE TABLE notes (id int)'),
};

/** A pool that counts what goes through it, to prove how many round trips a run made. */
function countingPool(pool: PoolLike): PoolLike & { queries: string[]; connects: number } {
  const counting = {
    queries: [] as string[],
    connects: 0,
    query: ((text: string, values?: unknown[]) => {
      counting.queries.push(text);
      return pool.query(text, values);
    }) as PoolLike['query'],
    connect: () => {
      counting.connects += 1;
      return pool.connect();
    },
  };
  return counting;
}

describe('pending detection', () => {
  it(`finds nothing to do over ${TENANTS} up-to-date tenants with one registry query, in under a second`, { timeout: 120_000 }, async () => {
    const setup = createTenancy({ pool: db.pool, ...NAMES, migrations: { tenant: [items] } });
    await setup.migrate.shared();

    // Real tenants: each registry.create makes the schema, runs 001_items and records it (one
    // transaction each), four at a time: 5 to 10 s for 1,000 on 2 cores with fsync on (an empty
    // set takes about 3.5 s, but then "up to date" would mean little).
    const started = performance.now();
    const ids = Array.from({ length: TENANTS }, (_, i) => `t${String(i).padStart(4, '0')}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < ids.length) await setup.registry.create({ id: ids[next++]! });
      }),
    );
    const createMs = performance.now() - started;
    console.info(`pending-detection: created ${TENANTS} tenant schemas in ${Math.round(createMs)} ms`);
    const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'p\\_%'`);
    expect(rows[0]!.n).toBe(TENANTS);
    expect(await tableExists(db.pool, 'p_t0999', 'items')).toBe(true);

    // Another "process" with the same migration set: nothing is pending.
    const pool = countingPool(db.pool);
    const tenancy = createTenancy({ pool, ...NAMES, migrations: { tenant: [items] } });
    const progress: unknown[] = [];
    const report = await tenancy.migrate.tenants({ onProgress: (p) => progress.push(p) });
    expect(report).toEqual({ total: 0, migrated: [], failed: [], retried: [], notStarted: [], interrupted: false });
    expect(progress).toEqual([]);
    expect(pool.queries).toHaveLength(1);
    expect(pool.queries[0]).toMatch(/FROM "pending_registry"\.tenantry_tenants/);
    expect(pool.connects).toBe(0);

    // With one more migration every tenant is pending; `only` narrows it, still found with one query.
    const newer = countingPool(db.pool);
    const upgraded = createTenancy({ pool: newer, ...NAMES, migrations: { tenant: [items, notes] } });
    const partial = await upgraded.migrate.tenants({ only: ['t0000', 't0500', 't0999'] });
    expect(partial.total).toBe(3);
    expect(partial.migrated.map((r) => r.tenantId).sort()).toEqual(['t0000', 't0500', 't0999']);
    expect(newer.queries.filter((text) => /tenantry_tenants/.test(text) && /^\s*SELECT/i.test(text))).toHaveLength(1);
    expect((await tracked(db.pool, 'p_t0500')).map((row) => row.name)).toEqual(['001_items', '002_notes']);
    expect(await tableExists(db.pool, 'p_t0001', 'notes')).toBe(false);
    expect((await upgraded.registry.list({ limit: 1000 })).tenants.filter((t) => t.migrationVersion === '002_notes')).toHaveLength(3);
  });
});
