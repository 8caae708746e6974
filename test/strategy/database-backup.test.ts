/**
 * Backups, restores, clones and exports of tenant databases (`strategy: 'database'`): the
 * archive says `database`, a restore builds the tenant's database with the detached, marked
 * provisioning (a failed one leaves no database and no registry row), archives of another
 * strategy are refused both ways.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupArchiveError, createTenancy, type Tenancy, TenantExistsError } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { serverQuery, useTestDatabase } from '../helpers/database.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { CATALOG, SEED, catalogOf, collector, fillTenant, sourceOf, tableDigests } from '../backup/backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);
/** Tenant databases are named after their schemas: this file's own prefix, dropped after it. */
const PREFIX = `tdbk${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}_`;
// A tenant-roles prefix too, its roles dropped after db's database (its tenant_group holds grants there until then).
db.dropRolesAfter(PREFIX);
const pools = new Map<string, pg.Pool>();
const folders: string[] = [];

/** A pool on one tenant database of the test server (what the tests read it with, apart from tenantry). */
function poolOn(database: string): pg.Pool {
  let pool = pools.get(database);
  if (pool === undefined) {
    const url = new URL(db.url);
    url.pathname = `/${database}`;
    pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => {});
    pools.set(database, pool);
  }
  return pool;
}

async function databases(): Promise<string[]> {
  return (await serverQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname', [PREFIX])).map((row) => row.datname);
}

afterAll(async () => {
  await Promise.all([...pools.values()].map((pool) => pool.end()));
  for (const name of await databases()) await serverQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function archiveOf(tenancy: Tenancy, id: string): Promise<Buffer> {
  const out = collector();
  await tenancy.backup(id, out.stream);
  return out.bytes();
}

describe("backups of tenant databases (strategy: 'database')", () => {
  let tenancy: Tenancy;
  const schemaOf = (id: string) => `${PREFIX}${id.replaceAll('-', '_')}`;

  beforeAll(async () => {
    tenancy = createTenancy({
      pool: db.pool,
      strategy: 'database',
      sharedSchema: uniqueNames('dbk').sharedSchema,
      schemaPrefix: PREFIX,
      tenantRoles: { prefix: PREFIX },
      databases: { maxConnections: 6 },
      migrations: { tenant: [CATALOG, SEED] },
    });
    await tenancy.migrate.shared();
    for (const id of ['acme', 'globex']) {
      await tenancy.registry.create({ id, name: id.toUpperCase(), domains: [`${id}.example.com`], metadata: { plan: 'pro' } });
      await fillTenant(poolOn(schemaOf(id)), schemaOf(id));
    }
    await poolOn(schemaOf('globex')).query(`INSERT INTO "${schemaOf('globex')}".categories (name) VALUES ('globex only')`);
    return () => tenancy.close();
  });

  it('round-trips a tenant database: the archive says database, the copy has equal rows, catalog and sequences in a database of its own', async () => {
    const out = collector();
    const summary = await tenancy.backup('acme', out.stream);
    const bytes = await out.bytes();
    expect(summary.manifest).toMatchObject({ strategy: 'database', schema: schemaOf('acme'), tenant: { id: 'acme', name: 'ACME' } });
    expect(summary.tables.map((table) => [table.table, table.rows])).toEqual([['categories', 3], ['nodes', 3], ['products', 429]]);

    const restored = await tenancy.restore(sourceOf(bytes), { id: 'acme-copy' });
    expect(restored.tenant).toMatchObject({ id: 'acme-copy', schema: schemaOf('acme-copy'), status: 'active' });
    expect(restored.tenant.migrationVersion).toBe((await tenancy.registry.get('acme'))?.migrationVersion);
    expect(restored.rows).toBe(summary.rows);
    expect(await databases()).toContain(schemaOf('acme-copy'));
    const note = await serverQuery<{ note: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [schemaOf('acme-copy')]);
    expect(note).toEqual([{ note: null }]);
    const [source, copy] = [poolOn(schemaOf('acme')), poolOn(schemaOf('acme-copy'))];
    expect(await tableDigests(copy, schemaOf('acme-copy'))).toEqual(await tableDigests(source, schemaOf('acme')));
    expect(await catalogOf(copy, schemaOf('acme-copy'))).toEqual(await catalogOf(source, schemaOf('acme')));
    // The registry's database holds no copy of the tenant's schema.
    expect((await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaOf('acme-copy')])).rowCount).toBe(0);
    const next = async (pool: pg.Pool, schema: string) => (await pool.query(`SELECT nextval('"${schema}".products_id_seq')::int AS n, nextval('"${schema}".invoice_numbers')::int AS i`)).rows[0];
    expect(await next(copy, schemaOf('acme-copy'))).toEqual(await next(source, schemaOf('acme')));

    // tenantPool reaches the copy in its own database, with its own role.
    const scoped = tenantPool(tenancy, db.pool);
    const seen = await tenancy.run('acme-copy', async () => (await scoped.query<{ db: string; n: number }>('SELECT current_database() AS db, count(*)::int AS n FROM products')).rows);
    expect(seen).toEqual([{ db: schemaOf('acme-copy'), n: 429 }]);
    await expect(tenancy.run('acme-copy', () => scoped.query(`SELECT * FROM "${schemaOf('acme')}".products`))).rejects.toMatchObject({ code: '42P01' });

    // Under its own id, after the tenant is deleted: the same database name, the archive's domains.
    await tenancy.registry.delete('acme-copy', { dropSchema: true });
    expect(await databases()).not.toContain(schemaOf('acme-copy'));
    await poolOn(schemaOf('acme-copy')).end();
    pools.delete(schemaOf('acme-copy'));
    const again = await tenancy.restore(sourceOf(bytes), { id: 'acme-copy', domains: ['copy.example.com'] });
    expect(again.rows).toBe(summary.rows);
    expect((await tenancy.registry.domains('acme-copy')).map((d) => d.domain)).toEqual(['copy.example.com']);
  });

  it('clones a tenant database, leaving the source and its neighbours as they were', async () => {
    const before = await tableDigests(poolOn(schemaOf('acme')), schemaOf('acme'));
    const cloned = await tenancy.clone('acme', 'acme-staging', { name: 'Acme staging' });
    expect(cloned.tenant).toMatchObject({ id: 'acme-staging', name: 'Acme staging' });
    expect(await tenancy.registry.domains('acme-staging')).toEqual([]);
    expect(await tableDigests(poolOn(schemaOf('acme-staging')), schemaOf('acme-staging'))).toEqual(before);
    expect(await tableDigests(poolOn(schemaOf('acme')), schemaOf('acme'))).toEqual(before);
    const globex = await poolOn(schemaOf('globex')).query(`SELECT count(*)::int AS n FROM "${schemaOf('globex')}".categories WHERE name = 'globex only'`);
    expect(globex.rows).toEqual([{ n: 1 }]);
    const staging = await poolOn(schemaOf('acme-staging')).query(`SELECT count(*)::int AS n FROM "${schemaOf('acme-staging')}".categories WHERE name = 'globex only'`);
    expect(staging.rows).toEqual([{ n: 0 }]);
    await expect(tenancy.clone('acme', 'globex')).rejects.toBeInstanceOf(TenantExistsError);
    expect(await tableDigests(poolOn(schemaOf('globex')), schemaOf('globex'))).not.toEqual(before);
  });

  it("exports a tenant database's tables, read in its own database", async () => {
    const folder = await mkdtemp(join(tmpdir(), 'tenantry-dbexport-'));
    folders.push(folder);
    const summary = await tenancy.exportTenant('globex', folder, { format: 'csv' });
    expect(summary.tables.map((table) => [table.file, table.rows])).toEqual([['categories.csv', 4], ['nodes.csv', 3], ['products.csv', 429]]);
    expect(await readFile(join(folder, 'categories.csv'), 'utf8')).toContain('globex only');
    expect(JSON.parse(await readFile(join(folder, 'tenant.json'), 'utf8'))).toMatchObject({ id: 'globex', schema: schemaOf('globex') });
  });

  it('leaves no database and no registry row when a restore fails, and refuses a database in the way', async () => {
    const bytes = await archiveOf(tenancy, 'acme');
    const truncated = bytes.subarray(0, Math.floor(bytes.length * 0.8));
    await expect(tenancy.restore(sourceOf(truncated), { id: 'broken' })).rejects.toBeInstanceOf(BackupArchiveError);
    expect(await tenancy.registry.get('broken')).toBeUndefined();
    expect(await databases()).not.toContain(schemaOf('broken'));

    // A database of that name made by hand (not marked unfinished) is not the restore's to drop.
    await serverQuery(`CREATE DATABASE "${schemaOf('taken')}"`);
    await expect(tenancy.restore(sourceOf(bytes), { id: 'taken' })).rejects.toBeInstanceOf(TenantExistsError);
    expect(await tenancy.registry.get('taken')).toBeUndefined();
    expect(await databases()).toContain(schemaOf('taken'));

    // The leftover of a crashed restore (marked unfinished) is dropped and redone.
    await serverQuery(`CREATE DATABASE "${schemaOf('crashed')}"`);
    await serverQuery(`COMMENT ON DATABASE "${schemaOf('crashed')}" IS 'tenantry:unfinished'`);
    const redone = await tenancy.restore(sourceOf(bytes), { id: 'crashed' });
    expect(redone.rows).toBeGreaterThan(0);
  });

  it('refuses an archive of the schema strategy, and a schema tenancy refuses an archive of a tenant database', async () => {
    const schemaTenancy = createTenancy({ pool: db.pool, ...uniqueNames('dbks'), migrations: { tenant: [CATALOG, SEED] } });
    await schemaTenancy.migrate.shared();
    await schemaTenancy.registry.create({ id: 'initech' });
    const schemaArchive = await archiveOf(schemaTenancy, 'initech');
    const refused = tenancy.restore(sourceOf(schemaArchive), { id: 'initech' });
    await expect(refused).rejects.toBeInstanceOf(BackupArchiveError);
    await expect(refused).rejects.toThrow(/schema strategy.*'database'/);
    expect(await tenancy.registry.get('initech')).toBeUndefined();
    expect(await databases()).not.toContain(schemaOf('initech'));

    const databaseArchive = await archiveOf(tenancy, 'globex');
    await expect(schemaTenancy.restore(sourceOf(databaseArchive), { id: 'globex' })).rejects.toThrow(/database strategy.*'schema'/);
    expect(await schemaTenancy.registry.get('globex')).toBeUndefined();
    await schemaTenancy.close();
  });
});
