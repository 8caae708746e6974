import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenancy, type MigrateTenantsReport, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { ignoreAdminShutdown, migrationFolder, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

/** Pools of the simulated "other processes", ended after each test. */
const pools: pg.Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

/** A tenancy on its own pool: what a second process (another deploy replica) would have. */
function replica(names: { sharedSchema: string; schemaPrefix: string }, migrations: { shared?: string; tenant?: string }): Tenancy {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', ignoreAdminShutdown);
  pools.push(pool);
  return createTenancy({ pool, ...names, migrations });
}

/** Every tenant id with what each report says was applied to it, merged. */
function appliedByTenant(...reports: MigrateTenantsReport[]): Map<string, string[]> {
  const merged = new Map<string, string[]>();
  for (const report of reports) {
    for (const result of report.migrated) merged.set(result.tenantId!, [...(merged.get(result.tenantId!) ?? []), ...result.applied]);
  }
  return merged;
}

describe('two migrators at once', () => {
  it('never apply a tenant migration twice (advisory lock per schema)', async () => {
    const folder = await migrationFolder({ '001_ledger.sql': 'CREATE TABLE ledger (id serial PRIMARY KEY, entry text NOT NULL);' });
    const names = uniqueNames('race');
    const first = replica(names, { tenant: folder.path });
    const second = replica(names, { tenant: folder.path });
    await first.migrate.shared();
    const ids = ['acme', 'globex', 'initech', 'umbrella'];
    for (const id of ids) await first.registry.create({ id });

    // Non-idempotent migrations: an INSERT (slow, so the two runs overlap), a CREATE TABLE, a module INSERT.
    await folder.write('002_slow_insert.sql', `INSERT INTO ledger (entry) VALUES ('002'); SELECT pg_sleep(0.2);`);
    await folder.write('003_audit.sql', 'CREATE TABLE audit (id int);');
    await folder.write('004_module.mjs', `export const up = (client) => client.query("INSERT INTO ledger (entry) VALUES ('004')");\n`);

    const [a, b] = await Promise.all([first.migrate.tenants({ concurrency: 2 }), second.migrate.tenants({ concurrency: 2 })]);

    // Both saw every tenant as pending: the runs really overlapped.
    expect(a.total).toBe(ids.length);
    expect(b.total).toBe(ids.length);
    expect(a.failed).toEqual([]);
    expect(b.failed).toEqual([]);
    const applied = appliedByTenant(a, b);
    for (const id of ids) {
      expect(applied.get(id), id).toEqual(['002_slow_insert', '003_audit', '004_module']);
      const schema = `${names.schemaPrefix}${id}`;
      expect((await tracked(db.pool, schema)).map((row) => row.name)).toEqual(['001_ledger', '002_slow_insert', '003_audit', '004_module']);
      const ledger = await db.pool.query(`SELECT entry FROM "${schema}".ledger ORDER BY id`);
      expect(ledger.rows).toEqual([{ entry: '002' }, { entry: '004' }]);
      expect((await first.registry.get(id))?.migrationVersion).toBe('004_module');
    }
    expect((await first.migrate.tenants()).total).toBe(0);
    expect((await second.migrate.tenants()).total).toBe(0);
  });

  it('never apply a shared migration twice, and both create the shared schema safely', async () => {
    const shared = await migrationFolder({
      '001_counter.sql': `CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (1); SELECT pg_sleep(0.2);`,
      '002_more.sql': 'INSERT INTO counter VALUES (2);',
    });
    const names = uniqueNames('racesh');
    const first = replica(names, { shared: shared.path });
    const second = replica(names, { shared: shared.path });
    const results = await Promise.allSettled([first.migrate.shared(), second.migrate.shared()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.applied : []));
    expect(applied.sort()).toEqual(['001_counter', '002_more', 'tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy']);
    expect((await db.pool.query(`SELECT n FROM "${names.sharedSchema}".counter ORDER BY n`)).rows).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('never apply twice when one process migrates a tenant while another migrates all', async () => {
    const folder = await migrationFolder({ '001_ledger.sql': 'CREATE TABLE ledger (id serial PRIMARY KEY, entry text NOT NULL);' });
    const names = uniqueNames('raceone');
    const first = replica(names, { tenant: folder.path });
    const second = replica(names, { tenant: folder.path });
    await first.migrate.shared();
    await first.registry.create({ id: 'acme' });
    await folder.write('002_slow_insert.sql', `INSERT INTO ledger (entry) VALUES ('002'); SELECT pg_sleep(0.2);`);

    const [one, all] = await Promise.all([first.migrate.tenant('acme'), second.migrate.tenants()]);
    expect([...one.applied, ...all.migrated.flatMap((r) => r.applied)]).toEqual(['002_slow_insert']);
    expect(all.failed).toEqual([]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${names.schemaPrefix}acme".ledger`)).rows).toEqual([{ n: 1 }]);
  });
});
