import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, MigrationLockTimeoutError, type MigrationProgress, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const IDS = ['t1', 't2', 't3', 't4', 't5', 't6'];

/** Tenants at `001_items`, then `002_sku` (an ALTER TABLE, which needs the table's ACCESS EXCLUSIVE lock) added. */
async function setup(): Promise<{ tenancy: Tenancy; schemaOf: (id: string) => string }> {
  const folder = await migrationFolder({ '001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);' });
  const names = uniqueNames('lock');
  const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
  await tenancy.migrate.shared();
  for (const id of IDS) await tenancy.registry.create({ id });
  await folder.write('002_sku.sql', 'ALTER TABLE items ADD COLUMN sku text;');
  return { tenancy, schemaOf: (id) => `${names.schemaPrefix}${id}` };
}

/** Another connection with an open transaction that read `schema.items`: it holds ACCESS SHARE until it ends. */
async function holdTableLock(schema: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`SELECT count(*) FROM "${schema}".items`);
  return client;
}

describe('migrate.tenants: lock_timeout and retries', () => {
  it('rolls back a tenant blocked by a long transaction, retries it after the others, then reports it as a lock timeout', async () => {
    const { tenancy, schemaOf } = await setup();
    const blocker = await holdTableLock(schemaOf('t2'));
    try {
      const progress: MigrationProgress[] = [];
      const started = performance.now();
      const report = await tenancy.migrate.tenants({ concurrency: 2, lockTimeout: 200, lockRetries: 2, onProgress: (p) => progress.push(p) });
      const elapsed = performance.now() - started;

      expect(report.migrated.map((result) => result.tenantId).sort()).toEqual(['t1', 't3', 't4', 't5', 't6']);
      expect(report.failed).toHaveLength(1);
      const failure = report.failed[0]!;
      expect(failure).toBeInstanceOf(MigrationLockTimeoutError);
      expect(failure).toMatchObject({ code: 'TENANTRY_MIGRATION_LOCK_TIMEOUT', tenantId: 't2', migration: '002_sku', attempts: 3, lockTimeoutMs: 200 });
      expect(failure.message).toContain('lock_timeout (200 ms)');
      expect(report.retried).toEqual(['t2']);

      // t2 waited three times, each after the tenants queued before it; the others did not wait for it.
      const t2 = progress.filter((p) => p.tenantId === 't2');
      expect(t2.map((p) => [p.outcome, p.attempt])).toEqual([['retrying', 1], ['retrying', 2], ['failed', 3]]);
      expect(progress.filter((p) => p.outcome === 'migrated')).toHaveLength(5);
      expect(progress.at(-1)).toMatchObject({ tenantId: 't2', outcome: 'failed', done: 6, total: 6, failed: 1, waiting: 0 });
      expect(progress.filter((p) => p.outcome !== 'retrying').every((p) => typeof p.etaMs === 'number')).toBe(true);
      expect(elapsed).toBeLessThan(5_000);

      // Rolled back whole: t2 is untouched and still stale; the others are done.
      expect((await tracked(db.pool, schemaOf('t2'))).map((row) => row.name)).toEqual(['001_items']);
      expect((await tracked(db.pool, schemaOf('t5'))).map((row) => row.name)).toEqual(['001_items', '002_sku']);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    // A re-run once the lock is gone migrates t2 alone.
    const rerun = await tenancy.migrate.tenants({ lockTimeout: 200 });
    expect(rerun).toMatchObject({ total: 1, migrated: [{ tenantId: 't2', applied: ['002_sku'] }], failed: [], retried: [] });
  });

  it('succeeds on a retry when the long transaction ends during the run', async () => {
    const { tenancy, schemaOf } = await setup();
    const blocker = await holdTableLock(schemaOf('t1'));
    let released: Promise<unknown> | undefined;
    try {
      const report = await tenancy.migrate.tenants({
        concurrency: 2,
        lockTimeout: 200,
        lockRetries: 3,
        onProgress: (p) => {
          // The first lock wait ends the blocking transaction; t1's next attempt goes through.
          if (p.outcome === 'retrying' && released === undefined) released = blocker.query('COMMIT');
        },
      });
      expect(report.failed).toEqual([]);
      expect(report.retried).toEqual(['t1']);
      expect(report.migrated.map((result) => result.tenantId).sort()).toEqual(IDS);
      expect((await tracked(db.pool, schemaOf('t1'))).map((row) => row.name)).toEqual(['001_items', '002_sku']);
    } finally {
      await released;
      await blocker.end();
    }
  });

  it('with lockRetries 0 reports the lock wait at once; bad values are refused', async () => {
    const { tenancy, schemaOf } = await setup();
    const blocker = await holdTableLock(schemaOf('t6'));
    try {
      const report = await tenancy.migrate.tenants({ lockTimeout: 100, lockRetries: 0, only: ['t5', 't6'] });
      expect(report.migrated.map((result) => result.tenantId)).toEqual(['t5']);
      expect(report.failed[0]).toMatchObject({ code: 'TENANTRY_MIGRATION_LOCK_TIMEOUT', tenantId: 't6', attempts: 1 });
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await expect(tenancy.migrate.tenants({ lockTimeout: -1 })).rejects.toThrow(InvalidConfigError);
    await expect(tenancy.migrate.tenants({ lockRetries: 1.5 })).rejects.toThrow(InvalidConfigError);
  });

  it('stops starting tenants once the signal aborts, and lists the rest as not started', async () => {
    const { tenancy } = await setup();
    const controller = new AbortController();
    const report = await tenancy.migrate.tenants({
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 2) controller.abort();
      },
    });
    expect(report.migrated.map((result) => result.tenantId)).toEqual(['t1', 't2']);
    expect(report).toMatchObject({ total: 6, interrupted: true, notStarted: ['t3', 't4', 't5', 't6'] });
  });
});
