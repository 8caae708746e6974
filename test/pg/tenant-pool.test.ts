import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTenancyError, NoTenantError, type Tenancy, TenantMismatchError } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from './fixtures.js';

const db = useTestDatabase();

/** Counts the ReadyForQuery messages (one per protocol exchange) every connection of `pool` receives. */
function countExchanges(pool: pg.Pool): { readonly count: number } {
  const counter = { count: 0 };
  pool.on('connect', (client) => {
    (client as unknown as { connection: pg.Connection }).connection.on('readyForQuery', () => (counter.count += 1));
  });
  return counter;
}

describe('tenantPool', () => {
  let tenancy: Tenancy;
  let pool: pg.Pool;
  let scoped: TenantPool;
  let exchanges: { readonly count: number };

  beforeAll(async () => {
    ({ tenancy } = await tenantsWithMarkers(db.pool, 3));
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    exchanges = countExchanges(pool);
    scoped = tenantPool(tenancy, pool);
    return () => pool.end();
  });

  const owners = (result: pg.QueryResult) => result.rows.map((row) => row.owner);

  it('runs plain, parameterised, config-object and named queries in the active tenant', async () => {
    for (const id of ['tenant-0', 'tenant-1', 'tenant-2', 'tenant-0']) {
      await tenancy.run(id, async () => {
        expect(owners(await scoped.query('SELECT owner FROM items'))).toEqual([id]);
        expect(owners(await scoped.query('SELECT owner FROM items WHERE owner = $1', [id]))).toEqual([id]);
        expect(owners(await scoped.query({ text: 'SELECT owner FROM items WHERE id > $1', values: [0] }))).toEqual([id]);
        expect(owners(await scoped.query({ name: 'owners', text: 'SELECT owner FROM items' }))).toEqual([id]);
        const arrays = await scoped.query({ text: 'SELECT owner FROM items', rowMode: 'array' });
        expect(arrays.rows).toEqual([[id]]);
        expect((await scoped.query('SELECT id FROM plans')).rows).toEqual([{ id: 'free' }]);
      });
    }
  });

  it('takes one exchange per query, whether or not the connection had to switch tenants', async () => {
    for (const form of [
      () => scoped.query('SELECT owner FROM items'),
      () => scoped.query('SELECT owner FROM items WHERE id = $1', [1]),
      () => scoped.query({ name: 'by-id', text: 'SELECT owner FROM items WHERE id = $1', values: [1] }),
    ]) {
      for (const id of ['tenant-1', 'tenant-2', 'tenant-1', 'tenant-1']) {
        await tenancy.run(id, async () => {
          const before = exchanges.count;
          const result = await form();
          expect(owners(result)).toEqual([id]);
          expect(exchanges.count - before).toBe(1);
        });
      }
    }
  });

  it('supports the callback forms of pg', async () => {
    const result = await tenancy.run('tenant-2', () =>
      new Promise<pg.QueryResult>((resolve, reject) =>
        scoped.query('SELECT owner FROM items WHERE id = $1', [1], (error, res) => (error ? reject(error) : resolve(res!))),
      ),
    );
    expect(owners(result)).toEqual(['tenant-2']);
  });

  it('fails closed with no tenant, before any I/O', async () => {
    const probe = new pg.Pool({ connectionString: db.url, max: 1 });
    const guarded = tenantPool(tenancy, probe);
    await expect(guarded.query('SELECT 1')).rejects.toBeInstanceOf(NoTenantError);
    await expect(guarded.connect()).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    const error = await new Promise<Error | undefined>((resolve) => guarded.query('SELECT 1', (e) => resolve(e)));
    expect(isTenancyError(error)).toBe(true);
    expect(probe.totalCount).toBe(0);
    await probe.end();
  });

  it('gives one wrapper per pool, tenancy and mode, so wrapping a pool again adds no listeners to it', async () => {
    const probe = new pg.Pool({ connectionString: db.url, max: 1 });
    const first = tenantPool(tenancy, probe);
    const listeners = () => probe.eventNames().reduce((sum, event) => sum + probe.listenerCount(event), 0);
    const before = listeners();
    for (let i = 0; i < 20; i += 1) expect(tenantPool(tenancy, probe)).toBe(first);
    expect(tenantPool(tenancy, probe, { mode: 'session' })).toBe(first);
    expect(listeners()).toBe(before);
    const pooler = tenantPool(tenancy, probe, { mode: 'transaction' });
    expect(pooler).not.toBe(first);
    expect(tenantPool(tenancy, probe, { mode: 'transaction' })).toBe(pooler);
    expect(tenantPool(tenancy, new pg.Pool())).not.toBe(first);
    await probe.end();
  });

  it('reaches only shared tables in the explicit shared scope', async () => {
    const plans = await tenancy.runShared(() => scoped.query('SELECT id FROM plans'));
    expect(plans.rows).toEqual([{ id: 'free' }]);
    await expect(tenancy.runShared(() => scoped.query('SELECT owner FROM items'))).rejects.toMatchObject({ code: '42P01' });
  });

  it('binds a checked-out client to its tenant', async () => {
    const client = await tenancy.run('tenant-0', () => scoped.connect());
    try {
      await expect(tenancy.run('tenant-1', () => client.query('SELECT owner FROM items'))).rejects.toBeInstanceOf(TenantMismatchError);
      await expect(tenancy.runShared(() => client.query('SELECT 1'))).rejects.toBeInstanceOf(TenantMismatchError);
      await expect(client.query('SELECT 1')).rejects.toBeInstanceOf(NoTenantError);
      expect(owners(await tenancy.run('tenant-0', () => client.query('SELECT owner FROM items')))).toEqual(['tenant-0']);
    } finally {
      client.release();
    }
    expect(() => client.release()).toThrow(/already been released/);
  });

  it('does not trust a SET that rolled back with a failed statement', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = tenantPool(tenancy, solo);
    await tenancy.run('tenant-0', () => one.query('SELECT 1'));
    await expect(tenancy.run('tenant-1', () => one.query('SELECT * FROM no_such_table'))).rejects.toMatchObject({ code: '42P01' });
    expect(owners(await tenancy.run('tenant-1', () => one.query('SELECT owner FROM items')))).toEqual(['tenant-1']);
    await expect(tenancy.run('tenant-2', () => one.query('SELECT owner FROM items WHERE id = $1', ['x']))).rejects.toBeTruthy();
    expect(owners(await tenancy.run('tenant-2', () => one.query('SELECT owner FROM items WHERE id = $1', [1])))).toEqual(['tenant-2']);
    await solo.end();
  });

  it('does not trust a SET that a ROLLBACK undid', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = tenantPool(tenancy, solo);
    await tenancy.run('tenant-0', () => one.query('SELECT 1'));
    await tenancy.run('tenant-1', async () => {
      const client = await one.connect();
      await client.query('BEGIN');
      expect(owners(await client.query('SELECT owner FROM items'))).toEqual(['tenant-1']);
      await client.query('ROLLBACK');
      expect(owners(await client.query('SELECT owner FROM items'))).toEqual(['tenant-1']);
      client.release();
    });
    expect(owners(await tenancy.run('tenant-1', () => one.query('SELECT owner FROM items')))).toEqual(['tenant-1']);
    await solo.end();
  });

  it('keeps the tenant through savepoints rolled back', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = tenantPool(tenancy, solo);
    await tenancy.run('tenant-0', () => one.query('SELECT 1'));
    await tenancy.run('tenant-2', () =>
      one.transaction(async (client) => {
        await client.query('SAVEPOINT a');
        await expect(client.query('SELECT * FROM missing')).rejects.toBeTruthy();
        await client.query('ROLLBACK TO SAVEPOINT a');
        expect(owners(await client.query('SELECT owner FROM items'))).toEqual(['tenant-2']);
        await client.query('SAVEPOINT b');
        await client.query('ROLLBACK TO SAVEPOINT b');
        expect(owners(await client.query('SELECT owner FROM items'))).toEqual(['tenant-2']);
      }),
    );
    expect(owners(await tenancy.run('tenant-0', () => one.query('SELECT owner FROM items')))).toEqual(['tenant-0']);
    await solo.end();
  });

  it('sets the scope again after user code changed search_path', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 1 });
    const one = tenantPool(tenancy, solo);
    await tenancy.run('tenant-0', async () => {
      await one.query('SET search_path TO public');
      expect(owners(await one.query('SELECT owner FROM items'))).toEqual(['tenant-0']);
      await one.query('RESET ALL');
      expect(owners(await one.query('SELECT owner FROM items'))).toEqual(['tenant-0']);
    });
    await solo.end();
  });

  it('keeps a connection with its run between queries, and gives it back to the pool on the next turn', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 2 });
    const counter = countExchanges(solo);
    const one = tenantPool(tenancy, solo);
    const pids = await tenancy.run('tenant-0', async () => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const before = counter.count;
        const result = await one.query('SELECT owner, pg_backend_pid() AS pid FROM items');
        expect(owners(result)).toEqual(['tenant-0']);
        expect(counter.count - before).toBe(1);
        seen.push(result.rows[0]?.pid as number);
      }
      return seen;
    });
    expect(new Set(pids).size).toBe(1);
    const [a, b] = await Promise.all([
      tenancy.run('tenant-1', () => one.query('SELECT owner FROM items')),
      tenancy.run('tenant-2', () => one.query('SELECT owner FROM items')),
    ]);
    expect(owners(a)).toEqual(['tenant-1']);
    expect(owners(b)).toEqual(['tenant-2']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(solo.idleCount).toBe(solo.totalCount);
    await one.end();
  });

  it('gives a run the connection its last client released (as Kysely checks out per query), and the pool gets it back on the next turn', async () => {
    const solo = new pg.Pool({ connectionString: db.url, max: 2 });
    let acquired = 0;
    solo.on('acquire', () => (acquired += 1));
    const one = tenantPool(tenancy, solo);
    const checkedOut = async () => {
      const client = await one.connect();
      try {
        const result = await client.query('SELECT owner, pg_backend_pid() AS pid FROM items');
        expect(owners(result)).toEqual([tenancy.current()?.id]);
        return result.rows[0]?.pid as number;
      } finally {
        client.release();
      }
    };
    const [first, second] = await Promise.all(
      ['tenant-1', 'tenant-2'].map((id) =>
        tenancy.run(id, async () => {
          const seen: number[] = [];
          for (let i = 0; i < 4; i += 1) seen.push(await checkedOut());
          return seen;
        }),
      ),
    );
    expect(new Set(first).size).toBe(1);
    expect(new Set(second).size).toBe(1);
    expect(first![0]).not.toBe(second![0]);
    expect(acquired, 'each run takes one connection from pg-pool, however many clients it checks out').toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(solo.idleCount).toBe(solo.totalCount);
    await one.end();
  });

  it('rolls back a transaction that throws and destroys its client', async () => {
    await expect(
      tenancy.run('tenant-1', () =>
        scoped.transaction(async (client) => {
          await client.query("INSERT INTO items (owner, note) VALUES ('tenant-1', 'doomed')");
          throw new Error('boom');
        }),
      ),
    ).rejects.toThrow('boom');
    const notes = await tenancy.run('tenant-1', () => scoped.query("SELECT count(*)::int AS n FROM items WHERE note = 'doomed'"));
    expect(notes.rows[0]?.n).toBe(0);
  });
});
