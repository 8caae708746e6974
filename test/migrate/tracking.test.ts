import { describe, expect, it } from 'vitest';
import { createTenancy, MigrationChecksumError, MigrationFailedError, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { type MigrationFolder, migrationFolder, sha256, tableExists, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const ITEMS = 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n';
const LOG = `export async function up(client) {
  await client.query('CREATE TABLE log (id serial PRIMARY KEY, line text NOT NULL)');
}
`;

async function setup(): Promise<{ tenancy: Tenancy; folder: MigrationFolder; schema: string }> {
  const folder = await migrationFolder({ '001_items.sql': ITEMS, '002_log.mjs': LOG });
  const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('track'), migrations: { tenant: folder.path } });
  await tenancy.migrate.shared();
  const acme = await tenancy.registry.create({ id: 'acme' });
  return { tenancy, folder, schema: acme.schema };
}

describe('migration tracking', () => {
  it('records each applied migration with its name, checksum and time in the tenant schema', async () => {
    const { schema } = await setup();
    const columns = await db.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'tenantry_migrations' ORDER BY ordinal_position`,
      [schema],
    );
    expect(columns.rows).toEqual([
      { column_name: 'name', data_type: 'text' },
      { column_name: 'checksum', data_type: 'text' },
      { column_name: 'applied_at', data_type: 'timestamp with time zone' },
    ]);
    expect(await tracked(db.pool, schema)).toEqual([
      { name: '001_items', checksum: sha256(ITEMS) },
      { name: '002_log', checksum: sha256(LOG) },
    ]);
  });

  it('refuses an edited .sql migration with MigrationChecksumError, runs nothing, and accepts it with allowChanged', async () => {
    const { tenancy, folder, schema } = await setup();
    const edited = `${ITEMS}CREATE TABLE sneaky (id int);\n`;
    await folder.write('001_items.sql', edited);
    await folder.write('003_next.sql', 'CREATE TABLE next_table (id int);');

    const error = await tenancy.migrate.tenant('acme').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationChecksumError);
    expect(error).toMatchObject({ code: 'TENANTRY_MIGRATION_CHECKSUM', migration: '001_items' });
    expect((error as Error).message).toContain(schema);
    // The run was refused whole: neither the edit nor the new migration ran.
    expect(await tableExists(db.pool, schema, 'sneaky')).toBe(false);
    expect(await tableExists(db.pool, schema, 'next_table')).toBe(false);
    expect(await tracked(db.pool, schema)).toEqual([
      { name: '001_items', checksum: sha256(ITEMS) },
      { name: '002_log', checksum: sha256(LOG) },
    ]);
    expect((await tenancy.registry.get('acme'))?.migrationVersion).toBe('002_log');

    // migrate.tenants reports it as that tenant's failure, with the checksum error as cause.
    const report = await tenancy.migrate.tenants();
    expect(report.total).toBe(1);
    expect(report.migrated).toEqual([]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]).toBeInstanceOf(MigrationFailedError);
    expect(report.failed[0]).toMatchObject({ tenantId: 'acme', migration: '001_items' });
    expect(report.failed[0]!.cause).toBeInstanceOf(MigrationChecksumError);

    const accepted = await tenancy.migrate.tenant('acme', { allowChanged: true });
    expect(accepted.applied).toEqual(['003_next']);
    expect(await tableExists(db.pool, schema, 'sneaky')).toBe(false);
    expect(await tableExists(db.pool, schema, 'next_table')).toBe(true);
    expect((await tracked(db.pool, schema)).map((row) => row.checksum)).toEqual([sha256(edited), sha256(LOG), sha256('CREATE TABLE next_table (id int);')]);
    expect((await tenancy.registry.get('acme'))?.migrationVersion).toBe('003_next');
    // The new checksum is the recorded one now: a plain run passes and has nothing to do.
    expect((await tenancy.migrate.tenant('acme')).applied).toEqual([]);
    expect((await tenancy.migrate.tenants()).total).toBe(0);
  });

  it('refuses an edited module the same way, and migrate.tenants accepts it with allowChanged', async () => {
    const { tenancy, folder, schema } = await setup();
    const edited = LOG.replace('line text NOT NULL', 'line text NOT NULL, extra int');
    await folder.write('002_log.mjs', edited);
    await expect(tenancy.migrate.tenant('acme')).rejects.toMatchObject({
      name: 'MigrationChecksumError',
      code: 'TENANTRY_MIGRATION_CHECKSUM',
      migration: '002_log',
    });
    const report = await tenancy.migrate.tenants({ allowChanged: true });
    expect(report.failed).toEqual([]);
    expect(report.migrated).toEqual([{ tenantId: 'acme', applied: [] }]);
    expect((await tracked(db.pool, schema))[1]).toEqual({ name: '002_log', checksum: sha256(edited) });
  });

  it('refuses an edited shared migration too', async () => {
    const shared = await migrationFolder({ '001_plans.sql': 'CREATE TABLE plans (id text PRIMARY KEY);' });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('trackshared'), migrations: { shared: shared.path } });
    await tenancy.migrate.shared();
    await shared.write('001_plans.sql', 'CREATE TABLE plans (id text PRIMARY KEY, price int);');
    await expect(tenancy.migrate.shared()).rejects.toMatchObject({ code: 'TENANTRY_MIGRATION_CHECKSUM', migration: '001_plans' });
    expect((await tenancy.migrate.shared({ allowChanged: true })).applied).toEqual([]);
    expect((await tenancy.migrate.shared()).applied).toEqual([]);
  });
});
