import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { cli, lines, names, recorded, startCli, tableExists, workspace } from './cli-harness.js';

const db = useTestDatabase();
const TENANTS = ['t1', 't2', 't3', 't4', 't5', 't6'];

describe('Ctrl-C during tenantry migrate', () => {
  it('starts no new tenant, lets those in flight commit, exits 130; a re-run finishes the rest', { timeout: 60_000 }, async () => {
    const { sharedSchema, schemaPrefix, flags } = names('int');
    const cwd = await workspace({ 'migrations/tenant/001_items.sql': 'CREATE TABLE items (id int);' });
    const options = { cwd, databaseUrl: db.url };
    const all = [...flags, '--tenant-migrations', 'migrations/tenant'];
    const setup = createTenancy({ pool: db.pool, sharedSchema, schemaPrefix, migrations: { tenant: join(cwd, 'migrations/tenant') } });
    await setup.migrate.shared();
    for (const id of TENANTS) await setup.registry.create({ id });
    // Two statements around a pause: a tenant stopped half-way would have slow_a without slow_b.
    await writeFile(join(cwd, 'migrations/tenant/002_slow.sql'), 'CREATE TABLE slow_a (id int);\nSELECT pg_sleep(1);\nCREATE TABLE slow_b (id int);\n');

    const running = startCli(['migrate', '--tenants', '--concurrency', '2', ...all], options);
    await running.waitFor('[1/6]');
    running.child.kill('SIGINT');
    const result = await running.done;

    expect(result.code, result.stderr).toBe(130);
    const notice = /Interrupted: no new tenant starts; waiting for (\d) in flight \(([^)]*)\)/.exec(result.stderr);
    expect(notice, result.stderr).not.toBeNull();
    const inFlight = notice![2]!.split(', ');
    const finished = lines(result.stdout).flatMap((line) => /^\[\d\/6\] (t\d): applied 002_slow$/.exec(line)?.[1] ?? []);
    expect(finished).toEqual(expect.arrayContaining(inFlight));
    expect(finished.length).toBeLessThan(TENANTS.length);
    const notStarted = TENANTS.length - finished.length;
    expect(result.stdout).toContain(`Tenants: ${finished.length} migrated, 0 failed, ${notStarted} not started (of 6)`);
    expect(result.stderr).toContain(`Interrupted: ${notStarted} tenant${notStarted === 1 ? '' : 's'} not started. Run the same command again to finish`);

    // Every tenant is either wholly migrated or untouched.
    for (const id of TENANTS) {
      const schema = `${schemaPrefix}${id}`;
      const done = finished.includes(id);
      expect(await recorded(db.pool, schema), id).toEqual(done ? ['001_items', '002_slow'] : ['001_items']);
      expect(await tableExists(db.pool, schema, 'slow_a'), id).toBe(done);
      expect(await tableExists(db.pool, schema, 'slow_b'), id).toBe(done);
    }

    const rerun = await cli(['migrate', '--tenants', '--concurrency', '4', '--json', ...all], options);
    expect(rerun.code, rerun.stderr).toBe(0);
    const report = JSON.parse(rerun.stdout) as { tenants: { migrated: { tenantId: string }[] } };
    expect(report.tenants.migrated.map((m) => m.tenantId).sort()).toEqual(TENANTS.filter((id) => !finished.includes(id)));
    for (const id of TENANTS) expect(await recorded(db.pool, `${schemaPrefix}${id}`), id).toEqual(['001_items', '002_slow']);
  });
});
