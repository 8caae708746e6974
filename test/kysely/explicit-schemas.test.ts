/**
 * Explicit schemas and tenantPlugin: a schema the query names, or one Kysely's `withSchema` (a
 * WithSchemaPlugin run before tenantPlugin) writes, stays; tables listed in `searchPathTables`
 * are left for a WithSchemaPlugin that runs after tenantPlugin (Kysely's Migrator adds one), or
 * for the search_path. The schemas tenantPlugin writes itself are decided at the outermost
 * statement, for the scope active when it is compiled. And what a plugin cannot know: what a
 * plugin after it will do, or where a subquery it transformed will end up.
 */
import { Kysely, PostgresDialect, type PostgresPool, WithSchemaPlugin } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError, NoTenantError, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPlugin, type TenantPluginOptions } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const database = useTestDatabase();

interface Database {
  items: { id: number; owner: string; note: string | null };
  plans: { id: string };
  lock: { id: string; is_locked: number };
  pet: { name: string; species: string };
  kysely_migration: { name: string; timestamp: string };
}

const MARK = ' /* tenantry: qualified */';

let tenancy: Tenancy;
let tenants: Tenant[];
let raw: pg.Pool;
const dbs: Kysely<Database>[] = [];

function kysely(qualifiedPath: 'tenant' | 'shared', options: Omit<TenantPluginOptions, 'qualifiedPath'> = {}): Kysely<Database> {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, raw) as unknown as PostgresPool }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'], qualifiedPath, ...options })],
  });
  dbs.push(db);
  return db;
}

beforeAll(async () => {
  const made = await tenantsWithMarkers(database.pool, 2);
  tenancy = made.tenancy;
  tenants = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!));
  raw = new pg.Pool({ connectionString: database.url, max: 2 });
  await database.pool.query(`
    CREATE SCHEMA mammals;
    CREATE TABLE mammals.pet (name text, species text);
    INSERT INTO mammals.pet VALUES ('rex', 'dog'), ('tom', 'cat');
    CREATE SCHEMA migrate;
    CREATE TABLE migrate.lock (id text PRIMARY KEY, is_locked integer NOT NULL DEFAULT 0);
    INSERT INTO migrate.lock VALUES ('migration_lock', 0);
  `);
});

afterAll(async () => {
  await raw?.end();
});

describe.each(['tenant', 'shared'] as const)('explicit schemas under tenantPlugin (qualifiedPath %s)', (qualifiedPath) => {
  const mark = qualifiedPath === 'shared' ? MARK : '';

  it('keeps the schema withSchema writes, in a tenant, in runShared and with none active', async () => {
    const db = kysely(qualifiedPath);
    const query = db
      .withSchema('migrate')
      .selectFrom('lock')
      .select('is_locked')
      .where('id', 'in', (eb) => eb.selectFrom('lock').select('id'));
    const expected = `select "is_locked" from "migrate"."lock" where "id" in (select "id" from "migrate"."lock")${mark}`;
    expect(query.compile().sql).toBe(expected);
    expect(tenancy.runTenant(tenants[0]!, () => query.compile().sql)).toBe(expected);
    expect(await tenancy.runTenant(tenants[0]!, () => query.execute())).toEqual([{ is_locked: 0 }]);
    expect(await tenancy.runShared(() => query.execute())).toEqual([{ is_locked: 0 }]);
  });

  it('keeps the schema of a WithSchemaPlugin listed before tenantPlugin', () => {
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, raw) as unknown as PostgresPool }),
      plugins: [new WithSchemaPlugin('migrate'), tenantPlugin(tenancy, { qualifiedPath })],
    });
    dbs.push(db);
    expect(db.selectFrom('lock').select('id').compile().sql).toBe(`select "id" from "migrate"."lock"${mark}`);
  });

  it("leaves searchPathTables to a WithSchemaPlugin added after tenantPlugin, and to the search_path without one", async () => {
    const db = kysely(qualifiedPath, { searchPathTables: ['lock'] });
    const locks = db.withPlugin(new WithSchemaPlugin('migrate')).selectFrom('lock').select('is_locked');
    // The statement names a table tenantPlugin left unqualified, so it is not marked.
    expect(locks.compile().sql).toBe('select "is_locked" from "migrate"."lock"');
    expect(await tenancy.runTenant(tenants[1]!, () => locks.execute())).toEqual([{ is_locked: 0 }]);
    expect(await tenancy.runShared(() => locks.execute())).toEqual([{ is_locked: 0 }]);
    // With no WithSchemaPlugin the name is left as written, for the connection's search_path.
    expect(tenancy.runTenant(tenants[1]!, () => db.selectFrom('lock').select('id').compile().sql)).toBe('select "id" from "lock"');
    // Kysely's Migrator tables are listed already.
    expect(db.withPlugin(new WithSchemaPlugin('meta')).selectFrom('kysely_migration').select('name').compile().sql).toBe(
      'select "name" from "meta"."kysely_migration"',
    );
  });

  it('builds a subquery for a withSchema statement from the same withSchema instance', async () => {
    const db = kysely(qualifiedPath);
    const mammals = db.withSchema('mammals');
    const view = mammals.schema.createView('dogs').as(mammals.selectFrom('pet').select('name').where('species', '=', 'dog'));
    expect(view.compile().sql).toBe(`create view "mammals"."dogs" as select "name" from "mammals"."pet" where "species" = 'dog'`);
    await tenancy.runTenant(tenants[0]!, () => view.execute());
    const { rows } = await database.pool.query('SELECT name FROM mammals.dogs');
    expect(rows).toEqual([{ name: 'rex' }]);
    await database.pool.query('DROP VIEW mammals.dogs');
  });

  it('decides the schemas it wrote itself at the outer statement: a builder made for one tenant and compiled for another', async () => {
    const db = kysely(qualifiedPath);
    const [first, second] = tenants as [Tenant, Tenant];
    // The subquery went through the plugin when it was embedded, in the first tenant's run.
    const query = tenancy.runTenant(first, () =>
      db
        .selectFrom('items')
        .select('owner')
        .where('id', 'in', db.selectFrom('items').select('id')),
    );
    const sql = tenancy.runTenant(second, () => query.compile().sql);
    expect(sql).toBe(`select "owner" from "${second.schema}"."items" where "id" in (select "id" from "${second.schema}"."items")${mark}`);
    expect(await tenancy.runTenant(second, () => query.execute())).toEqual([{ owner: second.id }]);
    // With no tenant active it is refused, like any tenant table.
    expect(() => query.compile()).toThrow(NoTenantError);
    // An explicit schema in the same place stays.
    const explicit = tenancy.runTenant(first, () => db.selectFrom('items').select('owner').where('id', 'in', db.withSchema(first.schema).selectFrom('items').select('id')));
    expect(tenancy.runTenant(second, () => explicit.compile().sql)).toContain(`(select "id" from "${first.schema}"."items")`);
  });

  describe('what a plugin cannot know (documented limits)', () => {
    it('cannot leave a name it does not know for a WithSchemaPlugin that runs after it', () => {
      const db = kysely(qualifiedPath);
      const [tenant] = tenants;
      // tenantPlugin runs first and writes the tenant's schema; Kysely's WithSchemaPlugin then
      // leaves a qualified name alone. List the name in searchPathTables, or use withSchema.
      expect(tenancy.runTenant(tenant!, () => db.withPlugin(new WithSchemaPlugin('migrate')).selectFrom('lock').select('id').compile().sql)).toBe(
        `select "id" from "${tenant!.schema}"."lock"${mark}`,
      );
      expect(tenancy.runTenant(tenant!, () => db.withSchema('migrate').selectFrom('lock').select('id').compile().sql)).toBe(`select "id" from "migrate"."lock"${mark}`);
    });

    it('cannot tell a subquery from a statement: one built from db keeps the tenant under an outer withSchema', () => {
      const db = kysely(qualifiedPath);
      const [tenant] = tenants;
      const view = tenancy.runTenant(tenant!, () => db.schema.withSchema('mammals').createView('dogs').as(db.selectFrom('pet').select('name')).compile().sql);
      expect(view).toBe(`create view "mammals"."dogs" as select "name" from "${tenant!.schema}"."pet"`);
    });
  });
});

describe('tenantPlugin searchPathTables', () => {
  it('refuses a name listed as both shared and left to the search_path', () => {
    expect(() => tenantPlugin(tenancy, { sharedTables: ['lock'], searchPathTables: ['lock'] })).toThrow(InvalidConfigError);
    expect(() => tenantPlugin(tenancy, { temporaryTables: ['lock'], searchPathTables: ['lock'] })).toThrow(InvalidConfigError);
  });

  it("lets sharedTables take Kysely's Migrator tables over", () => {
    const db = kysely('shared', { sharedTables: ['kysely_migration'] });
    expect(db.selectFrom('kysely_migration').select('name').compile().sql).toBe(`select "name" from "kysely_migration"${MARK}`);
  });
});
