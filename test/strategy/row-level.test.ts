import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, NoTenantError, RowSecurityBypassedError, type Tenancy } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { BackupSummary } from '../../src/index.js';

/** A tenant's backup archive in memory. */
async function backupOf(tenancy: Tenancy, id: string): Promise<{ summary: BackupSummary; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const summary = await tenancy.backup(id, sink);
  return { summary, bytes: Buffer.concat(chunks) };
}

const db = useTestDatabase();

const SHARED_MIGRATIONS = [
  {
    name: '001_products',
    checksum: '1',
    up: (client: { query(text: string): Promise<unknown> }) =>
      client.query(`
        CREATE TABLE products (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, PRIMARY KEY (tenant_id, id));
        SELECT tenantry_tenant_table('products');
        CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);
        SELECT tenantry_tenant_table('notes');
        CREATE TABLE plans (id text PRIMARY KEY);
        INSERT INTO plans VALUES ('free');`),
  },
];

interface Schema {
  products: { tenant_id: string; id: string; name: string };
}

/** A login role that is neither a superuser nor BYPASSRLS, with the app's privileges on the shared tables. */
async function appRole(name: string): Promise<string> {
  await db.pool.query(`CREATE ROLE "${name}" LOGIN PASSWORD 'app-password'`);
  await db.pool.query(`GRANT USAGE ON SCHEMA public TO "${name}"`);
  await db.pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON products, notes, plans TO "${name}"`);
  await db.pool.query(`GRANT SELECT ON tenantry_tenants, tenantry_domains, tenantry_migrations, tenantry_tenant_tables TO "${name}"`);
  await db.pool.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "${name}"`);
  const url = new URL(db.url);
  url.username = name;
  url.password = 'app-password'; // embedded PostgreSQL checks passwords; the machine's server trusts
  return url.toString();
}

describe("strategy: 'rls'", () => {
  let admin: Tenancy;
  let tenancy: Tenancy;
  let appPool: pg.Pool;
  let scoped: TenantPool;
  /** Schemas and relations that creating three tenants added (none: a registry row is no DDL). */
  let catalogGrowth: { schemas: number; relations: number };

  beforeAll(async () => {
    admin = createTenancy({ pool: db.pool, strategy: 'rls', migrations: { shared: SHARED_MIGRATIONS } });
    await admin.migrate.shared();
    const catalogSize = async () =>
      (await db.pool.query<{ schemas: number; relations: number }>('SELECT (SELECT count(*)::int FROM pg_namespace) AS schemas, (SELECT count(*)::int FROM pg_class) AS relations')).rows[0]!;
    const before = await catalogSize();
    for (const id of ['acme', 'globex', 'initech']) await admin.registry.create({ id });
    const after = await catalogSize();
    catalogGrowth = { schemas: after.schemas - before.schemas, relations: after.relations - before.relations };
    appPool = new pg.Pool({ connectionString: await appRole(`${db.rolePrefix}app`), max: 1 });
    tenancy = createTenancy({ pool: appPool, strategy: 'rls' });
    scoped = tenantPool(tenancy, appPool);
    for (const id of ['acme', 'globex', 'initech']) {
      await tenancy.run(id, async () => {
        await scoped.query('INSERT INTO products (name) VALUES ($1), ($2)', [`${id} bolt`, `${id} nut`]);
        await scoped.query('INSERT INTO notes (body) VALUES ($1)', [`${id} note`]);
      });
    }
    return () => appPool.end();
  });

  const names = async (id: string, text = 'SELECT name FROM products ORDER BY name') =>
    tenancy.run(id, async () => (await scoped.query<{ name: string }>(text)).rows.map((row) => row.name));
  const rowCount = async (id: string) =>
    (await db.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM products WHERE tenant_id = $1) + (SELECT count(*) FROM notes WHERE tenant_id = $1) AS n', [id])).rows[0]!.n * 1;

  it('creates a tenant as a registry row, with no schema and no DDL', () => {
    expect(catalogGrowth).toEqual({ schemas: 0, relations: 0 });
  });

  it('fills the tenant column from the scope, and shows each tenant only its rows on one reused connection', async () => {
    for (const id of ['acme', 'globex', 'acme', 'initech', 'globex']) {
      expect(await names(id)).toEqual([`${id} bolt`, `${id} nut`]);
      expect(await names(id, 'SELECT body AS name FROM notes')).toEqual([`${id} note`]);
    }
    const owners = await db.pool.query('SELECT tenant_id, count(*)::int AS n FROM products GROUP BY 1 ORDER BY 1');
    expect(owners.rows).toEqual([
      { tenant_id: 'acme', n: 2 },
      { tenant_id: 'globex', n: 2 },
      { tenant_id: 'initech', n: 2 },
    ]);
  });

  it('finds no foreign row however the query names it, and writes none', async () => {
    expect(await names('acme', "SELECT name FROM products WHERE tenant_id = 'globex'")).toEqual([]);
    expect(await names('acme', "SELECT name FROM public.products WHERE name LIKE 'globex%'")).toEqual([]);
    await tenancy.run('acme', async () => {
      expect((await scoped.query("UPDATE products SET name = 'taken' WHERE tenant_id = 'globex'")).rowCount).toBe(0);
      expect((await scoped.query("DELETE FROM products WHERE name LIKE 'globex%'")).rowCount).toBe(0);
      await expect(scoped.query("INSERT INTO products (tenant_id, name) VALUES ('globex', 'planted')")).rejects.toMatchObject({ code: '42501' });
      await expect(scoped.query("UPDATE products SET tenant_id = 'globex' WHERE name = 'acme bolt'")).rejects.toMatchObject({ code: '42501' });
    });
    expect(await names('globex')).toEqual(['globex bolt', 'globex nut']);
  });

  it('matches nothing without a tenant: the shared scope, and a raw connection that never set one', async () => {
    expect(await tenancy.runShared(async () => (await scoped.query<{ n: number }>('SELECT count(*)::int AS n FROM products')).rows[0]?.n)).toBe(0);
    expect(await tenancy.runShared(async () => (await scoped.query('SELECT id FROM plans')).rows)).toEqual([{ id: 'free' }]);
    await expect(tenancy.runShared(() => scoped.query("INSERT INTO products (name) VALUES ('orphan')"))).rejects.toMatchObject({ code: '42501' });
    await expect(scoped.query('SELECT 1')).rejects.toBeInstanceOf(NoTenantError);
    const raw = new pg.Client({ connectionString: (appPool as unknown as { options: { connectionString: string } }).options.connectionString });
    await raw.connect();
    try {
      expect((await raw.query('SELECT count(*)::int AS n FROM products')).rows[0].n).toBe(0);
      await expect(raw.query("INSERT INTO products (name) VALUES ('orphan')")).rejects.toThrow(/tenantry\.tenant_id/);
    } finally {
      await raw.end();
    }
  });

  it('sets the tenant again after a statement that changed the setting, and with SET LOCAL in transaction mode', async () => {
    await tenancy.run('acme', () => scoped.query("SELECT set_config('tenantry.tenant_id', 'globex', false)"));
    expect(await names('acme')).toEqual(['acme bolt', 'acme nut']);
    const local = tenantPool(tenancy, appPool, { mode: 'transaction' });
    for (const id of ['globex', 'acme']) {
      expect(await tenancy.run(id, async () => (await local.query<{ name: string }>('SELECT name FROM products ORDER BY name')).rows.map((row) => row.name))).toEqual([`${id} bolt`, `${id} nut`]);
    }
    const leftover = await local.connect().catch((error: unknown) => error);
    expect(leftover).toBeInstanceOf(NoTenantError);
  });

  it('runs Kysely queries unqualified, so a query compiled for one tenant returns the tenant it runs for', async () => {
    const kysely = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: scoped }), plugins: [tenantPlugin(tenancy)] });
    const compiled = await tenancy.run('acme', () => kysely.selectFrom('products').select('name').orderBy('name').compile());
    expect(compiled.sql).toBe('select "name" from "products" order by "name"');
    const rows = await tenancy.run('globex', () => kysely.executeQuery(compiled));
    expect(rows.rows).toEqual([{ name: 'globex bolt' }, { name: 'globex nut' }]);
    const inserted = await tenancy.run('initech', () => kysely.insertInto('products').values({ name: 'initech gear' } as never).returning(['tenant_id']).executeTakeFirstOrThrow());
    expect(inserted).toEqual({ tenant_id: 'initech' });
  });

  it("deletes a tenant's rows from every tenant-scoped table, and no other tenant's", async () => {
    await admin.registry.create({ id: 'doomed' });
    await tenancy.run('doomed', () => scoped.query("INSERT INTO products (name) VALUES ('x'), ('y'), ('z')"));
    await admin.registry.delete('doomed');
    const left = await db.pool.query("SELECT tenant_id, count(*)::int AS n FROM products WHERE tenant_id IN ('doomed', 'acme') GROUP BY 1");
    expect(left.rows).toEqual([{ tenant_id: 'acme', n: 2 }]);
  });

  it('refuses to start as a role row-level security does not apply to, and reports tables that escape it', async () => {
    await expect(admin.check()).rejects.toBeInstanceOf(RowSecurityBypassedError);
    const before = (await tenancy.check()).checks.find((check) => check.name === 'row-level security');
    expect(before?.warnings).toEqual(['"notes": no index starts with its tenant column: lead the primary key and the indexes with it (docs/rls.md).']);
    await db.pool.query('CREATE TABLE invoices (tenant_id text NOT NULL, total int)');
    await db.pool.query('ALTER TABLE notes NO FORCE ROW LEVEL SECURITY');
    try {
      const report = await tenancy.check();
      const warnings = report.checks.find((check) => check.name === 'row-level security')?.warnings ?? [];
      expect(warnings.some((warning) => warning.includes('"invoices" has a tenant_id column but is not tenant-scoped'))).toBe(true);
      expect(warnings.some((warning) => warning.includes('"notes" does not force row-level security'))).toBe(true);
    } finally {
      await db.pool.query('DROP TABLE invoices');
      await db.pool.query('ALTER TABLE notes FORCE ROW LEVEL SECURITY');
    }
  });

  it("exports a row-level tenant for people: a file per tenant-scoped table, its rows only, no tenant column, as the owner or the app's login", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tenantry-rls-export-'));
    try {
      const json = await admin.exportTenant('acme', join(directory, 'json'));
      expect(json.tables).toEqual([
        { table: 'notes', file: 'notes.json', rows: 1 },
        { table: 'products', file: 'products.json', rows: 2 },
      ]);
      const products = JSON.parse(await readFile(join(directory, 'json', 'products.json'), 'utf8')) as { id: number; name: string }[];
      expect(products.map((row) => row.name).sort()).toEqual(await names('acme'));
      expect(Object.keys(products[0]!).sort()).toEqual(['id', 'name']);
      expect(JSON.parse(await readFile(join(directory, 'json', 'notes.json'), 'utf8'))).toEqual([{ id: expect.any(Number), body: 'acme note' }]);
      expect(JSON.parse(await readFile(join(directory, 'json', 'tenant.json'), 'utf8'))).toMatchObject({ id: 'acme', format: 'json' });

      // Through the app's login (neither superuser nor BYPASSRLS): the policies and the filter agree.
      const csv = await tenancy.exportTenant('globex', join(directory, 'csv'), { format: 'csv' });
      expect(csv.tables.map((table) => [table.file, table.rows])).toEqual([
        ['notes.csv', 1],
        ['products.csv', 2],
      ]);
      const lines = (await readFile(join(directory, 'csv', 'products.csv'), 'utf8')).trim().split('\n');
      expect(lines[0]).toBe('id,name');
      expect(lines.slice(1).map((line) => line.split(',')[1]).sort()).toEqual(['globex bolt', 'globex nut']);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('backs up a row-level tenant (its rows of the tenant-scoped tables, no tenant column), restores it after deletion, refuses a clone whose ids collide', async () => {
    const held = await rowCount('initech');
    const archive = await backupOf(admin, 'initech');
    expect(archive.summary.manifest).toMatchObject({ strategy: 'rls', kind: 'tenant', sequences: [] });
    expect(archive.summary.manifest.tables.map((table) => [table.name, table.columns])).toEqual([
      ['notes', ['id', 'body']],
      ['products', ['id', 'name']],
    ]);
    expect(archive.summary.rows).toBe(held);
    const before = await names('initech');
    await admin.registry.delete('initech');
    expect(await rowCount('initech')).toBe(0);

    const restored = await admin.restore(Readable.from([archive.bytes]));
    expect(restored).toMatchObject({ tenant: { id: 'initech' }, rows: held });
    expect(await names('initech')).toEqual(before);
    expect(await names('initech', 'SELECT body AS name FROM notes')).toEqual(['initech note']);
    expect(await names('acme')).toEqual(['acme bolt', 'acme nut']);

    // notes has a primary key without the tenant column: a copy under another id collides, and leaves nothing.
    await expect(admin.clone('initech', 'initech-copy')).rejects.toMatchObject({ code: 'TENANTRY_BACKUP_ARCHIVE' });
    expect(await admin.registry.get('initech-copy')).toBeUndefined();
    expect(await rowCount('initech-copy')).toBe(0);
    // A schema strategy's archive is refused by a row-level tenancy, and the other way round.
    const schemaTenancy = createTenancy({ pool: db.pool, sharedSchema: 'rls_other', migrations: { tenant: [] } });
    await expect(schemaTenancy.restore(Readable.from([archive.bytes]))).rejects.toThrow(/rls strategy/);
  });

  it('refuses tenant migrations, which the row-level strategy has no use for, and an unknown strategy', () => {
    expect(() => createTenancy({ pool: db.pool, strategy: 'rls', migrations: { tenant: [] } })).toThrow(InvalidConfigError);
    expect(() => createTenancy({ pool: db.pool, strategy: 'rows' as never })).toThrow(InvalidConfigError);
  });
});

describe("strategy: 'rls' with tenant roles", () => {
  const rolesDb = useTestDatabase();
  let tenancy: Tenancy;
  let admin: Tenancy;
  let appPool: pg.Pool;
  let scoped: TenantPool;
  const rows = async (id: string, text: string) =>
    tenancy.run(id, async () => {
      const result = (await scoped.query(text)) as unknown as pg.QueryResult<{ name: string }> | pg.QueryResult<{ name: string }>[];
      return (Array.isArray(result) ? result.at(-1)! : result).rows.map((row) => row.name);
    });

  beforeAll(async () => {
    const tenantRoles = { prefix: rolesDb.rolePrefix };
    admin = createTenancy({ pool: rolesDb.pool, strategy: 'rls', tenantRoles, migrations: { shared: SHARED_MIGRATIONS } });
    await admin.migrate.shared();
    for (const id of ['acme', 'globex']) await admin.registry.create({ id });
    const app = `${rolesDb.rolePrefix}app`;
    await rolesDb.pool.query(`CREATE ROLE "${app}" LOGIN PASSWORD 'app-password'; GRANT "${rolesDb.rolePrefix}login_group" TO "${app}"`);
    await rolesDb.pool.query(`GRANT SELECT ON tenantry_tenants, tenantry_domains TO "${app}"`);
    const url = new URL(rolesDb.url);
    url.username = app;
    url.password = 'app-password';
    appPool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    tenancy = createTenancy({ pool: appPool, strategy: 'rls', tenantRoles });
    scoped = tenantPool(tenancy, appPool);
    for (const id of ['acme', 'globex']) await tenancy.run(id, () => scoped.query('INSERT INTO products (name) VALUES ($1)', [`${id} bolt`]));
    return () => appPool.end();
  });

  it('runs each tenant as its role, and its rows stay its own', async () => {
    expect(await rows('acme', 'SELECT name FROM products')).toEqual(['acme bolt']);
    expect(await rows('globex', 'SELECT current_user AS name')).toEqual([`${rolesDb.rolePrefix}globex`]);
    expect(await rows('globex', 'SELECT name FROM products')).toEqual(['globex bolt']);
  });

  it("keeps a statement that moves the setting, or resets the role, from another tenant's rows", async () => {
    expect(await rows('acme', "SELECT set_config('tenantry.tenant_id', 'globex', false) AS name; SELECT name FROM products")).toEqual([]);
    // The login role holds no privilege on the tables: a permission error, never rows.
    await expect(rows('acme', 'RESET ROLE; SELECT name FROM products')).rejects.toMatchObject({ code: '42501' });
    await expect(
      tenancy.run('acme', () => scoped.query("SELECT set_config('tenantry.tenant_id', 'globex', false); INSERT INTO products (name) VALUES ('planted')")),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await rows('acme', 'SELECT name FROM products')).toEqual(['acme bolt']);
    expect(await rows('globex', 'SELECT name FROM products')).toEqual(['globex bolt']);
  });

  it('backs up a tenant as its role and restores it under its role, whatever the login role may see', async () => {
    const archive = await backupOf(admin, 'globex');
    expect(archive.summary.rows).toBe(1);
    await admin.registry.delete('globex');
    await admin.restore(Readable.from([archive.bytes]));
    expect(await rows('globex', 'SELECT name FROM products')).toEqual(['globex bolt']);
    expect(await rows('acme', 'SELECT name FROM products')).toEqual(['acme bolt']);
  });

  it("exports a tenant as its role: its rows, whatever the login role may see", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'tenantry-rls-export-'));
    try {
      const summary = await admin.exportTenant('acme', directory);
      expect(summary.tables.find((table) => table.table === 'products')).toEqual({ table: 'products', file: 'products.json', rows: 1 });
      expect(JSON.parse(await readFile(join(directory, 'products.json'), 'utf8'))).toEqual([{ id: expect.any(Number), name: 'acme bolt' }]);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('drops the role and its rows with the tenant', async () => {
    await admin.registry.create({ id: 'gone' });
    await tenancy.run('gone', () => scoped.query("INSERT INTO products (name) VALUES ('g')"));
    await admin.registry.delete('gone');
    const role = await rolesDb.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${rolesDb.rolePrefix}gone`]);
    expect(role.rowCount).toBe(0);
    expect((await rolesDb.pool.query("SELECT count(*)::int AS n FROM products WHERE tenant_id = 'gone'")).rows[0].n).toBe(0);
    expect((await rolesDb.pool.query("SELECT count(*)::int AS n FROM tenantry_tenant_roles WHERE tenant_id = 'gone'")).rows[0].n).toBe(0);
  });
});
