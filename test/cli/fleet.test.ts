import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { cli, json, lines, names, workspace } from './cli-harness.js';

const db = useTestDatabase();

const ITEMS = { 'migrations/tenant/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);' };

async function project(label: string, ids: readonly string[]) {
  const cwd = await workspace(ITEMS);
  const schemas = names(label);
  const tenancy = createTenancy({ pool: db.pool, ...schemas, migrations: { tenant: join(cwd, 'migrations/tenant') } });
  await tenancy.migrate.shared();
  for (const id of ids) await tenancy.registry.create({ id });
  const run = (...args: string[]) => cli([...args, '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url });
  return { cwd, run, tenancy, schemaOf: (id: string) => `${schemas.schemaPrefix}${id}` };
}

interface StatusReport {
  tenants: { tenantId: string; status: string; pending: string[]; applied: string[] }[];
  next?: string;
  drift?: { drifted: { tenantId: string; differences: { kind: string; name: string; change: string }[] }[] };
}

describe('tenantry status and tenants list at scale', () => {
  it('pages and filters status (--limit/--after, --status, --behind), reading pending migrations for tenants behind only', async () => {
    const p = await project('page', ['a1', 'a2', 'a3', 'b1', 'b2']);
    await p.tenancy.registry.suspend('b1');
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    expect((await p.run('migrate', '--tenant', 'a1', '--tenant', 'a2')).code).toBe(0);

    const first = json<StatusReport>(await p.run('status', '--json', '--limit', '2'));
    expect(first.tenants.map((t) => t.tenantId)).toEqual(['a1', 'a2']);
    expect(first.tenants[0]).toMatchObject({ applied: ['001_items', '002_sku'], pending: [] });
    expect(first.next).toBe('a2');
    const second = json<StatusReport>(await p.run('status', '--json', '--limit', '2', '--after', 'a2'));
    expect(second.tenants.map((t) => [t.tenantId, t.pending])).toEqual([['a3', ['002_sku']], ['b1', ['002_sku']]]);

    const behind = json<StatusReport>(await p.run('status', '--json', '--behind', '--status', 'active'));
    expect(behind.tenants.map((t) => t.tenantId)).toEqual(['a3', 'b2']);
    expect(behind.next).toBeUndefined();

    const human = await p.run('status', '--limit', '1');
    expect(lines(human.stdout).at(-1)).toBe('More tenants: tenantry status --after a1 --limit 1');

    const listed = await p.run('tenants', 'list', '--json', '--limit', '3', '--after', 'a1');
    expect(json<{ id: string }[]>(listed).map((t) => t.id)).toEqual(['a2', 'a3', 'b1']);
    expect(listed.stderr).toBe('More tenants: tenantry tenants list --after b1 --limit 3\n');
  });

  it('status --drift lists what differs for each drifted tenant, and exits 1', async () => {
    const p = await project('sdrift', ['clean', 'hand']);
    const clean = await p.run('status', '--drift');
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toContain('Drift: none (2 tenant schemas match the migrations, at 001_items)');

    await db.pool.query(`ALTER TABLE "${p.schemaOf('hand')}".items ADD COLUMN notes text, ALTER COLUMN name DROP NOT NULL`);
    const drifted = await p.run('status', '--drift');
    expect(drifted.code).toBe(1);
    expect(lines(drifted.stdout).slice(-4)).toEqual([
      'Drift: 1 of 2 tenant schemas differ from the migrations (at 001_items):',
      `  hand (schema "${p.schemaOf('hand')}")`,
      '    changed column items.name: expected text NOT NULL, found text',
      '    extra column items.notes: text',
    ]);
    const report = json<StatusReport>(await p.run('status', '--drift', '--json'));
    expect(report.drift?.drifted.map((t) => t.tenantId)).toEqual(['hand']);
  });
});

describe('tenantry migrate: lock waits', () => {
  it('retries a tenant blocked by a long transaction after the others, and reports it (JSON progress lines on stderr)', async () => {
    const p = await project('lockcli', ['t1', 't2', 't3']);
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT count(*) FROM "${p.schemaOf('t2')}".items`);
      const result = await p.run('migrate', '--tenants', '--json', '--lock-timeout', '200', '--lock-retries', '1', '--concurrency', '1');
      expect(result.code).toBe(1);
      const report = json<{ tenants: { migrated: { tenantId: string }[]; failed: { tenantId: string; code: string; message: string }[]; retried: string[] } }>(result);
      expect(report.tenants.migrated.map((m) => m.tenantId)).toEqual(['t1', 't3']);
      expect(report.tenants.retried).toEqual(['t2']);
      expect(report.tenants.failed).toEqual([
        { tenantId: 't2', migration: '002_sku', code: 'TENANTRY_MIGRATION_LOCK_TIMEOUT', message: expect.stringContaining('waited longer than lock_timeout (200 ms) for a lock, 2 times') },
      ]);
      const events = lines(result.stderr)
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { event: string; tenantId: string; outcome: string; done: number; etaMs: number | null });
      expect(events.map((e) => [e.tenantId, e.outcome])).toEqual([['t1', 'migrated'], ['t2', 'retrying'], ['t3', 'migrated'], ['t2', 'failed']]);
      expect(events.every((e) => e.event === 'progress')).toBe(true);
      expect(typeof events[2]!.etaMs).toBe('number');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  });
});
