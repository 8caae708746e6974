/**
 * Tenant roles: PostgreSQL itself refuses what the client's scoping misses. Every attack below
 * reached another tenant's rows before tenant roles (issue 15); with them each one ends in a
 * permission error, an unknown relation, or the tenant's own rows. The tenants share one
 * connection (`max: 1`), so a tenant always gets the connection the other one left.
 */
import { createRequire } from 'node:module';
import { Kysely, PostgresDialect, type PostgresPool, sql } from 'kysely';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, TenantMismatchError, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';

interface CursorLike {
  read(rows: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
const Cursor = createRequire(import.meta.url)('pg-cursor') as new (text: string, values?: unknown[]) => CursorLike;

interface Database {
  items: { id: number; owner: string };
  plans: { id: string };
}

const db = useTestDatabase();

let tenancy: Tenancy;
let acme: Tenant;
let globex: Tenant;
let one: pg.Pool;
let scoped: TenantPool;

/** What a read may end in: the reader's own rows, or a refusal by PostgreSQL. Never foreign rows. */
const REFUSED = new Set(['42501', '42P01', '42883', '3F000']);

async function ownRowsOrRefused(tenant: Tenant, read: () => Promise<{ rows: Record<string, unknown>[] }>): Promise<'own' | 'refused'> {
  try {
    const { rows } = await tenancy.runTenant(tenant, read);
    for (const row of rows) expect(row.owner, `a row read by ${tenant.id}`).toBe(tenant.id);
    return 'own';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== undefined && REFUSED.has(code)) return 'refused';
    throw error;
  }
}

beforeAll(async () => {
  tenancy = createTenancy({
    pool: db.pool,
    tenantRoles: { prefix: db.rolePrefix },
    migrations: {
      shared: [
        {
          name: '001_shared',
          checksum: '1',
          up: (c) =>
            c.query(`CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free');
              CREATE FUNCTION relocate(path text) RETURNS void LANGUAGE sql AS $$ SELECT set_config('search_path', path, false) $$;
              CREATE FUNCTION relocate_definer(path text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE 'SET search_path TO ' || path; END $$;
              CREATE PROCEDURE relocate_proc(path text) LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('search_path', path, false); END $$`),
        },
      ],
      tenant: [
        {
          name: '001_items',
          checksum: '1',
          up: (c) => c.query('CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL)'),
        },
      ],
    },
  });
  await tenancy.migrate.shared();
  acme = await tenancy.registry.create({ id: 'acme' });
  globex = await tenancy.registry.create({ id: 'globex' });
  for (const tenant of [acme, globex]) await db.pool.query(`INSERT INTO "${tenant.schema}".items (owner) VALUES ($1), ($1)`, [tenant.id]);
  one = new pg.Pool({ connectionString: db.url, max: 1 });
  scoped = tenantPool(tenancy, one);
});

afterAll(async () => {
  await one?.end();
});

describe('tenant roles: the database refuses what the client scoping misses', () => {
  it('runs each tenant as its own role, and the shared scope as the login role', async () => {
    const me = (await db.pool.query<{ me: string }>('SELECT current_user AS me')).rows[0]!.me;
    expect((await tenancy.runTenant(acme, () => scoped.query('SELECT current_user AS who'))).rows).toEqual([{ who: tenancy.tenantRoles!.roleOf('acme') }]);
    expect((await tenancy.runShared(() => scoped.query('SELECT current_user AS who'))).rows).toEqual([{ who: me }]);
    expect((await tenancy.runTenant(globex, () => scoped.query('SELECT current_user AS who'))).rows).toEqual([{ who: tenancy.tenantRoles!.roleOf('globex') }]);
  });

  it.each([
    ['a SQL function', (path: string) => `SELECT relocate('${path}')`],
    ['a SECURITY DEFINER function', (path: string) => `SELECT relocate_definer('${path}')`],
    ['a procedure', (path: string) => `CALL relocate_proc('${path}')`],
    ['a session-level SET', (path: string) => `SET search_path TO ${path}`],
  ])("a path moved to another tenant's schema by %s reads nothing of that tenant", async (_, move) => {
    await tenancy.runTenant(acme, () => scoped.query(move(`"${globex.schema}"`)));
    // The same tenant's next query on that connection: its own rows or a refusal.
    await ownRowsOrRefused(acme, () => scoped.query('SELECT owner FROM items'));
    await ownRowsOrRefused(acme, () => scoped.query('SELECT owner FROM items WHERE id > $1', [0]));
    // The other tenant then gets a clean connection.
    expect(await ownRowsOrRefused(globex, () => scoped.query('SELECT owner FROM items'))).toBe('own');
  });

  it("a trigger that moves the path does not let the tenant's next statement reach another schema", async () => {
    await db.pool.query(`CREATE FUNCTION "${acme.schema}".move_path() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM set_config('search_path', '"${globex.schema}"', false); RETURN NEW; END $$;
      CREATE TRIGGER move_path AFTER INSERT ON "${acme.schema}".items FOR EACH ROW EXECUTE FUNCTION "${acme.schema}".move_path()`);
    try {
      await tenancy.runTenant(acme, () => scoped.query("INSERT INTO items (owner) VALUES ('acme-trigger')"));
      await ownRowsOrRefused(acme, () => scoped.query("SELECT owner FROM items WHERE owner <> 'acme-trigger'"));
    } finally {
      await db.pool.query(`DROP TRIGGER move_path ON "${acme.schema}".items; DELETE FROM "${acme.schema}".items WHERE owner = 'acme-trigger'`);
    }
  });

  it("explicit references to another tenant's schema are refused: raw SQL, withSchema, sql.table, a reused compiled query", async () => {
    expect(await ownRowsOrRefused(acme, () => scoped.query(`SELECT owner FROM "${globex.schema}".items`))).toBe('refused');
    expect(await ownRowsOrRefused(acme, () => scoped.query(`SELECT owner FROM items UNION ALL SELECT owner FROM "${globex.schema}".items`))).toBe('refused');
    // Kysely ends its pool when destroyed: a pool of its own.
    const kysely = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: tenantPool(tenancy, new pg.Pool({ connectionString: db.url, max: 1 })) as unknown as PostgresPool }),
      plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
    });
    try {
      const asRows = (rows: unknown) => ({ rows: rows as Record<string, unknown>[] });
      expect(await ownRowsOrRefused(acme, async () => asRows(await kysely.withSchema(globex.schema).selectFrom('items').select('owner').execute()))).toBe('refused');
      expect(await ownRowsOrRefused(acme, async () => (await sql<Record<string, unknown>>`select owner from ${sql.table(`${globex.schema}.items`)}`.execute(kysely)))).toBe(
        'refused',
      );
      // Compiled for acme (qualified with acme's schema), executed for globex, as a compiled-query cache would.
      const compiled = tenancy.runTenant(acme, () => kysely.selectFrom('items').select('owner').compile());
      expect(compiled.sql).toContain(`"${acme.schema}"`);
      expect(await ownRowsOrRefused(globex, async () => asRows((await kysely.executeQuery(compiled)).rows))).toBe('refused');
    } finally {
      await kysely.destroy();
    }
  });

  it('a tenant reads and writes the shared tables, but not the registry', async () => {
    expect((await tenancy.runTenant(acme, () => scoped.query('SELECT id FROM plans'))).rows).toEqual([{ id: 'free' }]);
    await tenancy.runTenant(acme, () => scoped.query("INSERT INTO plans VALUES ('acme-plan')"));
    await tenancy.runTenant(acme, () => scoped.query("DELETE FROM plans WHERE id = 'acme-plan'"));
    for (const table of ['tenantry_tenants', 'tenantry_domains', 'tenantry_migrations']) {
      await expect(tenancy.runTenant(acme, () => scoped.query(`SELECT * FROM public.${table}`)), table).rejects.toMatchObject({ code: '42501' });
    }
    await expect(tenancy.runTenant(acme, () => scoped.query('SELECT * FROM tenantry_migrations'))).resolves.toMatchObject({ command: 'SELECT' });
    await expect(tenancy.runTenant(acme, () => scoped.query('DELETE FROM tenantry_migrations'))).rejects.toMatchObject({ code: '42501' });
  });

  it('a named prepared statement prepared by one tenant runs for another on its own rows (re-planned, checked at execution)', async () => {
    const named = { name: 'roles-owners', text: 'SELECT owner FROM items ORDER BY id' };
    for (let round = 0; round < 8; round += 1) {
      for (const tenant of [acme, globex]) {
        const { rows } = await tenancy.runTenant(tenant, () => scoped.query(named));
        expect(new Set(rows.map((row) => row.owner))).toEqual(new Set([tenant.id]));
      }
    }
    // Naming another tenant's schema is refused already when the statement is prepared.
    await expect(tenancy.runTenant(acme, () => scoped.query(`PREPARE roles_globex AS SELECT owner FROM "${globex.schema}".items`))).rejects.toMatchObject({
      code: '42501',
    });
    // Prepared by globex on its own table, then executed by acme: privileges are checked at execution.
    await tenancy.runTenant(globex, () => scoped.query(`PREPARE roles_globex AS SELECT owner FROM "${globex.schema}".items`));
    await expect(tenancy.runTenant(acme, () => scoped.query('EXECUTE roles_globex'))).rejects.toMatchObject({ code: '42501' });
    await tenancy.runTenant(globex, () => scoped.query('DEALLOCATE roles_globex'));
  });

  it('tables added by a later migration are granted to their tenant only', async () => {
    const later = createTenancy({
      pool: db.pool,
      tenantRoles: { prefix: db.rolePrefix },
      migrations: {
        tenant: [
          { name: '001_items', checksum: '1', up: (c) => c.query('CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL)') },
          { name: '002_notes', checksum: '1', up: (c) => c.query('CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL)') },
        ],
      },
    });
    const report = await later.migrate.tenants();
    expect(report.failed).toEqual([]);
    const pool = tenantPool(later, one);
    await later.runTenant(acme, () => pool.query("INSERT INTO notes (owner) VALUES ('acme')"));
    expect((await later.runTenant(acme, () => pool.query('SELECT owner FROM notes'))).rows).toEqual([{ owner: 'acme' }]);
    await expect(later.runTenant(globex, () => pool.query(`SELECT owner FROM "${acme.schema}".notes`))).rejects.toMatchObject({ code: '42501' });
  });

  it("a pg-cursor opened by one tenant cannot be read in another tenant's scope", async () => {
    await tenancy.runTenant(acme, async () => {
      const client = await scoped.connect();
      try {
        const cursor = client.query(new Cursor('SELECT owner FROM items') as never) as unknown as CursorLike;
        await expect(tenancy.runTenant(globex, () => cursor.read(10))).rejects.toBeInstanceOf(TenantMismatchError);
        const rows = await cursor.read(10);
        expect(new Set(rows.map((row) => row.owner))).toEqual(new Set(['acme']));
        await cursor.close();
      } finally {
        client.release();
      }
    });
  });

  it("a pg-query-stream opened by one tenant cannot be consumed in another tenant's scope", async () => {
    await tenancy.runTenant(acme, async () => {
      const client = await scoped.connect();
      try {
        const stream = client.query(new QueryStream('SELECT owner FROM items', [], { batchSize: 1 }) as never) as unknown as QueryStream;
        const consume = async (): Promise<unknown[]> => {
          const rows: unknown[] = [];
          for await (const row of stream) rows.push(row);
          return rows;
        };
        await expect(tenancy.runTenant(globex, consume)).rejects.toBeInstanceOf(TenantMismatchError);
      } finally {
        client.release(true);
      }
      // Consumed in its own tenant's scope, another stream reads that tenant's rows.
      const again = await scoped.connect();
      try {
        const stream = again.query(new QueryStream('SELECT owner FROM items', [], { batchSize: 1 }) as never) as unknown as QueryStream;
        const owners = new Set<unknown>();
        for await (const row of stream) owners.add((row as { owner: string }).owner);
        expect(owners).toEqual(new Set(['acme']));
      } finally {
        again.release();
      }
    });
  });

  it('deleting a tenant drops its role', async () => {
    const doomed = await tenancy.registry.create({ id: 'doomed' });
    const role = tenancy.tenantRoles!.roleOf(doomed.id);
    const exists = async () => (await db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount;
    expect(await exists()).toBe(1);
    await tenancy.registry.delete('doomed', { dropSchema: true });
    expect(await exists()).toBe(0);
  });
});

describe('a login role that is not a superuser', () => {
  it('switches to tenant roles through the login group, and reaches nothing of other tenants', async () => {
    const login = `${db.rolePrefix}app`;
    const roles = tenancy.tenantRoles!;
    // A password too: embedded PostgreSQL authenticates with passwords, the test server may trust.
    await db.pool.query(`CREATE ROLE "${login}" LOGIN PASSWORD 'app-password' NOSUPERUSER NOBYPASSRLS IN ROLE "${roles.loginGroup}"`);
    const url = new URL(db.url);
    url.username = login;
    url.password = 'app-password';
    const appPool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const app = tenantPool(tenancy, appPool);
      expect((await tenancy.runTenant(acme, () => app.query('SELECT DISTINCT owner FROM items'))).rows).toEqual([{ owner: 'acme' }]);
      expect((await tenancy.runTenant(globex, () => app.query('SELECT DISTINCT owner FROM items'))).rows).toEqual([{ owner: 'globex' }]);
      await expect(tenancy.runTenant(globex, () => app.query(`SELECT owner FROM "${acme.schema}".items`))).rejects.toMatchObject({ code: '42501' });
      // The login group is NOINHERIT: the login role itself holds no tenant's privileges.
      await expect(tenancy.runShared(() => app.query(`SELECT owner FROM "${acme.schema}".items`))).rejects.toMatchObject({ code: '42501' });
    } finally {
      await appPool.end();
    }
  });
});
