/**
 * Clean connections between tenants: session state one tenant leaves on a pooled connection
 * (held cursors, settings, LISTEN, temporary tables, advisory locks) never reaches the next
 * tenant, with or without tenant roles. One connection (`max: 1`), so the next tenant surely
 * gets the connection the last one left.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenancy, Tenant } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const db = useTestDatabase();

describe.each([
  ['without tenant roles', false],
  ['with tenant roles', true],
])('session state does not cross tenants (%s)', (_, roles) => {
  let tenancy: Tenancy;
  let acme: Tenant;
  let globex: Tenant;
  let one: pg.Pool;
  let scoped: TenantPool;

  beforeAll(async () => {
    const made = await tenantsWithMarkers(db.pool, 2, roles ? { tenantRoles: { prefix: `${db.rolePrefix}r` } } : {});
    tenancy = made.tenancy;
    [acme, globex] = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!)) as [Tenant, Tenant];
    one = new pg.Pool({ connectionString: db.url, max: 1 });
    scoped = tenantPool(tenancy, one);
  });

  afterAll(async () => {
    await one?.end();
  });

  const as = <R>(tenant: Tenant, fn: () => Promise<R>): Promise<R> => tenancy.runTenant(tenant, fn);
  const value = async (tenant: Tenant, text: string): Promise<unknown> => Object.values((await as(tenant, () => scoped.query(text))).rows[0] ?? {})[0];

  it('a WITH HOLD cursor', async () => {
    await as(acme, () => scoped.query('DECLARE held CURSOR WITH HOLD FOR SELECT owner FROM items'));
    expect(await value(acme, 'SELECT count(*)::int FROM pg_cursors')).toBe(1);
    await expect(as(globex, () => scoped.query('FETCH ALL FROM held'))).rejects.toMatchObject({ code: '34000' });
  });

  it('settings made with SET and set_config, the usual input of audit triggers and policies', async () => {
    await as(acme, () => scoped.query("SET app.user_id = '42'"));
    await as(acme, () => scoped.query("SELECT set_config('app.role', 'admin', false)"));
    await as(acme, () => scoped.query('SET default_transaction_read_only = on'));
    await as(acme, () => scoped.query("SET statement_timeout = '10min'"));
    // The tenant that made them keeps them.
    expect(await value(acme, "SELECT current_setting('app.user_id', true)")).toBe('42');
    expect(await value(globex, "SELECT coalesce(current_setting('app.user_id', true), '')")).toBe('');
    expect(await value(globex, "SELECT coalesce(current_setting('app.role', true), '')")).toBe('');
    expect(await value(globex, 'SHOW default_transaction_read_only')).toBe('off');
    expect(await value(globex, 'SHOW statement_timeout')).toBe('0');
    await as(globex, () => scoped.query("INSERT INTO items (owner, note) VALUES ($1, 'written')", [globex.id]));
  });

  it("the last tenant's statement_timeout does not govern the cleanup before the next tenant's query", async () => {
    // Closing 10,000 held cursors takes longer than 20 ms; the server noticed the timeout only
    // in the statement after CLOSE ALL, and the next tenant's query failed with "canceling
    // statement due to user request" while RESET ALL still came after it.
    await as(acme, async () => {
      const client = await scoped.connect();
      try {
        await client.query('BEGIN');
        for (let batch = 0; batch < 10; batch += 1) {
          await client.query(Array.from({ length: 1000 }, (_, n) => `DECLARE held_${batch}_${n} CURSOR WITH HOLD FOR SELECT ${n}`).join(';'));
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
    await as(acme, () => scoped.query("SET statement_timeout = '20ms'"));
    expect(await value(globex, 'SELECT DISTINCT owner FROM items')).toBe(globex.id);
    expect(await value(globex, 'SELECT count(*)::int FROM pg_cursors')).toBe(0);
  });

  it("the next tenant's first statement runs in a transaction of the connection's defaults, not the last tenant's", async () => {
    const carried = ['SET default_transaction_read_only = on', "SET default_transaction_isolation = 'serializable'"];
    // Both protocols: the cleanup used to share the implicit transaction of the statements after
    // it, which began read-only and serializable before RESET ALL ran.
    for (const write of [
      () => scoped.query(`INSERT INTO items (owner, note) VALUES ('${globex.id}', 'simple')`),
      () => scoped.query("INSERT INTO items (owner, note) VALUES ($1, 'extended')", [globex.id]),
    ]) {
      for (const statement of carried) await as(acme, () => scoped.query(statement));
      await as(globex, write);
    }
    for (const statement of carried) await as(acme, () => scoped.query(statement));
    expect(await value(globex, "SELECT current_setting('transaction_isolation') || ' ' || current_setting('transaction_read_only')")).toBe('read committed off');
    expect(await value(globex, "SELECT count(*)::int FROM items WHERE note IN ('simple', 'extended')")).toBe(2);
  });

  it('LISTEN registrations', async () => {
    await as(acme, () => scoped.query('LISTEN acme_events'));
    expect(await value(acme, 'SELECT count(*)::int FROM pg_listening_channels()')).toBe(1);
    // UNLISTEN takes effect when the exchange it was sent in commits (notifications are only ever
    // delivered between transactions), so the next tenant's first statement still lists the channel.
    await as(globex, () => scoped.query('SELECT 1'));
    expect(await value(globex, 'SELECT count(*)::int FROM pg_listening_channels()')).toBe(0);
  });

  it('temporary tables and session advisory locks', async () => {
    await as(acme, () => scoped.query("CREATE TEMP TABLE scratch AS SELECT 'acme'::text AS owner"));
    await as(acme, () => scoped.query('SELECT pg_advisory_lock(4242)'));
    expect(await value(acme, 'SELECT owner FROM pg_temp.scratch')).toBe('acme');
    expect(await value(globex, "SELECT to_regclass('pg_temp.scratch')::text")).toBeNull();
    expect(await value(globex, "SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).toBe(0);
  });

  it('SET SESSION AUTHORIZATION and SET ROLE', async () => {
    const me = (await db.pool.query<{ me: string }>('SELECT session_user AS me')).rows[0]!.me;
    await as(acme, () => scoped.query('SET SESSION AUTHORIZATION DEFAULT'));
    expect(await value(globex, 'SELECT session_user')).toBe(me);
    expect(await value(globex, 'SELECT current_user')).toBe(roles ? tenancy.tenantRoles!.roleOf(globex.id) : me);
  });

  it('DISCARD ALL through tenantPool.query, also when the connection switches tenants', async () => {
    await as(acme, () => scoped.query('SELECT 1'));
    await expect(as(globex, () => scoped.query('DISCARD ALL'))).resolves.toMatchObject({ command: 'DISCARD' });
    expect(await value(globex, 'SELECT DISTINCT owner FROM items')).toBe(globex.id);
    expect(await value(acme, 'SELECT DISTINCT owner FROM items')).toBe(acme.id);
  });

  it('a named statement still runs after DISCARD ALL or DEALLOCATE ALL dropped it on the server', async () => {
    const named = { name: 'cleanup-owner', text: 'SELECT DISTINCT owner FROM items WHERE owner = $1' };
    for (const drop of ['DISCARD ALL', 'DEALLOCATE ALL', 'DEALLOCATE "cleanup-owner"', 'SELECT 1; DEALLOCATE ALL']) {
      expect((await as(acme, () => scoped.query({ ...named, values: [acme.id] }))).rows).toEqual([{ owner: acme.id }]);
      await as(acme, () => scoped.query(drop));
      expect((await as(acme, () => scoped.query({ ...named, values: [acme.id] }))).rows).toEqual([{ owner: acme.id }]);
      await as(globex, () => scoped.query(drop));
      expect((await as(globex, () => scoped.query({ ...named, values: [globex.id] }))).rows).toEqual([{ owner: globex.id }]);
    }
    // DEALLOCATE is not transactional: the statement that fails after it leaves it dropped.
    await expect(as(acme, () => scoped.query('DEALLOCATE ALL; SELECT 1 / 0'))).rejects.toMatchObject({ code: '22012' });
    expect((await as(acme, () => scoped.query({ ...named, values: [acme.id] }))).rows).toEqual([{ owner: acme.id }]);
    // …and one that failed on its own (DISCARD ALL inside a transaction block) dropped nothing.
    await as(acme, async () => {
      const client = await scoped.connect();
      try {
        await client.query('BEGIN');
        await expect(client.query('DISCARD ALL')).rejects.toMatchObject({ code: '25001' });
        await client.query('ROLLBACK');
        expect((await client.query({ ...named, values: [acme.id] })).rows).toEqual([{ owner: acme.id }]);
      } finally {
        client.release();
      }
    });
  });

  it('a setting the server reports, changed inside a function, is cleaned too', async () => {
    const shared = `"${tenancy.sharedSchema}"`;
    await db.pool.query(`CREATE OR REPLACE FUNCTION ${shared}.move_zone() RETURNS text LANGUAGE sql AS $$ SELECT set_config('TimeZone', 'Asia/Tokyo', false) $$`);
    const zone = await value(globex, 'SHOW TimeZone');
    await as(acme, () => scoped.query(`SELECT ${shared}.move_zone()`));
    expect(await value(acme, 'SHOW TimeZone')).toBe('Asia/Tokyo');
    expect(await value(globex, 'SHOW TimeZone')).toBe(zone);
  });

  it("resetBetweenTenants: 'always' also cleans what a function set without the server reporting it", async () => {
    const shared = `"${tenancy.sharedSchema}"`;
    await db.pool.query(`CREATE OR REPLACE FUNCTION ${shared}.log_in() RETURNS text LANGUAGE sql AS $$ SELECT set_config('app.user_id', '9', false) $$`);
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const always = tenantPool(tenancy, pool, { resetBetweenTenants: 'always' });
      const read = async (tenant: Tenant, text: string): Promise<unknown> => Object.values((await as(tenant, () => always.query(text))).rows[0] ?? {})[0];
      await as(acme, () => always.query(`SELECT ${shared}.log_in()`));
      expect(await read(acme, "SELECT current_setting('app.user_id', true)")).toBe('9');
      expect(await read(globex, "SELECT coalesce(current_setting('app.user_id', true), '')")).toBe('');
    } finally {
      await pool.end();
    }
  });

  it('the plain pg.Pool gets the connection back clean: login role, default path, no tenant settings', async () => {
    const plain = async (text: string): Promise<unknown> => Object.values((await one.query(text)).rows[0] ?? {})[0];
    const me = await plain('SELECT current_user');
    const defaultPath = await plain('SHOW search_path');
    await as(acme, () => scoped.query("SELECT set_config('app.user_id', '42', false)"));
    expect(await plain('SELECT current_user')).toBe(me);
    await as(acme, () => scoped.query('SELECT 1'));
    expect(await plain('SHOW search_path')).toBe(defaultPath);
    await as(acme, () => scoped.query("SET app.user_id = '42'"));
    expect(await plain("SELECT coalesce(current_setting('app.user_id', true), '')")).toBe('');
    // And tenantPool finds its scope again after the plain use.
    expect(await value(acme, 'SELECT DISTINCT owner FROM items')).toBe(acme.id);
  });

  it('a cleanup undone by a ROLLBACK in the same query is sent again', async () => {
    await as(acme, () => scoped.query("CREATE TEMP TABLE kept AS SELECT 'acme'::text AS owner"));
    // Sent as `<cleanup>; SET …; BEGIN; SELECT 1; ROLLBACK`: the ROLLBACK undoes the cleanup too.
    await as(globex, () => scoped.query('BEGIN; SELECT 1; ROLLBACK'));
    expect(await value(globex, "SELECT to_regclass('pg_temp.kept')::text")).toBeNull();
  });

  it('keeps what a tenant set for its own next statements on a checked-out client', async () => {
    await as(acme, async () => {
      const client = await scoped.connect();
      try {
        await client.query("SELECT set_config('app.user_id', '7', false)");
        expect((await client.query("SELECT current_setting('app.user_id') AS v")).rows).toEqual([{ v: '7' }]);
      } finally {
        client.release();
      }
    });
  });
});
