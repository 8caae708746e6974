import { describe, expect, it } from 'vitest';
import {
  createTenancy,
  MigrationFailedError,
  type MigrationProgress,
  type Tenancy,
  TenantNotFoundError,
} from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { type MigrationFolder, migrationFolder, tableExists, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const schemaExists = async (schema: string) =>
  (await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

const ITEMS = 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);';

/** A tenancy with tenants `ids`, each created (and migrated) with `001_items`. */
async function setup(ids: readonly string[]): Promise<{ tenancy: Tenancy; folder: MigrationFolder; schemaOf: (id: string) => string }> {
  const folder = await migrationFolder({ '001_items.sql': ITEMS });
  const names = uniqueNames('mig');
  const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
  await tenancy.migrate.shared();
  for (const id of ids) await tenancy.registry.create({ id });
  return { tenancy, folder, schemaOf: (id) => `${names.schemaPrefix}${id.replaceAll('-', '_')}` };
}

describe('migrate.shared', () => {
  it('creates a non-public shared schema with the registry tables and the shared migrations; a re-run applies nothing', async () => {
    const shared = await migrationFolder({
      '001_plans.sql': `CREATE TABLE plans (id text PRIMARY KEY, price int NOT NULL); INSERT INTO plans VALUES ('free', 0);`,
      '002_features.mjs': `export async function up(client) {
  await client.query('CREATE TABLE features (plan text NOT NULL REFERENCES plans (id), name text NOT NULL)');
}
`,
    });
    const sharedSchema = uniqueNames('sh').sharedSchema;
    const tenancy = createTenancy({ pool: db.pool, sharedSchema, migrations: { shared: shared.path } });
    expect(await schemaExists(sharedSchema)).toBe(false);

    const first = await tenancy.migrate.shared();
    expect(first).toEqual({ tenantId: undefined, applied: ['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy', '001_plans', '002_features'] });
    expect(await schemaExists(sharedSchema)).toBe(true);
    for (const table of ['tenantry_tenants', 'tenantry_domains', 'tenantry_migrations', 'plans', 'features']) {
      expect(await tableExists(db.pool, sharedSchema, table), table).toBe(true);
      expect(await tableExists(db.pool, 'public', table), `public.${table}`).toBe(false);
    }
    expect((await tracked(db.pool, sharedSchema)).map((row) => row.name)).toEqual(['001_plans', '002_features', 'tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy']);

    expect(await tenancy.migrate.shared()).toEqual({ tenantId: undefined, applied: [] });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${sharedSchema}".plans`)).rows).toEqual([{ n: 1 }]);

    await shared.write('003_more.sql', `INSERT INTO plans VALUES ('pro', 10);`);
    expect((await tenancy.migrate.shared()).applied).toEqual(['003_more']);
    expect((await tenancy.migrate.shared()).applied).toEqual([]);
    // The registry works in that schema.
    await tenancy.registry.create({ id: 'acme' });
    expect((await db.pool.query(`SELECT id FROM "${sharedSchema}".tenantry_tenants`)).rows).toEqual([{ id: 'acme' }]);
  });

  it('works in the default public schema', async () => {
    const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'pub_' });
    expect((await tenancy.migrate.shared()).applied).toEqual(['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy']);
    expect(await tableExists(db.pool, 'public', 'tenantry_tenants')).toBe(true);
    expect((await tenancy.migrate.shared()).applied).toEqual([]);
  });

  it('rolls a failed shared migration back whole and names it', async () => {
    const shared = await migrationFolder({
      '001_plans.sql': 'CREATE TABLE plans (id text PRIMARY KEY);',
      '002_broken.sql': 'CREATE TABLE half (id int); SELECT * FROM no_such_table;',
    });
    const sharedSchema = uniqueNames('shfail').sharedSchema;
    const tenancy = createTenancy({ pool: db.pool, sharedSchema, migrations: { shared: shared.path } });
    const error = await tenancy.migrate.shared().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error).toMatchObject({ tenantId: undefined, migration: '002_broken', cause: { code: '42P01' } });
    expect(await schemaExists(sharedSchema)).toBe(false);
  });
});

describe('migrate.tenants', () => {
  it('brings a new migration to every tenant, reports progress once per tenant and updates migrationVersion', async () => {
    const ids = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
    const { tenancy, folder, schemaOf } = await setup(ids);
    for (const id of ids) expect((await tenancy.registry.get(id))?.migrationVersion).toBe('001_items');

    await folder.write('002_categories.sql', 'CREATE TABLE categories (id serial PRIMARY KEY); ALTER TABLE items ADD COLUMN category int REFERENCES categories (id);');
    await folder.write('003_seed.mjs', `export const up = (client) => client.query("INSERT INTO categories DEFAULT VALUES");\n`);
    const progress: MigrationProgress[] = [];
    const report = await tenancy.migrate.tenants({ concurrency: 2, onProgress: (p) => progress.push(p) });

    expect(report.total).toBe(5);
    expect(report.failed).toEqual([]);
    expect([...report.migrated].sort((a, b) => a.tenantId!.localeCompare(b.tenantId!))).toEqual(
      [...ids].sort().map((tenantId) => ({ tenantId, applied: ['002_categories', '003_seed'] })),
    );
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((p) => p.total === 5 && p.failed === 0 && p.error === undefined)).toBe(true);
    expect(progress.map((p) => p.tenantId).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect((await tracked(db.pool, schemaOf(id))).map((row) => row.name)).toEqual(['001_items', '002_categories', '003_seed']);
      expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${schemaOf(id)}".categories`)).rows).toEqual([{ n: 1 }]);
      const tenant = await tenancy.registry.get(id);
      expect(tenant?.migrationVersion).toBe('003_seed');
    }

    const again: MigrationProgress[] = [];
    expect(await tenancy.migrate.tenants({ onProgress: (p) => again.push(p) })).toEqual({ total: 0, migrated: [], failed: [], retried: [], notStarted: [], interrupted: false });
    expect(again).toEqual([]);
  });

  it('migrates only the tenants in `only`, and the others on the next full run', async () => {
    const { tenancy, folder, schemaOf } = await setup(['a', 'b', 'c', 'd']);
    await folder.write('002_notes.sql', 'CREATE TABLE notes (id int);');
    const progress: MigrationProgress[] = [];
    const report = await tenancy.migrate.tenants({ only: ['b', 'd', 'nobody'], onProgress: (p) => progress.push(p) });
    expect(report.total).toBe(2);
    expect(report.migrated.map((r) => r.tenantId).sort()).toEqual(['b', 'd']);
    expect(progress.map((p) => [p.done, p.total])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(await tableExists(db.pool, schemaOf('a'), 'notes')).toBe(false);
    expect(await tableExists(db.pool, schemaOf('b'), 'notes')).toBe(true);
    expect((await tenancy.registry.get('a'))?.migrationVersion).toBe('001_items');
    expect((await tenancy.registry.get('b'))?.migrationVersion).toBe('002_notes');

    const rest = await tenancy.migrate.tenants();
    expect(rest.migrated.map((r) => r.tenantId).sort()).toEqual(['a', 'c']);
    expect(await tableExists(db.pool, schemaOf('c'), 'notes')).toBe(true);
    await expect(tenancy.migrate.tenants({ only: ['Not Valid'] })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID' });
  });

  it('reports a tenant whose migration fails, migrates the others, leaves its schema untouched and resumes it after the fix', async () => {
    const ids = ['t1', 't2', 't3', 't4'];
    const { tenancy, folder, schemaOf } = await setup(ids);
    await db.pool.query(`INSERT INTO "${schemaOf('t3')}".items (name) VALUES ('anvil'), ('poison')`);
    await db.pool.query(`INSERT INTO "${schemaOf('t1')}".items (name) VALUES ('anvil')`);
    // Fails only where a tenant has a 'poison' row: the CHECK cannot be added there.
    await folder.write(
      '002_no_poison.sql',
      `CREATE TABLE audit (id serial PRIMARY KEY, what text);
INSERT INTO audit (what) VALUES ('checked');
ALTER TABLE items ADD CONSTRAINT items_no_poison CHECK (name <> 'poison');`,
    );
    await folder.write('003_after.sql', 'CREATE TABLE after_table (id int);');

    const progress: MigrationProgress[] = [];
    const report = await tenancy.migrate.tenants({ concurrency: 3, onProgress: (p) => progress.push(p) });
    expect(report.total).toBe(4);
    expect(report.migrated.map((r) => r.tenantId).sort()).toEqual(['t1', 't2', 't4']);
    expect(report.failed).toHaveLength(1);
    const failure = report.failed[0]!;
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect(failure).toMatchObject({ code: 'TENANTRY_MIGRATION_FAILED', tenantId: 't3', migration: '002_no_poison' });
    expect(failure.cause).toMatchObject({ code: '23514', constraint: 'items_no_poison' });
    expect(failure.message).toContain('t3');
    expect(progress).toHaveLength(4);
    expect(progress.at(-1)).toMatchObject({ done: 4, total: 4, failed: 1 });
    expect(progress.find((p) => p.tenantId === 't3')?.error).toBe(failure);

    // The failed tenant's transaction rolled back: nothing of 002 (nor 003) is there.
    expect(await tableExists(db.pool, schemaOf('t3'), 'audit')).toBe(false);
    expect(await tableExists(db.pool, schemaOf('t3'), 'after_table')).toBe(false);
    expect((await tracked(db.pool, schemaOf('t3'))).map((row) => row.name)).toEqual(['001_items']);
    const constraints = await db.pool.query(`SELECT 1 FROM pg_constraint WHERE conname = 'items_no_poison' AND conrelid = $1::regclass`, [
      `"${schemaOf('t3')}".items`,
    ]);
    expect(constraints.rowCount).toBe(0);
    expect((await tenancy.registry.get('t3'))?.migrationVersion).toBe('001_items');
    for (const id of ['t1', 't2', 't4']) {
      expect((await tracked(db.pool, schemaOf(id))).map((row) => row.name)).toEqual(['001_items', '002_no_poison', '003_after']);
      expect((await tenancy.registry.get(id))?.migrationVersion).toBe('003_after');
    }

    // Fix the data; a re-run migrates only that tenant.
    await db.pool.query(`DELETE FROM "${schemaOf('t3')}".items WHERE name = 'poison'`);
    const rerun = await tenancy.migrate.tenants();
    expect(rerun).toEqual({ total: 1, migrated: [{ tenantId: 't3', applied: ['002_no_poison', '003_after'] }], failed: [], retried: [], notStarted: [], interrupted: false });
    expect((await db.pool.query(`SELECT what FROM "${schemaOf('t3')}".audit`)).rows).toEqual([{ what: 'checked' }]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${schemaOf('t1')}".audit`)).rows).toEqual([{ n: 1 }]);
    expect((await tenancy.registry.get('t3'))?.migrationVersion).toBe('003_after');
    expect((await tenancy.migrate.tenants()).total).toBe(0);
  });

  it('refuses a concurrency that is not a positive integer', async () => {
    const { tenancy } = await setup([]);
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      await expect(tenancy.migrate.tenants({ concurrency })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
    }
  });
});

describe('migrate.tenant', () => {
  it('migrates one tenant and updates its migrationVersion', async () => {
    const { tenancy, folder, schemaOf } = await setup(['acme', 'globex']);
    await folder.write('002_notes.sql', 'CREATE TABLE notes (id int);');
    const before = await tenancy.registry.get('acme');
    expect(await tenancy.migrate.tenant('acme')).toEqual({ tenantId: 'acme', applied: ['002_notes'] });
    const after = await tenancy.registry.get('acme');
    expect(after?.migrationVersion).toBe('002_notes');
    expect(after!.updatedAt.getTime()).toBeGreaterThanOrEqual(before!.updatedAt.getTime());
    expect((await tenancy.registry.get('globex'))?.migrationVersion).toBe('001_items');
    expect(await tableExists(db.pool, schemaOf('globex'), 'notes')).toBe(false);
    // acme is up to date now, so only globex is pending.
    expect((await tenancy.migrate.tenants()).migrated).toEqual([{ tenantId: 'globex', applied: ['002_notes'] }]);
  });

  it('throws MigrationFailedError for a failing migration and TenantNotFoundError for an unknown tenant', async () => {
    const { tenancy, folder, schemaOf } = await setup(['acme']);
    await folder.write('002_bad.sql', 'CREATE TABLE partial (id int); INSERT INTO items (name) VALUES (NULL);');
    await expect(tenancy.migrate.tenant('acme')).rejects.toMatchObject({
      code: 'TENANTRY_MIGRATION_FAILED',
      tenantId: 'acme',
      migration: '002_bad',
      cause: { code: '23502' },
    });
    expect(await tableExists(db.pool, schemaOf('acme'), 'partial')).toBe(false);
    await expect(tenancy.migrate.tenant('ghost')).rejects.toBeInstanceOf(TenantNotFoundError);
    await expect(tenancy.migrate.tenant('Not Valid')).rejects.toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID' });
  });
});
