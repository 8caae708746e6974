/**
 * tenantPool under faults, against a real PostgreSQL: killed backends, timeouts, failed
 * statements, pool exhaustion, clients released dirty, cursors, prepared statements, statements
 * that cannot run in a transaction; then the leaks found while trying to break it, each pinned
 * by a test that failed before its fix in src/pg (most of them by reading another tenant's rows).
 *
 * Every test that shares one connection between tenants uses a pool of `max: 1`, so the
 * connection a tenant gets is, for sure, the one another tenant left behind.
 */
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Tenancy, Tenant } from '../../src/index.js';
import { type TenantClient, tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from './fixtures.js';

/** The part of pg-cursor (which ships no types) these tests use. */
interface CursorLike {
  read(rows: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
const Cursor = createRequire(import.meta.url)('pg-cursor') as new (text: string, values?: unknown[]) => CursorLike;

/** What TenantClient.query accepts as a submittable (pg-cursor, pg-query-stream). */
type AnySubmittable = Parameters<TenantClient['query']>[0] & { submit(connection: unknown): void };

const db = useTestDatabase();

let tenancy: Tenancy;
let ids: string[];
let tenants: Map<string, Tenant>;
let serverVersion: number;
const pools: pg.Pool[] = [];
/** A generous bound for what settles asynchronously (events, statistics): functional, not a timing assertion. */
const settle = { timeout: 10_000, interval: 20 };

beforeAll(async () => {
  ({ tenancy, ids } = await tenantsWithMarkers(db.pool, 3));
  tenants = new Map();
  for (const id of ids) tenants.set(id, (await tenancy.registry.get(id))!);
  serverVersion = Number((await db.pool.query('SHOW server_version_num')).rows[0].server_version_num);
  const shared = `"${tenancy.sharedSchema}"`;
  // A procedure that ends its transaction, and a function that moves the session's search_path
  // where no query text can see it.
  await db.pool.query(`CREATE PROCEDURE ${shared}.undo_work(x int) LANGUAGE plpgsql AS $$ BEGIN ROLLBACK; END $$`);
  await db.pool.query(
    `CREATE PROCEDURE ${shared}.commit_work(who text) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO items (owner, note) VALUES (who, 'by a procedure'); COMMIT; END $$`,
  );
  await db.pool.query(
    `CREATE FUNCTION ${shared}.relocate(target text) RETURNS text LANGUAGE sql AS $$ SELECT pg_catalog.set_config('search_path', target, false) $$`,
  );
  // More rows for the cursor tests: 60 per tenant, each with its owner.
  for (const tenant of tenants.values()) {
    await db.pool.query(`INSERT INTO "${tenant.schema}".items (owner, note) SELECT $1, 'bulk' FROM generate_series(1, 60)`, [tenant.id]);
  }
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end().catch(() => undefined)));
});

function newPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max: 1, ...options });
  pools.push(pool);
  return pool;
}

const owners = (result: pg.QueryResult) => result.rows.map((row) => row.owner as string);

/** The distinct owners of the marker rows (note IS NULL) `id` reads through `scoped`. */
async function read(scoped: TenantPool, id: string): Promise<string[]> {
  return tenancy.run(id, async () => owners(await scoped.query('SELECT owner FROM items WHERE note IS NULL ORDER BY id')));
}

/** Every tenant reads its markers through `scoped`, twice, in an order that switches tenants on each query. */
async function everyTenantSeesItsOwn(scoped: TenantPool): Promise<void> {
  for (const id of [...ids, ...[...ids].reverse()]) expect(await read(scoped, id), `tenant ${id}`).toEqual([id]);
}

async function backendPid(scoped: TenantPool, id: string): Promise<number> {
  return tenancy.run(id, async () => (await scoped.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid as number);
}

/** Waits until backend `pid` is running a statement (so a kill lands mid-query). */
async function waitUntilActive(pid: number): Promise<void> {
  await vi.waitFor(
    async () => {
      const { rows } = await db.pool.query("SELECT state FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'", [pid]);
      expect(rows[0]?.state).toBe('active');
    },
    { timeout: 10_000, interval: 10 },
  );
}

async function terminate(pid: number): Promise<void> {
  const { rows } = await db.pool.query('SELECT pg_terminate_backend($1) AS done', [pid]);
  expect(rows[0].done).toBe(true);
}

describe('tenantPool under faults', () => {
  it('a backend killed under a checked-out client: a clear error, no crash, the pool recovers and every tenant sees its own rows', async () => {
    const pool = newPool({ max: 2 });
    const scoped = tenantPool(tenancy, pool);
    const poolErrors: Error[] = [];
    scoped.on('error', (error: Error) => poolErrors.push(error));

    // Killed mid-query, with an 'error' listener on the tenant client.
    const killed = await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      const clientErrors: Error[] = [];
      client.on('error', (error: Error) => clientErrors.push(error));
      const pid = client.processID!;
      // The expectation is attached at once: the rejection may come while terminate() still awaits its answer.
      const rejected = expect(client.query('SELECT pg_sleep(30), owner FROM items WHERE note IS NULL')).rejects.toMatchObject({
        code: '57P01',
        message: expect.stringMatching(/terminating connection due to administrator command/),
      });
      await waitUntilActive(pid);
      await terminate(pid);
      await rejected;
      // pg emits 'error' on the client when the socket closes; the tenant client re-emits it.
      await vi.waitFor(() => expect(clientErrors.map((error) => error.message)).toEqual(['Connection terminated unexpectedly']), settle);
      await expect(client.query('SELECT 1')).rejects.toThrow(/not queryable/);
      client.release();
      return pid;
    });

    // Killed while checked out and idle, with no 'error' listener: pg's 'error' must not crash the process.
    const idle = await tenancy.run('tenant-1', async () => {
      const client = await scoped.connect();
      const pid = client.processID!;
      expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-1']);
      await terminate(pid);
      await expect
        .poll(async () => client.query('SELECT 1').then(() => 'ok', (error: Error) => error.message), { timeout: 10_000, interval: 20 })
        .toMatch(/terminat|not queryable/);
      client.release();
      return pid;
    });

    // Killed while idle in the pool: the pool drops it and emits 'error' (re-emitted by tenantPool).
    const pooledPid = await backendPid(scoped, 'tenant-2');
    await terminate(pooledPid);
    await vi.waitFor(() => expect(poolErrors.map((error) => error.message)).toEqual([expect.stringMatching(/terminating connection due to administrator command|Connection terminated/)]), settle);

    await everyTenantSeesItsOwn(scoped);
    const pids = await Promise.all(ids.map((id) => backendPid(scoped, id)));
    for (const pid of pids) expect([killed, idle, pooledPid]).not.toContain(pid);
    expect(pool.totalCount).toBeLessThanOrEqual(2);
  });

  it.each([
    // pool.query submits its query in pg-pool's callback: the FATAL reaches the query itself.
    ['query', (scoped: TenantPool) => scoped.query('SELECT owner FROM items WHERE note IS NULL'), /terminating connection/],
    // connect() wraps the client a few microtasks later: pg marks it not queryable meanwhile.
    [
      'connect',
      async (scoped: TenantPool) => {
        const client = await scoped.connect();
        try {
          return await client.query('SELECT owner FROM items WHERE note IS NULL');
        } finally {
          client.release();
        }
      },
      /not queryable/,
    ],
  ] as const)('a connection error between pg-pool handing a client out and %s taking it does not crash the process', async (_, use, expected) => {
    // pg-pool removes its idle 'error' listener, then hands the client over; tenantry attaches
    // its own later. A FATAL that pg parses in between (the same socket read as the
    // ReadyForQuery that completed a new connection, or that let a failed query's client go back
    // to a waiter) is emitted as 'error' on the client: with no listener, an uncaught exception
    // (seen in the isolation run). Here pg gets that FATAL at that point, as its parser would hand it over.
    const pool = newPool();
    const scoped = tenantPool(tenancy, pool);
    const pid = await backendPid(scoped, 'tenant-0');
    let listeners = -1;
    pool.once('acquire', (client: pg.PoolClient) => {
      queueMicrotask(() => {
        listeners = client.listenerCount('error');
        const fatal = Object.assign(new Error('terminating connection due to administrator command'), { severity: 'FATAL', code: '57P01' });
        // Only when someone listens: without one this would throw out of the test runner itself.
        if (listeners > 0) (client as unknown as { connection: EventEmitter }).connection.emit('errorMessage', fatal);
      });
    });
    await expect(tenancy.run('tenant-1', () => use(scoped))).rejects.toThrow(expected);
    expect(listeners, "a pooled client had no 'error' listener while being checked out").toBeGreaterThan(0);
    // The connection cannot be trusted after a FATAL, so it was destroyed: its backend goes away.
    await vi.waitFor(async () => expect((await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount).toBe(0), settle);
    await everyTenantSeesItsOwn(scoped);
    expect(await backendPid(scoped, 'tenant-2')).not.toBe(pid);
  });

  it('statement_timeout: the statement fails with 57014 and the SET sent with it is not trusted', async () => {
    // Every other statement here must finish within it on a loaded machine; pg_sleep(5) must not.
    const scoped = tenantPool(tenancy, newPool({ statement_timeout: 2_000 }));
    await everyTenantSeesItsOwn(scoped);
    // On one checked-out client, on the connection tenant-0 left: tenant-1's scope travels with a
    // statement that times out, so the implicit transaction that held the SET is rolled back.
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    await tenancy.run('tenant-1', async () => {
      const client = await scoped.connect();
      try {
        await expect(client.query('SELECT pg_sleep(5), owner FROM items')).rejects.toMatchObject({
          code: '57014',
          message: expect.stringMatching(/canceling statement due to statement timeout/),
        });
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-1']);
      } finally {
        client.release();
      }
    });
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    // Through tenantPool.query, and inside transaction() with the timeout set by the user's own SQL.
    await expect(tenancy.run('tenant-2', () => scoped.query('SELECT pg_sleep(5), owner FROM items'))).rejects.toMatchObject({ code: '57014' });
    expect(await read(scoped, 'tenant-2')).toEqual(['tenant-2']);
    await expect(
      tenancy.run('tenant-1', () =>
        scoped.transaction(async (client) => {
          await client.query("SET LOCAL statement_timeout = '50ms'");
          await client.query('SELECT pg_sleep(5)');
        }),
      ),
    ).rejects.toMatchObject({ code: '57014' });
    await everyTenantSeesItsOwn(scoped);
  });

  it('a failed statement outside and inside a transaction leaves every tenant in its own schema', async () => {
    const scoped = tenantPool(tenancy, newPool());
    // Outside, on one client on the connection tenant-1 left: the pipelined SET and the failing
    // statement share an implicit transaction, both undone.
    await read(scoped, 'tenant-1');
    await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      try {
        await expect(client.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-0']);
        await expect(client.query('SELECT owner FROM items WHERE id = $1', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-0']);
      } finally {
        client.release();
      }
    });
    // The same through tenantPool.query.
    await read(scoped, 'tenant-0');
    await expect(tenancy.run('tenant-1', () => scoped.query('SELECT 1 / 0'))).rejects.toMatchObject({ code: '22012' });
    expect(await read(scoped, 'tenant-1')).toEqual(['tenant-1']);
    await expect(tenancy.run('tenant-2', () => scoped.query('SELECT * FROM no_such_table WHERE owner = $1', ['x']))).rejects.toMatchObject({
      code: '42P01',
    });
    expect(await read(scoped, 'tenant-2')).toEqual(['tenant-2']);

    // Inside, by hand: the transaction is aborted, then rolled back, and the client goes on in its tenant.
    await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      try {
        await client.query('BEGIN');
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-0']);
        await expect(client.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012' });
        await expect(client.query('SELECT owner FROM items')).rejects.toMatchObject({ code: '25P02' });
        await client.query('ROLLBACK');
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-0']);
      } finally {
        client.release();
      }
    });

    // Inside transaction(): rejected with the statement's error, nothing written.
    await expect(
      tenancy.run('tenant-1', () =>
        scoped.transaction(async (client) => {
          await client.query("INSERT INTO items (owner, note) VALUES ('tenant-1', 'doomed')");
          await client.query('SELECT * FROM missing_table');
        }),
      ),
    ).rejects.toMatchObject({ code: '42P01' });
    const doomed = await tenancy.run('tenant-1', () => scoped.query("SELECT count(*)::int AS n FROM items WHERE note = 'doomed'"));
    expect(doomed.rows[0]?.n).toBe(0);
    await everyTenantSeesItsOwn(scoped);
  });

  it('pool exhaustion with connectionTimeoutMillis: a clear error, then the pool recovers', async () => {
    // Long enough for the first connection to open on a loaded machine: the same timeout bounds it.
    const pool = newPool({ connectionTimeoutMillis: 1_000 });
    const scoped = tenantPool(tenancy, pool);
    const held = await tenancy.run('tenant-0', () => scoped.connect());
    await expect(tenancy.run('tenant-1', () => scoped.query('SELECT owner FROM items'))).rejects.toThrow(/timeout exceeded when trying to connect/);
    await expect(tenancy.run('tenant-2', () => scoped.connect())).rejects.toThrow(/timeout exceeded when trying to connect/);
    expect(pool.waitingCount).toBe(0);
    held.release();
    await everyTenantSeesItsOwn(scoped);
    expect(pool.totalCount).toBe(1);
  });

  it('a client released with an error is destroyed, not reused', async () => {
    const scoped = tenantPool(tenancy, newPool());
    const first = await backendPid(scoped, 'tenant-0');
    expect(await backendPid(scoped, 'tenant-1')).toBe(first); // released cleanly: reused
    await tenancy.run('tenant-1', async () => {
      const client = await scoped.connect();
      expect(client.processID).toBe(first);
      client.release(new Error('the caller lost track of this connection'));
    });
    const second = await backendPid(scoped, 'tenant-2');
    expect(second).not.toBe(first);
    await everyTenantSeesItsOwn(scoped);
  });

  it('a client released inside an open transaction is destroyed, and its work is rolled back', async () => {
    const scoped = tenantPool(tenancy, newPool());
    const first = await backendPid(scoped, 'tenant-0');
    await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      await client.query('BEGIN');
      await client.query("INSERT INTO items (owner, note) VALUES ('tenant-0', 'left open')");
      client.release();
    });
    expect(await backendPid(scoped, 'tenant-1')).not.toBe(first);
    const left = await tenancy.run('tenant-0', () => scoped.query("SELECT count(*)::int AS n FROM items WHERE note = 'left open'"));
    expect(left.rows[0]?.n).toBe(0);
    await everyTenantSeesItsOwn(scoped);
  });

  it('pg-cursor and pg-query-stream keep the tenant they started with while other tenants run meanwhile', async () => {
    const pool = newPool({ max: 3 });
    const scoped = tenantPool(tenancy, pool);
    const bulk = "SELECT owner FROM items WHERE note = 'bulk' ORDER BY id";
    const clientA = await tenancy.run('tenant-0', () => scoped.connect());
    const clientB = await tenancy.run('tenant-1', () => scoped.connect());
    try {
      // The user's SQL moved clientA's path away, and clientB's connection is new: each cursor's scope must travel with it.
      const cursor = await tenancy.run('tenant-0', async () => {
        await clientA.query("SET search_path TO public");
        return clientA.query(new Cursor(bulk) as unknown as AnySubmittable) as unknown as CursorLike;
      });
      const stream = await tenancy.run('tenant-1', () => clientB.query(new QueryStream(bulk, [], { batchSize: 4 }) as unknown as AnySubmittable) as unknown as QueryStream);
      const fromCursor: string[] = [];
      const fromStream: string[] = [];
      stream.pause();
      stream.on('data', (row: { owner: string }) => fromStream.push(row.owner));
      const streamEnded = new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('error', reject);
      });
      for (let round = 0; round < 12; round += 1) {
        fromCursor.push(...(await tenancy.run('tenant-0', () => cursor.read(5))).map((row) => row.owner as string));
        stream.resume();
        await new Promise((resolve) => setImmediate(resolve));
        stream.pause();
        // The third connection switches tenants on every query meanwhile.
        expect(await read(scoped, ids[round % 3]!)).toEqual([ids[round % 3]]);
      }
      fromCursor.push(...(await tenancy.run('tenant-0', () => cursor.read(100))).map((row) => row.owner as string));
      await tenancy.run('tenant-0', () => cursor.close());
      stream.resume();
      await streamEnded;
      expect(fromCursor).toHaveLength(60);
      expect(new Set(fromCursor)).toEqual(new Set(['tenant-0']));
      expect(fromStream).toHaveLength(60);
      expect(new Set(fromStream)).toEqual(new Set(['tenant-1']));
      // The clients go on in their tenants after their cursors.
      expect(owners(await tenancy.run('tenant-0', () => clientA.query('SELECT owner FROM items WHERE note IS NULL')))).toEqual(['tenant-0']);
      expect(owners(await tenancy.run('tenant-1', () => clientB.query('SELECT owner FROM items WHERE note IS NULL')))).toEqual(['tenant-1']);
    } finally {
      clientA.release();
      clientB.release();
    }
    await everyTenantSeesItsOwn(scoped);
  });

  it('a named prepared statement used by every tenant on one connection returns each tenant its own rows', async () => {
    // PostgreSQL re-analyses a cached statement when search_path changes (plancache.c), also a
    // generic plan; this proves it through tenantPool, with the statement parsed once per connection.
    const scoped = tenantPool(tenancy, newPool());
    const pid = await backendPid(scoped, 'tenant-0');
    const named = { name: 'faults-owners', text: 'SELECT owner FROM items WHERE note IS NOT DISTINCT FROM $1 ORDER BY id', values: [null] };
    for (let round = 0; round < 4; round += 1) {
      for (const id of ids) {
        // Eight runs per tenant in a row: past the five custom plans, so a generic plan is cached and reused.
        for (let run = 0; run < 8; run += 1) {
          expect(owners(await tenancy.run(id, () => scoped.query(named))), `${id}, round ${round}`).toEqual([id]);
        }
        expect(owners(await tenancy.run(id, () => scoped.query({ ...named, rowMode: 'array' as const }))).length).toBe(1);
      }
    }
    const statements = await tenancy.run('tenant-0', () =>
      scoped.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'faults-owners'"),
    );
    expect(statements.rows).toHaveLength(1);
    expect(Number(statements.rows[0]?.generic_plans)).toBeGreaterThan(0);

    // SQL-level PREPARE / EXECUTE: prepared in one tenant, executed in the others.
    await tenancy.run('tenant-0', () => scoped.query('PREPARE faults_sql_owners AS SELECT owner FROM items WHERE note IS NULL'));
    for (const id of [...ids, ...ids]) {
      expect(owners(await tenancy.run(id, () => scoped.query('EXECUTE faults_sql_owners'))), id).toEqual([id]);
    }
    expect(await backendPid(scoped, 'tenant-2')).toBe(pid);
  });

  it('VACUUM and CREATE INDEX CONCURRENTLY run in the tenant schema, not in the schema the connection had', async () => {
    const scoped = tenantPool(tenancy, newPool());
    const schemaOf = (id: string) => tenants.get(id)!.schema;
    const counts = async (id: string) => {
      const { rows } = await db.pool.query(
        "SELECT vacuum_count::int AS vacuums, analyze_count::int AS analyzes FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'items'",
        [schemaOf(id)],
      );
      return rows[0] as { vacuums: number; analyzes: number };
    };
    await read(scoped, 'tenant-0');
    await tenancy.run('tenant-1', () => scoped.query('VACUUM items'));
    await vi.waitFor(async () => expect(await counts('tenant-1')).toEqual({ vacuums: 1, analyzes: 0 }), settle);
    await read(scoped, 'tenant-0');
    await tenancy.run('tenant-2', async () => {
      const client = await scoped.connect();
      try {
        await client.query('VACUUM (ANALYZE) items');
      } finally {
        client.release();
      }
    });
    await vi.waitFor(async () => expect(await counts('tenant-2')).toEqual({ vacuums: 1, analyzes: 1 }), settle);
    expect(await counts('tenant-0')).toEqual({ vacuums: 0, analyzes: 0 });

    await read(scoped, 'tenant-0');
    await tenancy.run('tenant-1', () => scoped.query('CREATE INDEX CONCURRENTLY faults_items_note ON items (note)'));
    const indexes = await db.pool.query("SELECT schemaname FROM pg_indexes WHERE indexname = 'faults_items_note'");
    expect(indexes.rows.map((row) => row.schemaname)).toEqual([schemaOf('tenant-1')]);
    await everyTenantSeesItsOwn(scoped);
  });
});

describe('leaks (and one failure) found while breaking tenantPool: each test failed before its fix', () => {
  /** A fresh pool of one connection, with tenant-1's schema on it (so tenant-0's scope must be set again). */
  async function connectionLeftByTenant1(): Promise<TenantPool> {
    const scoped = tenantPool(tenancy, newPool());
    expect(await read(scoped, 'tenant-1')).toEqual(['tenant-1']);
    return scoped;
  }

  it('a multi-statement BEGIN … ROLLBACK in one query rolls back the SET sent with it', async () => {
    const scoped = await connectionLeftByTenant1();
    // Sent as `SET search_path TO <tenant-0>; BEGIN; …; ROLLBACK`: the SET joins the block and is undone.
    await tenancy.run('tenant-0', () => scoped.query("BEGIN; INSERT INTO items (owner, note) VALUES ('tenant-0', 'dry run'); ROLLBACK"));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });

  it('ROLLBACK AND CHAIN keeps the chained transaction in the tenant', async () => {
    const scoped = await connectionLeftByTenant1();
    await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      try {
        await client.query('BEGIN');
        await client.query('ROLLBACK AND CHAIN');
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-0']);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });

  it("the user's own SET search_path inside a transaction, then ROLLBACK, on a client and in transaction()", async () => {
    const scoped = await connectionLeftByTenant1();
    await tenancy.run('tenant-0', async () => {
      const client = await scoped.connect();
      await client.query('BEGIN');
      await client.query('SET search_path TO public');
      await client.query('ROLLBACK');
      client.release();
    });
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    expect(await read(scoped, 'tenant-1')).toEqual(['tenant-1']);
    await tenancy.run('tenant-0', () =>
      scoped.transaction(async (client) => {
        await client.query('RESET ALL');
        await client.query('ROLLBACK');
      }),
    );
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });

  it('SET SCHEMA and a parameterised set_config move the path too', async () => {
    const scoped = await connectionLeftByTenant1();
    const other = tenants.get('tenant-1')!.schema;
    await tenancy.run('tenant-0', () => scoped.query(`SET SCHEMA '${other}'`));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    await tenancy.run('tenant-0', () => scoped.query('SELECT pg_catalog.set_config($1, $2, false)', ['search_path', `"${other}"`]));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    // A named statement executed again by name alone (no text): its text is the one it was prepared with.
    const named = { name: 'faults-path-setter', text: 'SELECT pg_catalog.set_config($1, $2, false)', values: ['search_path', `"${other}"`] };
    await tenancy.run('tenant-0', () => scoped.query(named));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    await tenancy.run('tenant-0', () => scoped.query({ name: named.name, values: named.values } as unknown as pg.QueryConfig));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });

  it('CALL of a procedure that ends the transaction the SET was sent in', async () => {
    const scoped = await connectionLeftByTenant1();
    // PostgreSQL 15 runs it (and its ROLLBACK undoes the pipelined set_config); 18 refuses it.
    await tenancy.run('tenant-0', () => scoped.query('CALL undo_work($1)', [1])).catch((error: { code?: string }) => expect(error.code).toBe('2D000'));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });

  it('CALL of a procedure that commits runs, in the tenant, whichever tenant the connection served last', async () => {
    // Not a leak but the same root: pipelined with a SET in one message, a CALL is atomic
    // ("invalid transaction termination"), so it failed only when the connection had to switch tenants.
    const scoped = await connectionLeftByTenant1();
    await tenancy.run('tenant-0', () => scoped.query("CALL commit_work('tenant-0')"));
    expect(await read(scoped, 'tenant-1')).toEqual(['tenant-1']);
    await tenancy.run('tenant-0', () => scoped.query('CALL commit_work($1)', ['tenant-0']));
    const [zero, one] = ['tenant-0', 'tenant-1'].map((id) => `"${tenants.get(id)!.schema}".items`);
    const written = await db.pool.query(
      `SELECT owner, count(*)::int AS n FROM (SELECT owner FROM ${zero} WHERE note = 'by a procedure'
       UNION ALL SELECT owner FROM ${one} WHERE note = 'by a procedure') AS w GROUP BY owner`,
    );
    expect(written.rows).toEqual([{ owner: 'tenant-0', n: 2 }]);
    await db.pool.query(`DELETE FROM ${zero} WHERE note = 'by a procedure'`);
  });

  it("a temporary table one tenant leaves on a connection does not shadow another tenant's table", async () => {
    const scoped = await connectionLeftByTenant1();
    await tenancy.run('tenant-1', () => scoped.query("CREATE TEMP TABLE items AS SELECT 'temp of tenant-1'::text AS owner, NULL::text AS note, 0 AS id"));
    // Reached on purpose by its own tenant, it is there…
    const temp = await tenancy.run('tenant-1', () => scoped.query('SELECT owner FROM pg_temp.items'));
    expect(owners(temp)).toEqual(['temp of tenant-1']);
    await everyTenantSeesItsOwn(scoped);
    // …and once another tenant used the connection, it is gone (the session was cleaned).
    const after = await tenancy.run('tenant-1', () => scoped.query("SELECT to_regclass('pg_temp.items') AS found"));
    expect(after.rows).toEqual([{ found: null }]);
  });

  it('a tenantPool in transaction mode sharing the pg.Pool does not make a session-mode one trust a SET LOCAL', async () => {
    const pool = newPool();
    const session = tenantPool(tenancy, pool);
    const local = tenantPool(tenancy, pool, { mode: 'transaction' });
    expect(await read(session, 'tenant-0')).toEqual(['tenant-0']);
    expect(await read(local, 'tenant-1')).toEqual(['tenant-1']);
    expect(await read(session, 'tenant-1')).toEqual(['tenant-1']);
    // COMMIT AND CHAIN ends the block that held the SET LOCAL.
    expect(await read(session, 'tenant-0')).toEqual(['tenant-0']);
    await tenancy.run('tenant-2', async () => {
      const client = await local.connect();
      try {
        await client.query('BEGIN');
        await client.query('COMMIT AND CHAIN');
        expect(owners(await client.query('SELECT owner FROM items WHERE note IS NULL'))).toEqual(['tenant-2']);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
  });

  it('a server-side function that moves search_path is seen through ParameterStatus (PostgreSQL 18+)', async (context) => {
    if (serverVersion < 180000) {
      context.skip(
        `PostgreSQL ${serverVersion} does not report search_path: a change made inside a function body is invisible to the wrapper (known limitation)`,
      );
    }
    const scoped = await connectionLeftByTenant1();
    const other = tenants.get('tenant-1')!.schema;
    await tenancy.run('tenant-0', () => scoped.query('SELECT relocate($1)', [`"${other}"`]));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
    await tenancy.run('tenant-0', () => scoped.query('SELECT relocate($1)', [`"${other}"`]));
    expect(await read(scoped, 'tenant-0')).toEqual(['tenant-0']);
  });
});
