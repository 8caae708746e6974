import { type Generated, Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, MigrationFailedError, NoTenantError, type Tenancy, TenantExistsError } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { dropRoles, serverQuery, serverUrl, useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();
/** Tenant databases are named after their schemas: this file's own prefix, dropped after it. */
const PREFIX = `tdb${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}_`;
const BUDGET = 8;

type Client = { query(text: string): Promise<unknown> };
const TENANT_MIGRATIONS = [
  { name: '001_products', checksum: '1', up: (client: Client) => client.query('CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL)') },
];
const SHARED_MIGRATIONS = [{ name: '001_plans', checksum: '1', up: (client: Client) => client.query(`CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free')`) }];


async function databases(): Promise<string[]> {
  return (await serverQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname', [PREFIX])).map((row) => row.datname);
}

async function comment(database: string): Promise<string | null | undefined> {
  return (await serverQuery<{ note: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [database]))[0]?.note;
}

function tenancyWith(tenantMigrations: readonly unknown[], extra: Partial<Parameters<typeof createTenancy>[0]> = {}): Tenancy {
  return createTenancy({
    pool: db.pool,
    strategy: 'database',
    schemaPrefix: PREFIX,
    databases: { maxConnections: BUDGET },
    migrations: { shared: SHARED_MIGRATIONS, tenant: tenantMigrations as typeof TENANT_MIGRATIONS },
    ...extra,
  });
}

afterAll(async () => {
  for (const name of await databases()) await serverQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await dropRoles(PREFIX);
});

describe("strategy: 'database'", () => {
  let tenancy: Tenancy;
  let scoped: TenantPool;

  beforeAll(async () => {
    tenancy = tenancyWith(TENANT_MIGRATIONS);
    await tenancy.migrate.shared();
    for (const id of ['acme', 'globex']) await tenancy.registry.create({ id });
    scoped = tenantPool(tenancy, db.pool);
    return () => tenancy.close();
  });

  it('provisions a database per tenant, named after its schema, migrated in that schema and not marked unfinished', async () => {
    expect(await databases()).toEqual([`${PREFIX}acme`, `${PREFIX}globex`]);
    expect(await comment(`${PREFIX}acme`)).toBeNull();
    const tables = await tenancy.run('acme', async () => (await scoped.query<{ t: string }>(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)).rows);
    expect(tables.map((row) => row.t)).toEqual([`${PREFIX}acme.products`, `${PREFIX}acme.tenantry_migrations`]);
    expect((await tenancy.registry.get('acme'))?.migrationVersion).toBe('001_products');
  });

  it("runs each tenant's queries in its database, the shared scope in the registry's, and refuses a query with no tenant", async () => {
    for (const id of ['acme', 'globex']) {
      await tenancy.run(id, () => scoped.query('INSERT INTO products (name) VALUES ($1)', [`${id} bolt`]));
    }
    for (const id of ['acme', 'globex']) {
      const { rows } = await tenancy.run(id, () => scoped.query<{ db: string; name: string }>('SELECT current_database() AS db, name FROM products'));
      expect(rows).toEqual([{ db: `${PREFIX}${id}`, name: `${id} bolt` }]);
    }
    const shared = await tenancy.runShared(() => scoped.query<{ db: string; n: number }>('SELECT current_database() AS db, count(*)::int AS n FROM plans'));
    expect(shared.rows).toEqual([{ db: db.database.name, n: 1 }]);
    await expect(scoped.query('SELECT 1')).rejects.toBeInstanceOf(NoTenantError);
    await expect(scoped.connect()).rejects.toBeInstanceOf(NoTenantError);
  });

  it("keeps a tenant from another's rows even with the other's schema named outright", async () => {
    const escaped = tenancy.run('acme', () => scoped.query(`SELECT name FROM "${PREFIX}globex".products`));
    await expect(escaped).rejects.toMatchObject({ code: '42P01' });
    const inGlobex = await tenancy.run('globex', async () => {
      const client = await scoped.connect();
      try {
        return (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
      } finally {
        client.release();
      }
    });
    expect(inGlobex).toBe(`${PREFIX}globex`);
  });

  it('routes Kysely with tenantPlugin to the tenant database', async () => {
    // Kysely's destroy() ends the pool it was given: a pool of its own.
    const own = new pg.Pool({ connectionString: db.url, max: 2 });
    const kysely = new Kysely<{ products: { id: Generated<number>; name: string } }>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, own) as unknown as PostgresPool }),
      plugins: [tenantPlugin(tenancy)],
    });
    try {
      await tenancy.run('globex', () => kysely.insertInto('products').values({ name: 'globex nut' }).execute());
      const names = await tenancy.run('globex', () => kysely.selectFrom('products').select('name').orderBy('name').execute());
      expect(names.map((row) => row.name)).toEqual(['globex bolt', 'globex nut']);
      const acme = await tenancy.run('acme', () => kysely.selectFrom('products').select('name').execute());
      expect(acme.map((row) => row.name)).toEqual(['acme bolt']);
    } finally {
      await kysely.destroy();
    }
  });

  it("migrates each tenant's database with migrate.tenants()", async () => {
    const next = tenancyWith([
      ...TENANT_MIGRATIONS,
      { name: '002_sku', checksum: '1', up: (client: Client) => client.query('ALTER TABLE products ADD COLUMN sku text') },
    ]);
    try {
      const report = await next.migrate.tenants({ concurrency: 2 });
      expect(report.failed).toEqual([]);
      const columns = await next.run('globex', () =>
        tenantPool(next, db.pool).query<{ c: string }>(`SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'products' ORDER BY 1`),
      );
      expect(columns.rows.map((row) => row.c)).toEqual(['id', 'name', 'sku']);
    } finally {
      await next.close();
    }
  });

  it('leaves no database and no registry row when a tenant migration fails', async () => {
    const failing = tenancyWith([...TENANT_MIGRATIONS, { name: '002_broken', checksum: '1', up: (client: Client) => client.query('SELECT * FROM no_such_table') }]);
    try {
      await expect(failing.registry.create({ id: 'broken' })).rejects.toBeInstanceOf(MigrationFailedError);
      expect(await databases()).not.toContain(`${PREFIX}broken`);
      expect(await failing.registry.get('broken')).toBeUndefined();
    } finally {
      await failing.close();
    }
  });

  it('drops and redoes an unfinished leftover database of a crashed attempt', async () => {
    await serverQuery(`CREATE DATABASE "${PREFIX}crashed"`);
    await serverQuery(`COMMENT ON DATABASE "${PREFIX}crashed" IS 'tenantry:unfinished'`);
    const leftover = new pg.Client({ connectionString: databaseUrl(`${PREFIX}crashed`) });
    await leftover.connect();
    await leftover.query('CREATE TABLE half_done (id int)');
    await leftover.end();

    await tenancy.registry.create({ id: 'crashed' });
    expect(await comment(`${PREFIX}crashed`)).toBeNull();
    const tables = await tenancy.run('crashed', async () => (await scoped.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)).rows);
    expect(tables.map((row) => row.t)).toEqual(['products', 'tenantry_migrations']);
  });

  it('refuses a database of that name that is not an unfinished leftover, and leaves it alone', async () => {
    await serverQuery(`CREATE DATABASE "${PREFIX}taken"`);
    await expect(tenancy.registry.create({ id: 'taken' })).rejects.toBeInstanceOf(TenantExistsError);
    expect(await databases()).toContain(`${PREFIX}taken`);
    expect(await tenancy.registry.get('taken')).toBeUndefined();
  });

  it("drops the tenant's database with registry.delete(id, { dropSchema: true })", async () => {
    await tenancy.registry.create({ id: 'short-lived' });
    await tenancy.run('short-lived', () => scoped.query('SELECT 1'));
    expect(await databases()).toContain(`${PREFIX}short_lived`);
    await tenancy.registry.delete('short-lived', { dropSchema: true });
    expect(await databases()).not.toContain(`${PREFIX}short_lived`);
  });

  it('refuses what the database strategy does not do', () => {
    expect(() => createTenancy({ strategy: 'database' })).toThrow(InvalidConfigError);
    expect(() => createTenancy({ pool: db.pool, strategy: 'database', spares: { count: 2 } })).toThrow(InvalidConfigError);
    expect(() => createTenancy({ pool: db.pool, databases: { maxConnections: 4 } })).toThrow(InvalidConfigError);
    expect(() => createTenancy({ pool: db.pool, strategy: 'database', databases: { maxConnections: 0 } })).toThrow(InvalidConfigError);
  });
});

describe("strategy: 'database' with tenant roles", () => {
  it("runs a tenant's queries as its role inside its database, and drops database and role with the tenant", async () => {
    const tenancy = tenancyWith(TENANT_MIGRATIONS, { tenantRoles: { prefix: db.rolePrefix } });
    try {
      await tenancy.migrate.shared();
      await tenancy.registry.create({ id: 'roled' });
      const scoped = tenantPool(tenancy, db.pool);
      const { rows } = await tenancy.run('roled', () => scoped.query<{ db: string; who: string; n: number }>('SELECT current_database() AS db, current_user AS who, count(*)::int AS n FROM products'));
      expect(rows).toEqual([{ db: `${PREFIX}roled`, who: `${db.rolePrefix}roled`, n: 0 }]);
      await tenancy.registry.delete('roled', { dropSchema: true });
      expect(await databases()).not.toContain(`${PREFIX}roled`);
      expect(await serverQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${db.rolePrefix}roled`])).toEqual([]);
    } finally {
      await tenancy.close();
    }
  });
});

function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
