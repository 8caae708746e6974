/**
 * One client object per pooled connection, as pg.Pool gives: libraries that cache per client
 * (Kysely's onCreateConnection) see each connection once, a `connect` listener's setup stays,
 * pg.Client's events reach the object the app holds, and a reference kept past `release()`
 * cannot reach the rows of the tenant the connection serves next.
 */
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tenancy, TenantMismatchError } from '../../src/index.js';
import { tenantPool, type TenantClient } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from './fixtures.js';

const db = useTestDatabase();

let tenancy: Tenancy;
const pools: pg.Pool[] = [];

function rawPool(max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  ({ tenancy } = await tenantsWithMarkers(db.pool, 3));
});

afterAll(async () => {
  for (const pool of pools) if (!pool.ending) await pool.end();
});

describe('one client object per pooled connection', () => {
  it("runs Kysely's onCreateConnection once per connection, and onReserveConnection at every checkout", async () => {
    const raw = rawPool(2);
    let created = 0;
    let reserved = 0;
    const kysely = new Kysely<{ items: { owner: string } }>({
      dialect: new PostgresDialect({
        pool: tenantPool(tenancy, raw) as unknown as PostgresPool,
        onCreateConnection: async () => {
          created += 1;
        },
        onReserveConnection: async () => {
          reserved += 1;
        },
      }),
    });
    const owners: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      await Promise.all(
        ['tenant-0', 'tenant-1', 'tenant-2'].map((id) =>
          tenancy.run(id, async () => {
            const rows = await kysely.selectFrom('items').select('owner').execute();
            owners.push(...rows.map((row) => `${id}:${row.owner}`));
          }),
        ),
      );
    }
    expect(owners.every((entry) => entry.split(':')[0] === entry.split(':')[1])).toBe(true);
    expect(created).toBe(raw.totalCount);
    expect(created).toBeLessThanOrEqual(2);
    expect(reserved).toBe(12);
    await kysely.destroy();
  });

  it("keeps what a connect listener set on the client; the listener's own queries run as pg runs them, and the session is cleaned before a tenant's", async () => {
    const raw = rawPool(1);
    const pool = tenantPool(tenancy, raw);
    let listenerSaw: unknown;
    pool.on('connect', (client: TenantClient) => {
      (client as unknown as { setUp: boolean }).setUp = true;
      client.query("SELECT set_config('app.listener', 'yes', false) AS set, current_setting('search_path') AS path").then(
        (result) => (listenerSaw = result.rows[0]),
        (error: Error) => (listenerSaw = error),
      );
    });
    const seen = await tenancy.run('tenant-1', async () => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ owner: string; setting: string }>("select owner, current_setting('app.listener', true) as setting from items");
        return { rows, setUp: (client as unknown as { setUp?: boolean }).setUp };
      } finally {
        client.release();
      }
    });
    expect(listenerSaw).toEqual({ set: 'yes', path: '"$user", public' });
    // Settings made with SET in a listener are session state like any other (docs/pg.md): use the pool's `options`.
    expect(seen).toEqual({ rows: [{ owner: 'tenant-1', setting: '' }], setUp: true });
  });

  it('passes notifications and notices on to the client the app holds', async () => {
    const raw = rawPool(1);
    const pool = tenantPool(tenancy, raw);
    const received = await tenancy.run('tenant-0', async () => {
      const client = await pool.connect();
      try {
        const notification = new Promise<string>((resolve) => client.once('notification', (message: { payload: string }) => resolve(message.payload)));
        const notice = new Promise<string>((resolve) => client.once('notice', (message: Error) => resolve(message.message)));
        await client.query('LISTEN stable_client');
        await client.query("SELECT pg_notify('stable_client', 'hello')");
        await client.query("DO $$ BEGIN RAISE NOTICE 'noticed'; END $$");
        return { notification: await notification, notice: await notice };
      } finally {
        client.release();
      }
    });
    expect(received).toEqual({ notification: 'hello', notice: 'noticed' });
  });

  it("refuses a client kept past release() once its connection serves another tenant: never that tenant's rows", async () => {
    const raw = rawPool(1);
    const pool = tenantPool(tenancy, raw);
    const stale = await tenancy.run('tenant-0', async () => {
      const client = await pool.connect();
      client.release();
      return client;
    });
    await expect(tenancy.run('tenant-0', () => stale.query('select owner from items'))).rejects.toThrow(/released to the pool/);

    const outcome = await tenancy.run('tenant-1', async () => {
      const current = await pool.connect();
      try {
        const sameObject = current === stale;
        const fromStale = await tenancy.run('tenant-0', () => stale.query<{ owner: string }>('select owner from items')).then(
          (result) => result.rows,
          (error: Error) => error,
        );
        const own = await current.query<{ owner: string }>('select owner from items');
        return { sameObject, fromStale, own: own.rows };
      } finally {
        current.release();
      }
    });
    expect(outcome.sameObject).toBe(true);
    expect(outcome.fromStale).toBeInstanceOf(TenantMismatchError);
    expect(outcome.own).toEqual([{ owner: 'tenant-1' }]);
  });

  it('gives a raw connection the same client in every event and every checkout, across tenants', async () => {
    const raw = rawPool(1);
    const pool = tenantPool(tenancy, raw);
    const inEvents = new Set<unknown>();
    for (const event of ['connect', 'acquire', 'release'] as const) pool.on(event, (...args: unknown[]) => inEvents.add(args.at(-1)));
    const checkedOut = new Set<unknown>();
    for (const id of ['tenant-0', 'tenant-1', 'tenant-2', 'tenant-0']) {
      await tenancy.run(id, async () => {
        const client = await pool.connect();
        checkedOut.add(client);
        const { rows } = await client.query<{ owner: string }>('select owner from items');
        expect(rows).toEqual([{ owner: id }]);
        client.release();
      });
    }
    expect(checkedOut.size).toBe(1);
    expect([...inEvents]).toEqual([...checkedOut]);
  });

  it('refuses queries on a client that is not checked out: from an acquire or release listener, or kept after the connect listener returned', async () => {
    const raw = rawPool(1);
    const pool = tenantPool(tenancy, raw);
    const outcomes: string[] = [];
    const probe = (client: TenantClient, where: string) =>
      void client.query<{ owner: string }>('select owner from items').then(
        (result) => outcomes.push(`${where}: rows ${JSON.stringify(result.rows)}`),
        (error: Error) => outcomes.push(`${where}: ${error.message}`),
      );
    let kept: TenantClient | undefined;
    pool.on('connect', (client: TenantClient) => (kept = client));
    pool.on('acquire', (client: TenantClient) => probe(client, 'acquire'));
    pool.on('release', (_error: unknown, client: TenantClient) => probe(client, 'release'));
    const rows = await tenancy.run('tenant-2', async () => (await pool.query<{ owner: string }>('select owner from items')).rows);
    expect(rows).toEqual([{ owner: 'tenant-2' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tenancy.run('tenant-1', () => kept!.query('select owner from items')).then(
      () => outcomes.push('kept: ran'),
      (error: Error) => outcomes.push(`kept: ${error.message}`),
    );
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) expect(outcome).toMatch(/: Client is not checked out/);
  });
});
