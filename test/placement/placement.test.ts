/**
 * Tenants on two servers in one run: the test server (PostgreSQL 15 in CI's first run) and an
 * embedded PostgreSQL 18 started for this file. Routing by placement, provisioning there and its
 * failure paths, migrations, deletion.
 */
import { type Generated, Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTenancy, type Migration, type Tenancy } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { useSecondServer } from './second-server.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);
const second = useSecondServer(6);

const ITEMS: Migration = {
  name: '001_items',
  checksum: 'items-1',
  up: (client) => client.query('CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL)'),
};
const NOTE: Migration = {
  name: '002_note',
  checksum: 'note-1',
  up: (client) => client.query('ALTER TABLE items ADD COLUMN note text'),
};


async function schemaExists(pool: pg.Pool, schema: string): Promise<boolean> {
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length === 1;
}

async function placed(migrations: Migration[] = [ITEMS]): Promise<Tenancy> {
  const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('plc'), servers: { main: db.pool, eu: second.pool }, migrations: { tenant: migrations } });
  await tenancy.migrate.shared();
  return tenancy;
}

describe('servers and placement', () => {
  it('provisions a tenant on the server its placement names, and tenantPool routes its queries there', async () => {
    const tenancy = await placed();
    const acme = await tenancy.registry.create({ id: 'acme' });
    const globex = await tenancy.registry.create({ id: 'globex', placement: 'eu' });
    expect(globex.placement).toBe('eu');
    expect(globex.migrationVersion).toBe('001_items');
    expect(await schemaExists(db.pool, acme.schema)).toBe(true);
    expect(await schemaExists(second.pool, acme.schema)).toBe(false);
    expect(await schemaExists(second.pool, globex.schema)).toBe(true);
    expect(await schemaExists(db.pool, globex.schema)).toBe(false);

    const pool = tenantPool(tenancy, db.pool);
    const where = (id: string) =>
      tenancy.run(id, async () => {
        await pool.query('INSERT INTO items (label) VALUES ($1)', [`${id} row`]);
        const { rows } = await pool.query<{ port: number; labels: string[] }>(`SELECT current_setting('port')::int AS port, array_agg(label) AS labels FROM items`);
        return rows[0]!;
      });
    const [here, there] = await Promise.all([where('acme'), where('globex')]);
    const { rows: ports } = await second.pool.query<{ port: number }>(`SELECT current_setting('port')::int AS port`);
    expect(there.port).toBe(ports[0]!.port);
    expect(here.port).not.toBe(there.port);
    expect(here.labels).toEqual(['acme row']);
    expect(there.labels).toEqual(['globex row']);

    // A checked-out client is on the tenant's server too.
    await tenancy.run('globex', async () => {
      const client = await pool.connect();
      try {
        expect((await client.query('SELECT label FROM items')).rows).toEqual([{ label: 'globex row' }]);
      } finally {
        client.release();
      }
    });
    await tenancy.close();
  });

  it('refuses a placement no server has, before anything is made', async () => {
    const tenancy = await placed();
    await expect(tenancy.registry.create({ id: 'lost', placement: 'mars' })).rejects.toMatchObject({ code: 'TENANTRY_UNKNOWN_SERVER', server: 'mars' });
    expect(await tenancy.registry.get('lost')).toBeUndefined();
    expect(() => createTenancy({ pool: db.pool, servers: { default: second.pool } })).toThrow(/not "default"/);
    expect(() => createTenancy({ pool: db.pool, servers: { eu: 'mysql://x' } })).toThrow(/postgres:\/\//);
    await tenancy.close();
  });

  it('leaves no schema and no registry row when provisioning on another server fails', async () => {
    const broken: Migration = { name: '002_broken', checksum: 'broken', up: (client) => client.query('ALTER TABLE nope ADD COLUMN x int') };
    const tenancy = await placed([ITEMS, broken]);
    await expect(tenancy.registry.create({ id: 'initech', placement: 'eu' })).rejects.toThrow(/nope/);
    expect(await tenancy.registry.get('initech')).toBeUndefined();
    const { rows } = await second.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE '%initech%'`);
    expect(rows).toEqual([]);
    await tenancy.close();
  });

  it('drops the marked leftover of a crashed provisioning, and refuses a schema made by someone else', async () => {
    const tenancy = await placed();
    const names = { leftover: `${tenancy.sharedSchema}_left`, taken: `${tenancy.sharedSchema}_taken` };
    await second.pool.query(`CREATE SCHEMA ${names.leftover}; CREATE TABLE ${names.leftover}.junk (x int); COMMENT ON SCHEMA ${names.leftover} IS 'tenantry:unfinished'`);
    await second.pool.query(`CREATE SCHEMA ${names.taken}; CREATE TABLE ${names.taken}.precious (x int)`);
    const resumed = await tenancy.registry.create({ id: 'resumed', schema: names.leftover, placement: 'eu' });
    const { rows: tables } = await second.pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [resumed.schema]);
    expect(tables.map((row) => row.tablename)).toEqual(['items', 'tenantry_migrations']);
    const { rows: note } = await second.pool.query(`SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1`, [resumed.schema]);
    expect(note[0]!.note).toBeNull();

    await expect(tenancy.registry.create({ id: 'taken', schema: names.taken, placement: 'eu' })).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
    expect(await tenancy.registry.get('taken')).toBeUndefined();
    expect((await second.pool.query(`SELECT count(*)::int AS n FROM ${names.taken}.precious`)).rows[0].n).toBe(0);
    await tenancy.close();
  });

  it('migrates each tenant on its own server, runs the shared migrations on every server, and drops a tenant there', async () => {
    const shared: Migration = { name: '001_plans', checksum: 'plans', up: (client) => client.query('CREATE TABLE plans (code text PRIMARY KEY)') };
    const names = uniqueNames('plm');
    const first = createTenancy({ pool: db.pool, ...names, servers: { main: db.pool, eu: second.pool }, migrations: { shared: [shared], tenant: [ITEMS] } });
    await first.migrate.shared();
    const { rows: plans } = await second.pool.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'plans'`, [names.sharedSchema]);
    expect(plans).toHaveLength(1);
    const { rows: registryThere } = await second.pool.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'tenantry_tenants'`, [names.sharedSchema]);
    expect(registryThere).toHaveLength(0);
    await first.registry.create({ id: 'acme' });
    const globex = await first.registry.create({ id: 'globex', placement: 'eu' });

    const upgraded = createTenancy({ pool: db.pool, ...names, servers: { main: db.pool, eu: second.pool }, migrations: { shared: [shared], tenant: [ITEMS, NOTE] } });
    const report = await upgraded.migrate.tenants();
    expect(report.failed).toEqual([]);
    expect(report.migrated.map((result) => result.tenantId).sort()).toEqual(['acme', 'globex']);
    const { rows: columns } = await second.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'items' ORDER BY 1`, [globex.schema]);
    expect(columns.map((row) => row.column_name)).toEqual(['id', 'label', 'note']);
    expect((await upgraded.registry.get('globex'))!.migrationVersion).toBe('002_note');

    await upgraded.registry.delete('globex', { dropSchema: true });
    expect(await schemaExists(second.pool, globex.schema)).toBe(false);
    await expect(upgraded.registry.update('acme', { placement: 'eu' })).rejects.toThrow(/tenancy.move/);
    await Promise.all([first.close(), upgraded.close()]);
  });

  it('makes the pool of a server given by URL, and ends it with tenancy.close()', async () => {
    const names = uniqueNames('plu');
    const tenancy = createTenancy({ pool: db.pool, ...names, servers: { main: db.pool, eu: second.url }, migrations: { tenant: [ITEMS] } });
    await tenancy.migrate.shared();
    const initech = await tenancy.registry.create({ id: 'initech', placement: 'eu' });
    expect(await schemaExists(second.pool, initech.schema)).toBe(true);
    const pool = tenantPool(tenancy, db.pool);
    await tenancy.run('initech', () => pool.query('INSERT INTO items (label) VALUES ($1)', ['by url']));
    expect((await second.pool.query(`SELECT label FROM ${initech.schema}.items`)).rows).toEqual([{ label: 'by url' }]);
    await tenancy.close();
  });

  it('runs Kysely with tenantPlugin through the routed pool: each tenant reads and writes on its own server', async () => {
    const tenancy = await placed();
    await tenancy.registry.create({ id: 'acme' });
    const globex = await tenancy.registry.create({ id: 'globex', placement: 'eu' });
    const kysely = new Kysely<{ items: { id: Generated<string>; label: string } }>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, db.pool) as unknown as PostgresPool }),
      plugins: [tenantPlugin(tenancy)],
    });
    for (const id of ['acme', 'globex']) await tenancy.run(id, () => kysely.insertInto('items').values({ label: `${id} by kysely` }).execute());
    const read = (id: string) => tenancy.run(id, () => kysely.selectFrom('items').select('label').execute());
    expect(await read('acme')).toEqual([{ label: 'acme by kysely' }]);
    expect(await read('globex')).toEqual([{ label: 'globex by kysely' }]);
    expect((await second.pool.query(`SELECT label FROM "${globex.schema}".items`)).rows).toEqual([{ label: 'globex by kysely' }]);
    await tenancy.close();
  });
});
