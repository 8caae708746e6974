/**
 * Temporary tables under tenantPlugin: PostgreSQL keeps them in the session's own `pg_temp`
 * schema and refuses `create temporary table "tenant_x"."node"`. The plugin leaves the created
 * name as written, and names a temporary table `"pg_temp"."node"` wherever the run that created
 * it refers to it again: in a transaction and on a plain connection, with and without
 * `on commit drop`, joined with tenant tables, in both `qualifiedPath` modes.
 */
import { type Generated, Kysely, PostgresDialect, type PostgresPool, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidConfigError, NoTenantError, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const database = useTestDatabase();

interface NodeTable {
  id: number;
  item_id: number;
  label: string;
}

interface Database {
  items: { id: Generated<number>; owner: string; note: string | null };
  plans: { id: string };
  node: NodeTable;
  scratch: { id: number };
  recent: { id: number; owner: string };
}

const MARK = ' /* tenantry: qualified */';

let tenancy: Tenancy;
let tenants: Tenant[];
/** One connection, so what a test leaves on it (or not) is what the next statement finds. */
let raw: pg.Pool;
const sent: string[] = [];
const dbs: Kysely<Database>[] = [];

function kysely(qualifiedPath: 'tenant' | 'shared', options: { temporaryTables?: readonly string[] } = {}): Kysely<Database> {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, raw) as unknown as PostgresPool }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'], qualifiedPath, ...options })],
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  dbs.push(db);
  return db;
}

/** Whether the one connection has a temporary table of that name. */
async function tempTableExists(name: string): Promise<boolean> {
  const { rows } = await tenancy.runShared(() => tenantPool(tenancy, raw).query<{ found: boolean }>('select to_regclass($1) is not null as found', [`pg_temp.${name}`]));
  return rows[0]!.found;
}

beforeAll(async () => {
  const made = await tenantsWithMarkers(database.pool, 2);
  tenancy = made.tenancy;
  tenants = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!));
  raw = new pg.Pool({ connectionString: database.url, max: 1 });
});

afterEach(() => {
  sent.length = 0;
});

afterAll(async () => {
  await raw?.end();
});

type Runner = (db: Kysely<Database>, work: (db: Kysely<Database>) => Promise<void>) => Promise<void>;

const WAYS: readonly (readonly [string, Runner, { onCommitDrop: boolean }])[] = [
  ['in a transaction, on commit drop', (db, work) => db.transaction().execute(work), { onCommitDrop: true }],
  ['in a transaction, dropped by hand', (db, work) => db.transaction().execute(work), { onCommitDrop: false }],
  ['on a plain connection, dropped by hand', (db, work) => db.connection().execute(work), { onCommitDrop: false }],
];

describe.each(['tenant', 'shared'] as const)('temporary tables (qualifiedPath %s)', (qualifiedPath) => {
  const mark = qualifiedPath === 'shared' ? MARK : '';

  it.each(WAYS)('creates, fills, reads and joins one %s', async (_name, runner, { onCommitDrop }) => {
    const db = kysely(qualifiedPath);
    for (const tenant of tenants) {
      const s = `"${tenant.schema}"`;
      sent.length = 0;
      const found = await tenancy.runTenant(tenant, async () => {
        let rows: unknown[] = [];
        await runner(db, async (on) => {
          let create = on.schema
            .createTable('node')
            .temporary()
            .addColumn('id', 'integer', (c) => c.primaryKey())
            .addColumn('item_id', 'integer', (c) => c.notNull())
            .addColumn('label', 'text', (c) => c.notNull());
          if (onCommitDrop) create = create.onCommit('drop');
          await create.execute();
          await on
            .insertInto('node')
            .values([
              { id: 1, item_id: 1, label: `${tenant.id}-a` },
              { id: 2, item_id: 999, label: `${tenant.id}-b` },
            ])
            .execute();
          const all = await on.selectFrom('node').select(['id', 'label']).orderBy('id').execute();
          const joined = await on
            .selectFrom('node')
            .innerJoin('items', 'items.id', 'node.item_id')
            .select(['node.label', 'items.owner'])
            .orderBy('node.id')
            .execute();
          if (!onCommitDrop) await on.schema.dropTable('node').execute();
          rows = [all, joined];
        });
        return rows;
      });
      expect(found).toEqual([
        [
          { id: 1, label: `${tenant.id}-a` },
          { id: 2, label: `${tenant.id}-b` },
        ],
        [{ label: `${tenant.id}-a`, owner: tenant.id }],
      ]);
      const statements = sent.filter((text) => !/^(begin|commit|rollback)$/i.test(text));
      expect(statements).toEqual([
        `create temporary table "node" ("id" integer primary key, "item_id" integer not null, "label" text not null)${onCommitDrop ? ' on commit drop' : ''}`,
        `insert into "pg_temp"."node" ("id", "item_id", "label") values ($1, $2, $3), ($4, $5, $6)${mark}`,
        `select "id", "label" from "pg_temp"."node" order by "id"${mark}`,
        `select "pg_temp"."node"."label", ${s}."items"."owner" from "pg_temp"."node" inner join ${s}."items" on ${s}."items"."id" = "pg_temp"."node"."item_id" order by "pg_temp"."node"."id"${mark}`,
        ...(onCommitDrop ? [] : ['drop table "pg_temp"."node"']),
      ]);
      // Dropped either way: nothing is left on the connection for the next tenant.
      expect(await tempTableExists('node')).toBe(false);
    }
  });

  it('knows a temporary table for the rest of the run that created it, and no longer', async () => {
    const db = kysely(qualifiedPath);
    const [tenant] = tenants;
    const s = `"${tenant!.schema}"`;
    await tenancy.runTenant(tenant!, async () => {
      expect(db.selectFrom('node').select('id').compile().sql).toBe(`select "id" from ${s}."node"${mark}`);
      await db.transaction().execute(async (trx) => {
        await trx.schema.createTable('node').temporary().onCommit('drop').addColumn('id', 'integer').execute();
        // Known to the same run outside the transaction's own builder too (same name, same run).
        expect(db.selectFrom('node').select('id').compile().sql).toBe(`select "id" from "pg_temp"."node"${mark}`);
      });
    });
    // Another run (another request) has not created it: the name is the tenant's again.
    await tenancy.runTenant(tenant!, async () => {
      expect(db.selectFrom('node').select('id').compile().sql).toBe(`select "id" from ${s}."node"${mark}`);
    });
  });

  it("shadows a tenant table of the same name for the run, as PostgreSQL's own pg_temp does", async () => {
    const db = kysely(qualifiedPath);
    const [tenant] = tenants;
    const owners = await tenancy.runTenant(tenant!, () =>
      db.transaction().execute(async (trx) => {
        await trx.schema.createTable('items').temporary().onCommit('drop').addColumn('id', 'integer').addColumn('owner', 'text').execute();
        await trx.insertInto('items').values({ id: 7, owner: 'temporary' }).execute();
        return trx.selectFrom('items').select('owner').execute();
      }),
    );
    expect(owners).toEqual([{ owner: 'temporary' }]);
    // The tenant's own table is untouched, and its name is the tenant's again in the next run.
    const { rows } = await database.pool.query(`SELECT owner FROM "${tenant!.schema}".items`);
    expect(rows).toEqual([{ owner: tenant!.id }]);
    expect(await tenancy.runTenant(tenant!, () => db.selectFrom('items').select('owner').execute())).toEqual([{ owner: tenant!.id }]);
  });

  it('needs no tenant: a temporary table in tenancy.runShared, joined with a shared table', async () => {
    const db = kysely(qualifiedPath);
    const rows = await tenancy.runShared(() =>
      db.transaction().execute(async (trx) => {
        await trx.schema.createTable('node').temporary().onCommit('drop').addColumn('id', 'integer').addColumn('item_id', 'integer').addColumn('label', 'text').execute();
        await trx.insertInto('node').values({ id: 1, item_id: 0, label: 'free' }).execute();
        return trx.selectFrom('node').innerJoin('plans', 'plans.id', 'node.label').select(['node.id', 'plans.id as plan']).execute();
      }),
    );
    expect(rows).toEqual([{ id: 1, plan: 'free' }]);
    expect(sent.filter((text) => text.includes('plans'))).toEqual([
      `select "pg_temp"."node"."id", "plans"."id" as "plan" from "pg_temp"."node" inner join "plans" on "plans"."id" = "pg_temp"."node"."label"${mark}`,
    ]);
  });

  it('takes the temporaryTables option for tables created another way, and pg_temp written out', async () => {
    const db = kysely(qualifiedPath, { temporaryTables: ['scratch'] });
    const [tenant] = tenants;
    const rows = await tenancy.runTenant(tenant!, () =>
      db.transaction().execute(async (trx) => {
        await sql`create temporary table scratch (id integer) on commit drop`.execute(trx);
        await trx.insertInto('scratch').values({ id: 3 }).execute();
        const listed = await trx.selectFrom('scratch').select('id').execute();
        const written = await trx.selectFrom('pg_temp.scratch' as 'scratch').select('id').execute();
        return [...listed, ...written];
      }),
    );
    expect(rows).toEqual([{ id: 3 }, { id: 3 }]);
    expect(sent).toContain(`select "id" from "pg_temp"."scratch"${mark}`);
    // Listed names are temporary in every run, with or without a tenant.
    expect(db.selectFrom('scratch').select('id').compile().sql).toBe(`select "id" from "pg_temp"."scratch"${mark}`);
  });

  it('leaves temporary views, and tables made temporary with modifyFront, unqualified too', async () => {
    const db = kysely(qualifiedPath);
    const [tenant] = tenants;
    const s = `"${tenant!.schema}"`;
    const rows = await tenancy.runTenant(tenant!, () =>
      db.transaction().execute(async (trx) => {
        const view = trx.schema.createView('recent').temporary().as(trx.selectFrom('items').select(['id', 'owner']));
        expect(view.compile().sql).toBe(`create temporary view "recent" as select "id", "owner" from ${s}."items"`);
        await view.execute();
        const fromView = await trx.selectFrom('recent').select('owner').execute();
        await trx.schema.dropView('recent').execute();
        const table = trx.schema.createTable('scratch').modifyFront(sql`temporary`).addColumn('id', 'integer').onCommit('drop');
        expect(table.compile().sql).toBe('create temporary table "scratch" ("id" integer) on commit drop');
        await table.execute();
        await trx.insertInto('scratch').values({ id: 5 }).execute();
        return [...fromView, ...(await trx.selectFrom('scratch').select('id').execute())];
      }),
    );
    expect(rows).toEqual([{ owner: tenant!.id }, { id: 5 }]);
    expect(sent).toContain(`select "owner" from "pg_temp"."recent"${mark}`);
    expect(sent).toContain('drop view "pg_temp"."recent"');
    expect(sent).toContain(`insert into "pg_temp"."scratch" ("id") values ($1)${mark}`);
  });

  it('compiles a temporary table with no tenant active; a tenant table still needs one', () => {
    const db = kysely(qualifiedPath);
    expect(db.schema.createTable('node').temporary().addColumn('id', 'integer').compile().sql).toBe('create temporary table "node" ("id" integer)');
    expect(() => db.selectFrom('items').selectAll().compile()).toThrow(NoTenantError);
  });
});

describe('tenantPlugin options for temporary tables', () => {
  it('refuses a name listed as both shared and temporary', () => {
    expect(() => tenantPlugin(tenancy, { sharedTables: ['plans'], temporaryTables: ['plans'] })).toThrow(InvalidConfigError);
  });
});
