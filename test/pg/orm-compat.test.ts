/**
 * tenantPool stands wherever a pg.Pool is accepted: Kysely's PostgresDialect (queries,
 * transactions, cursor streams) and drizzle-orm's node-postgres driver run on it unchanged,
 * and every query they send sees only the active tenant's rows.
 */
import { createRequire } from 'node:module';
import { and, DrizzleQueryError, eq, sql as dsql, TransactionRollbackError } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { type Generated, Kysely, PostgresDialect, type PostgresCursorConstructor, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoTenantError, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from './fixtures.js';

// pg-cursor ships no types; Kysely describes the constructor it needs.
const Cursor = createRequire(import.meta.url)('pg-cursor') as PostgresCursorConstructor;

const db = useTestDatabase();

interface Database {
  items: { id: Generated<number>; owner: string; note: string | null };
}

const items = pgTable('items', {
  id: serial('id').primaryKey(),
  owner: text('owner').notNull(),
  note: text('note'),
});

const TENANTS = 3;
const STREAMED = 40;

let tenancy: Tenancy;
let tenants: Tenant[];

beforeAll(async () => {
  const made = await tenantsWithMarkers(db.pool, TENANTS);
  tenancy = made.tenancy;
  tenants = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!));
  // Rows for the streams: every tenant gets STREAMED rows of its own, beyond the marker row.
  for (const tenant of tenants) {
    await db.pool.query(`INSERT INTO "${tenant.schema}".items (owner, note) SELECT $1, 'bulk' FROM generate_series(1, ${STREAMED})`, [tenant.id]);
  }
});

/** A pool small enough that every connection serves every tenant in turn. */
function smallPool(max = 2): pg.Pool {
  return new pg.Pool({ connectionString: db.url, max });
}

/** Counts the connections `pool` opens from now until `stop()`, which returns the count. */
function openedOn(pool: pg.Pool): { stop(): number } {
  let opened = 0;
  const count = () => void (opened += 1);
  pool.on('connect', count);
  return {
    stop() {
      pool.off('connect', count);
      return opened;
    },
  };
}

/** Runs `fn` for every tenant at once (each in its own `tenancy.run`), a few rounds over. */
async function acrossTenants(fn: (tenant: Tenant, round: number) => Promise<void>, rounds = 3): Promise<void> {
  for (let round = 0; round < rounds; round += 1) {
    await Promise.all(tenants.map((tenant) => tenancy.run(tenant, () => fn(tenant, round))));
  }
}

describe('Kysely PostgresDialect on tenantPool', () => {
  let raw: pg.Pool;
  let scoped: TenantPool;
  let kysely: Kysely<Database>;

  beforeAll(() => {
    raw = smallPool();
    scoped = tenantPool(tenancy, raw);
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: scoped, cursor: Cursor }) });
  });
  afterAll(() => kysely.destroy());

  it('selects, inserts, updates and deletes in the active tenant only', async () => {
    await acrossTenants(async (tenant, round) => {
      const note = `kysely-${round}`;
      const inserted = await kysely.insertInto('items').values({ owner: tenant.id, note }).returning(['id', 'owner']).executeTakeFirstOrThrow();
      expect(inserted.owner).toBe(tenant.id);

      const owners = await kysely.selectFrom('items').select('owner').distinct().execute();
      expect(owners).toEqual([{ owner: tenant.id }]);

      const updated = await kysely.updateTable('items').set({ note: `${note}-updated` }).where('id', '=', inserted.id).returning('owner').execute();
      expect(updated).toEqual([{ owner: tenant.id }]);
      const mine = await kysely.selectFrom('items').select(['owner', 'note']).where('note', '=', `${note}-updated`).execute();
      expect(mine).toEqual([{ owner: tenant.id, note: `${note}-updated` }]);

      const deleted = await kysely.deleteFrom('items').where('id', '=', inserted.id).executeTakeFirst();
      expect(deleted.numDeletedRows).toBe(1n);
      const left = await kysely.selectFrom('items').select((eb) => eb.fn.countAll<string>().as('n')).where('note', 'like', 'kysely-%').executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(0);

      // Raw `sql` fragments are not qualified by Kysely: the connection's search_path is what scopes them.
      const rawOwners = await sql<{ owner: string }>`select distinct owner from items`.execute(kysely);
      expect(rawOwners.rows).toEqual([{ owner: tenant.id }]);
    });
  });

  it('runs db.transaction().execute in the active tenant, committing and rolling back', async () => {
    await acrossTenants(async (tenant, round) => {
      const note = `kysely-tx-${round}`;
      const seen = await kysely.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ owner: tenant.id, note }).execute();
        return trx.selectFrom('items').select('owner').distinct().execute();
      });
      expect(seen).toEqual([{ owner: tenant.id }]);

      await expect(
        kysely.transaction().execute(async (trx) => {
          await trx.insertInto('items').values({ owner: tenant.id, note: `${note}-doomed` }).execute();
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');

      const notes = await kysely.selectFrom('items').select(['owner', 'note']).where('note', 'like', `${note}%`).execute();
      expect(notes).toEqual([{ owner: tenant.id, note }]);
      await kysely.deleteFrom('items').where('note', '=', note).execute();
    });
  });

  it('streams through pg-cursor in the active tenant only', async () => {
    await acrossTenants(async (tenant) => {
      const owners = new Set<string>();
      let count = 0;
      for await (const row of kysely.selectFrom('items').select('owner').where('note', '=', 'bulk').stream(7)) {
        owners.add(row.owner);
        count += 1;
        // Let the other tenants' streams and queries take turns on the two connections.
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect([...owners]).toEqual([tenant.id]);
      expect(count).toBe(STREAMED);
    });
  });

  it('streams inside a transaction, and a stream stopped early leaves the connection clean', async () => {
    await acrossTenants(async (tenant) => {
      const streamed = await kysely.transaction().execute(async (trx) => {
        const owners: string[] = [];
        for await (const row of trx.selectFrom('items').select('owner').stream(5)) owners.push(row.owner);
        return owners;
      });
      expect(new Set(streamed)).toEqual(new Set([tenant.id]));
      expect(streamed).toHaveLength(STREAMED + 1);

      for await (const row of kysely.selectFrom('items').select('owner').stream(3)) {
        expect(row.owner).toBe(tenant.id);
        break;
      }
      expect(await kysely.selectFrom('items').select('owner').distinct().execute()).toEqual([{ owner: tenant.id }]);
    });
  });

  it('rejects every kind of query with NoTenantError when no tenant is active', async () => {
    // Connections opened meanwhile (none): counted, as an idle one may close on its own (totalCount).
    const opened = openedOn(raw);
    await expect(kysely.selectFrom('items').selectAll().execute()).rejects.toBeInstanceOf(NoTenantError);
    await expect(kysely.insertInto('items').values({ owner: 'nobody' }).execute()).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    await expect(kysely.transaction().execute((trx) => trx.selectFrom('items').selectAll().execute())).rejects.toMatchObject({
      code: 'TENANTRY_NO_TENANT',
    });
    const stream = async () => {
      for await (const row of kysely.selectFrom('items').selectAll().stream()) void row;
    };
    await expect(stream()).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    await expect(sql`select 1`.execute(kysely)).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    expect(opened.stop()).toBe(0);
  });

  // Kysely releases every client with release(false) (release(true) only when it discards one):
  // a connection it leaves inside an open transaction must still be destroyed, not reused.
  it('does not reuse a connection Kysely released inside an open transaction', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = new Kysely<Database>({ dialect: new PostgresDialect({ pool: tenantPool(tenancy, solo) }) });
    try {
      const [tenant] = tenants;
      await tenancy.run(tenant!, () =>
        one.connection().execute(async (connection) => {
          await sql`begin`.execute(connection);
          await sql`insert into items (owner, note) values (${tenant!.id}, 'left-open')`.execute(connection);
        }),
      );
      const client = await solo.connect();
      try {
        const { rows } = await client.query<{ idle: boolean }>('select now() = statement_timestamp() as idle');
        expect(rows[0]?.idle).toBe(true);
      } finally {
        client.release(true);
      }
    } finally {
      await one.destroy();
    }
  });
});

describe('drizzle-orm node-postgres on tenantPool', () => {
  let raw: pg.Pool;
  let drz: NodePgDatabase;

  beforeAll(() => {
    // One connection more than tenants: each tenant's transaction holds one while it queries outside it too.
    raw = smallPool(TENANTS + 1);
    // drizzle types its client as pg.Pool | pg.PoolClient | pg.Client; tenantPool is pg.Pool-compatible at run time.
    drz = drizzle({ client: tenantPool(tenancy, raw) as unknown as pg.Pool });
    return () => raw.end();
  });

  it('reads and writes in the active tenant only', async () => {
    await acrossTenants(async (tenant, round) => {
      const note = `drizzle-${round}`;
      const [inserted] = await drz.insert(items).values({ owner: tenant.id, note }).returning();
      expect(inserted?.owner).toBe(tenant.id);

      const owners = await drz.selectDistinct({ owner: items.owner }).from(items);
      expect(owners).toEqual([{ owner: tenant.id }]);

      const updated = await drz.update(items).set({ note: `${note}-updated` }).where(eq(items.id, inserted!.id)).returning({ owner: items.owner });
      expect(updated).toEqual([{ owner: tenant.id }]);

      const found = await drz.select({ owner: items.owner, note: items.note }).from(items).where(eq(items.note, `${note}-updated`));
      expect(found).toEqual([{ owner: tenant.id, note: `${note}-updated` }]);

      const rawOwners = await drz.execute<{ owner: string }>(dsql`select distinct owner from items`);
      expect(rawOwners.rows).toEqual([{ owner: tenant.id }]);

      const deleted = await drz.delete(items).where(eq(items.id, inserted!.id)).returning({ owner: items.owner });
      expect(deleted).toEqual([{ owner: tenant.id }]);
      expect(await drz.$count(items, eq(items.note, 'bulk'))).toBe(STREAMED);
    });
  });

  // drizzle checks out a client for db.transaction only when its client is a pg.Pool or a class whose
  // name contains "Pool" (TenantPool, also in the bundled dist); otherwise BEGIN and the statements
  // would go to different connections. samePid and the rollbacks below prove it took one.
  it('runs db.transaction on one connection of the active tenant, committing and rolling back', async () => {
    await acrossTenants(async (tenant, round) => {
      const note = `drizzle-tx-${round}`;
      const seen = await drz.transaction(async (tx) => {
        const [first] = await tx.execute<{ pid: number }>(dsql`select pg_backend_pid() as pid`).then((r) => r.rows);
        await tx.insert(items).values({ owner: tenant.id, note });
        const owners = await tx.selectDistinct({ owner: items.owner }).from(items);
        // Uncommitted: outside the transaction (another connection), the row is not there yet.
        const outside = await drz.$count(items, eq(items.note, note));
        const nested = await tx.transaction(async (inner) => {
          await inner.insert(items).values({ owner: tenant.id, note: `${note}-savepoint` });
          inner.rollback();
        }).catch((error: unknown) => error instanceof TransactionRollbackError);
        const [last] = await tx.execute<{ pid: number }>(dsql`select pg_backend_pid() as pid`).then((r) => r.rows);
        return { owners, outside, nested, samePid: first?.pid === last?.pid };
      });
      expect(seen).toEqual({ owners: [{ owner: tenant.id }], outside: 0, nested: true, samePid: true });

      await expect(
        drz.transaction(async (tx) => {
          await tx.insert(items).values({ owner: tenant.id, note: `${note}-doomed` });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');

      const rows = await drz.select({ owner: items.owner, note: items.note }).from(items).where(and(eq(items.owner, tenant.id), dsql`${items.note} like ${`${note}%`}`));
      expect(rows).toEqual([{ owner: tenant.id, note }]);
      await drz.delete(items).where(eq(items.note, note));
    });
  });

  it('rejects queries and transactions with NoTenantError when no tenant is active', async () => {
    // Connections opened meanwhile (none): counted, as an idle one may close on its own (totalCount).
    const opened = openedOn(raw);
    // drizzle wraps a failed query in DrizzleQueryError ("Failed query: …"); the NoTenantError is its cause.
    const read = await drz.select().from(items).catch((error: unknown) => error);
    expect(read).toBeInstanceOf(DrizzleQueryError);
    expect((read as DrizzleQueryError).cause).toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    const write = await drz.insert(items).values({ owner: 'nobody' }).catch((error: unknown) => error);
    expect((write as DrizzleQueryError).cause).toBeInstanceOf(NoTenantError);
    // A transaction checks out a client first: that rejects with the NoTenantError itself.
    await expect(drz.transaction((tx) => tx.select().from(items))).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    expect(opened.stop()).toBe(0);
  });
});
