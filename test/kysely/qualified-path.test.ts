/**
 * `tenantPlugin({ qualifiedPath: 'shared' })`: statements the plugin qualified completely run
 * with the shared search_path, so a connection serving many tenants does not switch its path per
 * statement; raw SQL still gets the tenant's path; and nothing ever resolves through another
 * tenant's schema.
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

interface Database {
  items: { id: Generated<number>; owner: string; note: string | null };
  plans: { id: string };
}

const MARK = ' /* tenantry: qualified */';

let tenancy: Tenancy;
let tenants: Tenant[];
let raw: pg.Pool;
/** The SET statements written on `raw`'s connections, by any protocol. */
const sets: string[] = [];
const sent: string[] = [];
const dbs: Kysely<Database>[] = [];

function kysely(qualifiedPath?: 'tenant' | 'shared'): Kysely<Database> {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, raw) as unknown as PostgresPool }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'], ...(qualifiedPath ? { qualifiedPath } : {}) })],
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
  dbs.push(db);
  return db;
}

const currentPath = (db: Kysely<Database>): Promise<string> =>
  db
    .selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('search_path')]).as('path'))
    .executeTakeFirstOrThrow()
    .then((row) => row.path);

beforeAll(async () => {
  // The mark is honoured with tenant roles only: the role keeps a marked statement out of other tenants' schemas.
  const made = await tenantsWithMarkers(database.pool, 3, { tenantRoles: { prefix: database.rolePrefix } });
  tenancy = made.tenancy;
  tenants = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!));
  // A function in the first tenant's schema only.
  await database.pool.query(`CREATE FUNCTION "${tenants[0]!.schema}".whoami() RETURNS text LANGUAGE sql AS $$ SELECT 'tenant-0' $$`);
  // One connection: every tenant takes turns on it.
  raw = new pg.Pool({ connectionString: database.url, max: 1 });
  raw.on('connect', (client) => {
    const connection = (client as unknown as { connection: { parse: (q: { text: string }) => void; query: (text: string) => void } }).connection;
    const parse = connection.parse.bind(connection);
    const query = connection.query.bind(connection);
    connection.parse = (q) => {
      if (/^SET\b/.test(q.text)) sets.push(q.text);
      parse(q);
    };
    connection.query = (text) => {
      for (const statement of text.split(';')) if (/^SET\b/.test(statement)) sets.push(statement);
      query(text);
    };
  });
});

afterEach(() => {
  sets.length = 0;
  sent.length = 0;
});

afterAll(async () => {
  await raw?.end();
});

describe("tenantPlugin({ qualifiedPath: 'shared' })", () => {
  it('marks the statements it qualified completely, and only those', async () => {
    const shared = kysely('shared');
    const plain = kysely();
    await tenancy.runTenant(tenants[0]!, async () => {
      const select = shared.selectFrom('items').select(['id', 'owner']).where('id', '=', 1);
      expect(select.compile().sql).toBe(`select "id", "owner" from "${tenants[0]!.schema}"."items" where "id" = $1${MARK}`);
      expect(shared.updateTable('items').set({ note: 'x' }).where('id', '=', 1).compile().sql).toMatch(/ \/\* tenantry: qualified \*\/$/);
      expect(shared.insertInto('items').values({ owner: 'x' }).returning('id').compile().sql.endsWith(MARK)).toBe(true);
      expect(shared.deleteFrom('items').where('id', '<', 0).compile().sql.endsWith(MARK)).toBe(true);
      // Kysely's own keyword fragments are not raw SQL; lock clauses stay ahead of the mark.
      expect(shared.selectFrom('items').select('id').orderBy('id', 'desc').forUpdate().skipLocked().compile().sql).toBe(
        `select "id" from "${tenants[0]!.schema}"."items" order by "id" desc for update skip locked${MARK}`,
      );
      // A subquery built on its own went through the plugin first: only the outermost statement is marked.
      const nested = shared
        .selectFrom('items')
        .select('id')
        .where('id', 'in', shared.selectFrom('items').select('id').where('owner', '=', 'x'))
        .union(shared.selectFrom('items').select('id'))
        .compile().sql;
      expect(nested.indexOf(MARK)).toBe(nested.length - MARK.length);
      // Values are not SQL text: sql.lit, sql.val and a lone `${value}` keep the mark; an identifier does not.
      const withValues = shared
        .selectFrom('items')
        .select([sql.lit(1).as('one'), sql<string>`${'x'}`.as('x')])
        .where('owner', '=', sql.val('x'))
        .compile().sql;
      expect(withValues).toBe(`select 1 as "one", $1 as "x" from "${tenants[0]!.schema}"."items" where "owner" = $2${MARK}`);
      expect(shared.selectFrom('items').select(sql.id('owner').as('o')).compile().sql).not.toContain(MARK);
      expect(shared.selectFrom('items').select(sql`${sql.raw('owner')}`.as('o')).compile().sql).not.toContain(MARK);
      // Raw SQL anywhere in the statement: the tenant's path covers it, so no mark.
      expect(shared.selectFrom('items').select('id').where(sql<boolean>`owner = current_user`).compile().sql).not.toContain(MARK);
      expect(shared.selectFrom('items').select('id').modifyEnd(sql`for share`).compile().sql).not.toContain(MARK);
      // The default leaves every statement as it was.
      expect(plain.selectFrom('items').select('id').compile().sql).not.toContain(MARK);
      await sql`select 1`.execute(shared);
      expect(sent).toEqual(['select 1']);
    });
  });

  it("runs a marked statement with the shared search_path, raw SQL and the default with the tenant's", async () => {
    const shared = kysely('shared');
    const plain = kysely();
    // As PostgreSQL reports them: names that need no quotes lose them.
    const sharedPath = `${tenancy.sharedSchema}, pg_temp`;
    await tenancy.runTenant(tenants[1]!, async () => {
      const tenantPath = `${tenants[1]!.schema}, ${tenancy.sharedSchema}, pg_temp`;
      expect(await currentPath(shared)).toBe(sharedPath);
      const { rows } = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(shared);
      expect(rows).toEqual([{ path: tenantPath }]);
      expect(await currentPath(plain)).toBe(tenantPath);
      // Marked statements still read the tenant's own rows, and shared tables from the shared schema.
      expect(await shared.selectFrom('items').select('owner').execute()).toEqual([{ owner: 'tenant-1' }]);
      expect(await shared.selectFrom('plans').select('id').execute()).toEqual([{ id: 'free' }]);
    });
  });

  it("never resolves a marked statement through another tenant's schema", async () => {
    const shared = kysely('shared');
    const whoami = (db: Kysely<Database>): Promise<unknown> => db.selectNoFrom((eb) => eb.fn<string>('whoami').as('me')).execute();
    // tenant-0's raw query leaves the one connection on tenant-0's path…
    const { rows } = await tenancy.runTenant(tenants[0]!, () => sql<{ me: string }>`select whoami() as me`.execute(shared));
    expect(rows).toEqual([{ me: 'tenant-0' }]);
    // …and tenant-1's marked statement does not find tenant-0's function there.
    await expect(tenancy.runTenant(tenants[1]!, () => whoami(shared))).rejects.toMatchObject({ code: '42883' });
    // The documented price: the tenant's own unqualified function is not found either.
    await expect(tenancy.runTenant(tenants[0]!, () => whoami(shared))).rejects.toMatchObject({ code: '42883' });
    expect(await tenancy.runTenant(tenants[0]!, () => whoami(kysely()))).toEqual([{ me: 'tenant-0' }]);
  });

  it('runs every marked statement on the shared path, switching the role with the tenant', async () => {
    const shared = kysely('shared');
    const plain = kysely();
    const read = (db: Kysely<Database>, tenant: Tenant): Promise<unknown> =>
      tenancy.runTenant(tenant, () => db.selectFrom('items').select('owner').execute());
    const order = Array.from({ length: 12 }, (_, i) => tenants[i % tenants.length]!);

    for (const tenant of order) expect(await read(shared, tenant)).toEqual([{ owner: tenant.id }]);
    // Every marked statement ran on the shared path; the tenant's role changes with the tenant, in the same exchange.
    expect(new Set(sets.filter((set) => set.startsWith('SET search_path')))).toEqual(new Set([`SET search_path TO "${tenancy.sharedSchema}", pg_temp`]));
    expect(sets.filter((set) => set.startsWith('SET ROLE'))).toHaveLength(order.length);

    sets.length = 0;
    for (const tenant of order) expect(await read(plain, tenant)).toEqual([{ owner: tenant.id }]);
    expect(sets.filter((set) => set.startsWith('SET search_path'))).toHaveLength(order.length);
  });

  it('mixes marked and raw statements in one transaction, each with its own path', async () => {
    const shared = kysely('shared');
    const owners = await tenancy.runTenant(tenants[2]!, () =>
      shared.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ owner: 'tenant-2', note: 'in trx' }).execute();
        const viaRaw = await sql<{ owner: string }>`select owner from items where note = 'in trx'`.execute(trx);
        const viaBuilder = await trx.selectFrom('items').select('owner').where('note', '=', 'in trx').execute();
        await trx.deleteFrom('items').where('note', '=', 'in trx').execute();
        return [...viaRaw.rows, ...viaBuilder];
      }),
    );
    expect(owners).toEqual([{ owner: 'tenant-2' }, { owner: 'tenant-2' }]);
    const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM "${tenants[2]!.schema}".items WHERE note = 'in trx'`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('refuses an unknown qualifiedPath', () => {
    expect(() => tenantPlugin(tenancy, { qualifiedPath: 'none' as 'shared' })).toThrow(InvalidConfigError);
  });
});

describe('tenantPool and the mark', () => {
  it('runs any statement that ends with the mark with the shared search_path', async () => {
    const db = tenantPool(tenancy, raw);
    const { rows } = await tenancy.runTenant(tenants[0]!, () => db.query(`select current_setting('search_path') as path${MARK}`));
    expect(rows).toEqual([{ path: `${tenancy.sharedSchema}, pg_temp` }]);
    // The mark does not stand in for a scope: with none active the statement is refused before any I/O.
    await expect(db.query(`select 1${MARK}`)).rejects.toBeInstanceOf(NoTenantError);
    // Written by hand, the mark cannot reach another tenant: the shared path names no tenant.
    await expect(tenancy.runTenant(tenants[0]!, () => db.query(`select owner from items${MARK}`))).rejects.toMatchObject({ code: '42P01' });
  });

  it('still runs a marked statement that needs a transaction of its own alone', async () => {
    const db = tenantPool(tenancy, raw);
    // A raw query leaves the connection on the tenant's path, so the marked VACUUM needs a change first.
    await tenancy.runTenant(tenants[0]!, () => db.query('select 1'));
    await expect(tenancy.runTenant(tenants[0]!, () => db.query(`VACUUM "${tenants[0]!.schema}".items${MARK}`))).resolves.toMatchObject({ command: 'VACUUM' });
  });
});
