/**
 * tenantPool behind a real PgBouncer in transaction pool mode (invariant 7).
 *
 * - `mode: 'transaction'` keeps every query in its tenant while client connections share a
 *   couple of server connections, and leaves no session state behind on them.
 * - `mode: 'session'` (a session-level SET, sent only when the wrapper believes its connection
 *   lacks the path) leaks across tenants there: shown deterministically with one server connection.
 *
 * Both run under each strategy: `schema`, and `rls`, where the tenants share one `items` table
 * behind row-level security, the pool connects as a login role the policies apply to, and the
 * tenant setting (`SET LOCAL tenantry.tenant_id`) is what each query must carry.
 *
 * Needs the pgbouncer binary (`apt-get install -y pgbouncer`); skipped with that message without it.
 * PgBouncer 1.18 (Debian 12) does not track search_path and does not support named prepared
 * statements in transaction mode, so no query here is named.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenancy, Tenant } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { type PgBouncer, PGBOUNCER_INSTALL, pgbouncerBinary, startPgBouncer } from '../helpers/pgbouncer.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { createMarkedTenants, MARKED_SHARED_SCHEMA, rowLevelLogin } from './fixtures.js';

const installed = pgbouncerBinary() !== undefined;
if (!installed) console.warn(`test/isolation/pgbouncer.test.ts skipped: pgbouncer is not installed (\`${PGBOUNCER_INSTALL}\`)`);
const title = (name: string) => (installed ? name : `${name} (skipped: pgbouncer is not installed; run \`${PGBOUNCER_INSTALL}\`)`);

const owners = (result: pg.QueryResult) => result.rows.map((row) => row.owner as string);

/** One query on a plain, unscoped pg client through `url`: what any other app on the pooler would see. */
async function rawQuery(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** Starts a PgBouncer for one test and stops it after, whatever happens. */
async function withBouncer<R>(url: string, poolSize: number, fn: (bouncer: PgBouncer) => Promise<R>): Promise<R> {
  const bouncer = await startPgBouncer(url, { poolSize });
  if (bouncer === undefined) throw new Error(`pgbouncer is not installed: ${PGBOUNCER_INSTALL}`);
  try {
    return await fn(bouncer);
  } finally {
    await bouncer.stop();
  }
}

type Strategy = 'schema' | 'rls';

/** A strategy's tenants, and the URL its app connects with (under rls a login role the policies apply to). */
async function marked(db: ReturnType<typeof useTestDatabase>, strategy: Strategy, count: number, roles: boolean) {
  const made = await createMarkedTenants(db.pool, count, 8, { strategy, ...(roles ? { tenantRoles: { prefix: db.rolePrefix } } : {}) });
  const url = strategy === 'rls' ? await rowLevelLogin(db.pool, db.url, `${db.rolePrefix}app`, made.tenancy.tenantRoles?.loginGroup) : db.url;
  const defaultPath = (await rawQuery(url, 'SHOW search_path')).rows[0].search_path as string;
  return { ...made, url, defaultPath };
}

/** What a query selects to say which tenant it ran in: the search_path, or under rls the tenant setting. */
const scopeOf = (strategy: Strategy) => (strategy === 'rls' ? "current_setting('tenantry.tenant_id', true)" : "current_setting('search_path')");

/** Whether a scope the query selected is `tenant`'s. */
const inScopeOf = (strategy: Strategy, tenant: Tenant, scope: unknown) => typeof scope === 'string' && (strategy === 'rls' ? scope === tenant.id : scope.includes(tenant.schema));

/** A tenant's rows as the superuser reads them (its table, or under rls its rows of the shared one). */
async function tenantRows(db: ReturnType<typeof useTestDatabase>, strategy: Strategy, tenant: Tenant, where = 'true'): Promise<pg.QueryResult> {
  return strategy === 'rls'
    ? db.pool.query(`SELECT owner, note FROM "${MARKED_SHARED_SCHEMA}".items WHERE tenant_id = $1 AND ${where}`, [tenant.id])
    : db.pool.query(`SELECT owner, note FROM "${tenant.schema}".items WHERE ${where}`);
}

for (const strategy of ['schema', 'rls'] as const) {
  const SCOPE = scopeOf(strategy);
  describe.skipIf(!installed)(title(`tenantPool mode "transaction" behind PgBouncer (pool_mode = transaction), strategy ${strategy}`), () => {
    const db = useTestDatabase();
    const TENANTS = 30;
    const OPERATIONS = 3_000;
    const CONCURRENCY = 20;
    const SERVER_CONNECTIONS = 2;
    let tenancy: Tenancy;
    let tenants: readonly Tenant[];
    let url: string;
    let defaultPath: string;
    const roles = process.env.TENANTRY_ISOLATION_ROLES !== '0';
    let bouncer: PgBouncer;
    let pool: pg.Pool;
    let scoped: TenantPool;
    const servedBy = new Set<number>();
    let peakClients = 0;

    beforeAll(async () => {
      // Tenant roles on unless TENANTRY_ISOLATION_ROLES=0 (as the isolation storm).
      ({ tenancy, tenants, url, defaultPath } = await marked(db, strategy, TENANTS, roles));
      expect(tenants).toHaveLength(TENANTS);
      const started = await startPgBouncer(url, { poolSize: SERVER_CONNECTIONS, maxClientConn: 200 });
      if (started === undefined) throw new Error(`pgbouncer is not installed: ${PGBOUNCER_INSTALL}`);
      bouncer = started;
      console.log(`tenantry pgbouncer tests: ${bouncer.version}, pool_mode=transaction, default_pool_size=${SERVER_CONNECTIONS}`);
      pool = new pg.Pool({ connectionString: bouncer.url, max: 10 });
      pool.on('acquire', () => (peakClients = Math.max(peakClients, pool.totalCount)));
      scoped = tenantPool(tenancy, pool, { mode: 'transaction' });
    });

    afterAll(async () => {
      await pool?.end();
      await bouncer?.stop();
    });

    it(`keeps ${OPERATIONS} random-tenant queries and transactions at concurrency ${CONCURRENCY} in their tenant`, async () => {
      const seed = Number(process.env.TENANTRY_SEED ?? Date.now() % 1_000_000);
      const next = seededRandom(seed);
      const kinds = ['plain', 'parameterised', 'arrayRows', 'multiStatement', 'transaction', 'beginCommit', 'failing', 'failingTransaction', 'shared', 'unscopedObserver'] as const;
      type Kind = (typeof kinds)[number];
      const plan = Array.from({ length: OPERATIONS }, () => ({
        tenant: tenants[Math.floor(next() * tenants.length)]!,
        kind: kinds[Math.floor(next() * kinds.length)]!,
      }));
      const problems: string[] = [];
      const ran = new Map<Kind, number>();
      const committed = new Map<string, number>();
      const observer = new pg.Pool({ connectionString: bouncer.url, max: 2 });

      const expectOwners = (what: string, tenant: Tenant, rows: string[]) => {
        if (rows.length === 0 || rows.some((owner) => owner !== tenant.id)) problems.push(`${what} in ${tenant.id} read rows of ${JSON.stringify([...new Set(rows)])}`);
      };
      const expectPath = (what: string, tenant: Tenant, scope: unknown) => {
        if (!inScopeOf(strategy, tenant, scope)) problems.push(`${what} in ${tenant.id} ran in scope ${String(scope)}`);
      };
      const expectCode = async (what: string, tenant: Tenant, promise: Promise<unknown>, code: string) => {
        const error = await promise.then(
          () => undefined,
          (e: unknown) => e,
        );
        if ((error as { code?: string } | undefined)?.code !== code) problems.push(`${what} in ${tenant.id}: expected ${code}, got ${String(error)}`);
      };

      const operations: Record<Kind, (tenant: Tenant, n: number) => Promise<void>> = {
        async plain(tenant) {
          const result = await scoped.query(`SELECT owner, ${SCOPE} AS path, pg_backend_pid() AS pid FROM items`);
          expectOwners('plain query', tenant, owners(result));
          expectPath('plain query', tenant, result.rows[0]?.path);
          for (const row of result.rows) servedBy.add(row.pid as number);
        },
        async parameterised(tenant) {
          const result = await scoped.query('SELECT owner, pg_backend_pid() AS pid FROM items WHERE id > $1 AND $2::text IS NOT NULL', [0, tenant.id]);
          expectOwners('parameterised query', tenant, owners(result));
          for (const row of result.rows) servedBy.add(row.pid as number);
        },
        async arrayRows(tenant) {
          const result = await scoped.query({ text: `SELECT owner, ${SCOPE} FROM items WHERE id > $1`, values: [0], rowMode: 'array' });
          const rows = result.rows as unknown as unknown[][];
          expectOwners('array-mode query', tenant, rows.map((row) => row[0] as string));
          expectPath('array-mode query', tenant, rows[0]?.[1]);
        },
        async multiStatement(tenant) {
          const results = (await scoped.query(`SELECT 1 AS one; SELECT owner, ${SCOPE} AS path FROM items`)) as unknown as pg.QueryResult[];
          const last = results[results.length - 1]!;
          expectOwners('multi-statement query', tenant, owners(last));
          expectPath('multi-statement query', tenant, last.rows[0]?.path);
        },
        async transaction(tenant, n) {
          await scoped.transaction(async (client) => {
            await client.query('INSERT INTO items (owner, note) VALUES ($1, $2)', [tenant.id, `tx-${n}`]);
            await new Promise((resolve) => setImmediate(resolve));
            const result = await client.query(`SELECT owner, ${SCOPE} AS path FROM items`);
            expectOwners('transaction()', tenant, owners(result));
            expectPath('transaction()', tenant, result.rows[0]?.path);
          });
          committed.set(tenant.id, (committed.get(tenant.id) ?? 0) + 1);
        },
        async beginCommit(tenant, n) {
          const client = await scoped.connect();
          const commit = n % 3 !== 0;
          try {
            await client.query('BEGIN');
            expectOwners('BEGIN … first read', tenant, owners(await client.query('SELECT owner FROM items')));
            await client.query({ text: 'INSERT INTO items (owner, note) VALUES ($1, $2)', values: [tenant.id, `tx-${n}`] });
            await new Promise((resolve) => setTimeout(resolve, 0));
            const result = await client.query(`SELECT owner, ${SCOPE} AS path FROM items`);
            expectOwners('BEGIN … second read', tenant, owners(result));
            expectPath('BEGIN … second read', tenant, result.rows[0]?.path);
            await client.query(commit ? 'COMMIT' : 'ROLLBACK');
          } finally {
            client.release();
          }
          if (commit) committed.set(tenant.id, (committed.get(tenant.id) ?? 0) + 1);
          // The same pg connection right after the transaction, outside any block.
          expectOwners('query after COMMIT/ROLLBACK', tenant, owners(await scoped.query('SELECT owner FROM items')));
        },
        async failing(tenant) {
          await expectCode('failing query', tenant, scoped.query('SELECT * FROM no_such_table'), '42P01');
          await expectCode('failing parameterised query', tenant, scoped.query('SELECT owner FROM items WHERE id = $1', ['not a number']), '22P02');
        },
        async failingTransaction(tenant, n) {
          await expectCode(
            'failing transaction',
            tenant,
            scoped.transaction(async (client) => {
              await client.query('INSERT INTO items (owner, note) VALUES ($1, $2)', [tenant.id, `doomed-${n}`]);
              await client.query('SELECT * FROM no_such_table');
            }),
            '42P01',
          );
        },
        async shared(tenant) {
          const plans = await tenancy.runShared(() => scoped.query('SELECT id FROM plans'));
          if (plans.rows[0]?.id !== 'free') problems.push(`shared scope in ${tenant.id} read plans ${JSON.stringify(plans.rows)}`);
          const read = tenancy.runShared(() => scoped.query('SELECT owner FROM items'));
          // Under rls the shared table is there, with no tenant setting: no rows, or with tenant roles a permission error.
          if (strategy === 'schema' || roles) await expectCode('shared scope reading a tenant table', tenant, read, strategy === 'rls' ? '42501' : '42P01');
          else if ((await read).rows.length !== 0) problems.push(`shared scope in ${tenant.id} read items ${JSON.stringify((await read).rows)}`);
        },
        async unscopedObserver() {
          // An unscoped client on the same pooler, sharing the same server connections.
          const result = await observer.query("SELECT current_setting('search_path') AS path, current_setting('tenantry.tenant_id', true) AS tenant");
          if (result.rows[0]?.path !== defaultPath) problems.push(`an unscoped client saw search_path ${String(result.rows[0]?.path)}`);
          if (![null, ''].includes(result.rows[0]?.tenant)) problems.push(`an unscoped client saw the tenant setting ${String(result.rows[0]?.tenant)}`);
        },
      };

      let cursor = 0;
      const worker = async () => {
        while (cursor < plan.length) {
          const n = cursor++;
          const { tenant, kind } = plan[n]!;
          ran.set(kind, (ran.get(kind) ?? 0) + 1);
          try {
            await tenancy.run(tenant, () => operations[kind](tenant, n));
          } catch (error) {
            problems.push(`${kind} #${n} in ${tenant.id} threw ${String(error)}`);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      } finally {
        await observer.end();
      }

      expect(problems.slice(0, 20), `seed ${seed} (TENANTRY_SEED=${seed} replays the plan)`).toEqual([]);
      expect([...ran.keys()].sort()).toEqual([...kinds].sort());
      // Ten client connections really shared the pooler's two server connections.
      expect(peakClients).toBeGreaterThan(SERVER_CONNECTIONS);
      expect(servedBy.size).toBeGreaterThan(0);
      // …and kept them: an SQL error, a ROLLBACK or a destroyed client connection closed none.
      expect(servedBy.size, `server connections used; PgBouncer log:\n${bouncer.log()}`).toBeLessThanOrEqual(SERVER_CONNECTIONS);

      // Every row of every tenant is that tenant's: no write went to another schema.
      for (const tenant of tenants) {
        const rows = await tenantRows(db, strategy, tenant);
        expect(new Set(owners(rows)), `rows of ${tenant.id}`).toEqual(new Set([tenant.id]));
        expect(rows.rows.filter((row) => String(row.note).startsWith('tx-')).length, `committed rows of ${tenant.id}`).toBe(committed.get(tenant.id) ?? 0);
        expect(rows.rows.filter((row) => String(row.note).startsWith('doomed-')).length).toBe(0);
      }
    });

    it('keeps the client and the server connection after a query fails (an SQL error is no reason to reconnect)', async () => {
      await withBouncer(url, 1, async (single) => {
        const solo = new pg.Pool({ connectionString: single.url, max: 1 });
        let connects = 0;
        solo.on('connect', () => (connects += 1));
        const one = tenantPool(tenancy, solo, { mode: 'transaction' });
        const pids = new Set<number>();
        try {
          for (const tenant of tenants.slice(0, 10)) {
            await tenancy.run(tenant, async () => {
              await expect(one.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
              await expect(one.query('SELECT owner FROM items WHERE id = $1', ['x'])).rejects.toMatchObject({ code: '22P02' });
              const client = await one.connect();
              try {
                await expect(client.query('INSERT INTO items (id, owner) SELECT id, owner FROM items LIMIT 1')).rejects.toMatchObject({ code: '23505' });
              } finally {
                client.release();
              }
              const result = await one.query('SELECT owner, pg_backend_pid() AS pid FROM items');
              expect(new Set(owners(result))).toEqual(new Set([tenant.id]));
              pids.add(result.rows[0]?.pid as number);
            });
          }
        } finally {
          await solo.end();
        }
        expect({ connects, serverConnections: pids.size }).toEqual({ connects: 1, serverConnections: 1 });
      });
    });

    it('leaves no search_path on any server connection after transaction-mode queries', async () => {
      // Traffic from every tenant, then hold every server connection at once with raw clients.
      const read = 'SELECT pg_backend_pid() AS pid FROM items';
      const results = await Promise.all([
        ...tenants.map((tenant) => tenancy.run(tenant, () => scoped.query(read))),
        ...tenants.map((tenant) => tenancy.run(tenant, () => scoped.transaction((client) => client.query(read)))),
      ]);
      for (const result of results) for (const row of result.rows) servedBy.add(row.pid as number);
      const holders = await Promise.all(
        Array.from({ length: SERVER_CONNECTIONS }, async () => {
          const client = new pg.Client({ connectionString: bouncer.url });
          await client.connect();
          await client.query('BEGIN');
          return client;
        }),
      );
      try {
        const seen = await Promise.all(
          holders.map(
            async (client) =>
              (await client.query("SELECT current_setting('search_path') AS path, current_setting('tenantry.tenant_id', true) AS tenant, pg_backend_pid() AS pid")).rows[0] as {
                path: string;
                tenant: string | null;
                pid: number;
              },
          ),
        );
        // Each raw client sits in its own transaction, so each holds its own server connection.
        expect(new Set(seen.map((row) => row.pid)).size).toBe(SERVER_CONNECTIONS);
        for (const row of seen) {
          expect(row.path).toBe(defaultPath);
          expect([null, '']).toContain(row.tenant);
          expect(servedBy.has(row.pid), `backend ${row.pid} served tenant queries earlier`).toBe(true);
        }
      } finally {
        await Promise.all(holders.map((client) => client.query('ROLLBACK').then(() => client.end())));
      }
    });
  });

  describe.skipIf(!installed)(title(`one server connection behind PgBouncer (pool_mode = transaction, default_pool_size = 1), strategy ${strategy}`), () => {
    const db = useTestDatabase();
    let tenancy: Tenancy;
    let first: Tenant;
    let second: Tenant;
    let url: string;
    let defaultPath: string;

    beforeAll(async () => {
      let tenants: readonly Tenant[];
      ({ tenancy, tenants, url, defaultPath } = await marked(db, strategy, 2, false));
      [first, second] = tenants as [Tenant, Tenant];
    });

    /**
     * Two apps (two pg.Pools of one client each) on the same pooler with one server connection:
     * B runs a query for `second`, then A one for `first`, then B one for `second` again.
     */
    async function interleave(mode: 'session' | 'transaction', bouncer: PgBouncer) {
      const poolA = new pg.Pool({ connectionString: bouncer.url, max: 1 });
      const poolB = new pg.Pool({ connectionString: bouncer.url, max: 1 });
      const a = tenantPool(tenancy, poolA, { mode });
      const b = tenantPool(tenancy, poolB, { mode });
      try {
        const read = 'SELECT DISTINCT owner, pg_backend_pid() AS pid FROM items';
        const before = await tenancy.run(second, () => b.query(read));
        const fromA = await tenancy.run(first, () => a.query(read));
        const after = await tenancy.run(second, () => b.query(read));
        const written = await tenancy.run(second, () => b.query("INSERT INTO items (owner, note) VALUES ($1, 'written by B') RETURNING owner", [second.id]));
        const unscoped = await rawQuery(bouncer.url, `SELECT ${SCOPE} AS path, pg_backend_pid() AS pid`);
        const pids = new Set([...before.rows, ...fromA.rows, ...after.rows, ...unscoped.rows].map((row) => row.pid as number));
        return { before: owners(before), fromA: owners(fromA), after: owners(after), written: owners(written), unscopedPath: unscoped.rows[0].path as string, pids };
      } finally {
        await poolA.end();
        await poolB.end();
      }
    }

    async function rowsWrittenByB(tenant: Tenant): Promise<string[]> {
      const result = await tenantRows(db, strategy, tenant, "note = 'written by B'");
      await db.pool.query(strategy === 'rls' ? `DELETE FROM "${MARKED_SHARED_SCHEMA}".items WHERE note = 'written by B'` : `DELETE FROM "${tenant.schema}".items WHERE note = 'written by B'`);
      return owners(result);
    }

    it('transaction mode: each query gets its own tenant and nothing is left on the server connection', async () => {
      const seen = await withBouncer(url, 1, (bouncer) => interleave('transaction', bouncer));
      expect(seen.pids.size).toBe(1); // one server connection served A, B and the unscoped client
      expect(seen.before).toEqual([second.id]);
      expect(seen.fromA).toEqual([first.id]);
      expect(seen.after).toEqual([second.id]);
      expect(seen.unscopedPath).toBe(strategy === 'rls' ? '' : defaultPath);
      expect(await rowsWrittenByB(second)).toEqual([second.id]);
      expect(await rowsWrittenByB(first)).toEqual([]);
    });

    it('session mode LEAKS behind a transaction pooler: a session-level SET serves the next client of the server connection', async () => {
      const seen = await withBouncer(url, 1, (bouncer) => interleave('session', bouncer));
      expect(seen.pids.size).toBe(1);
      expect(seen.before).toEqual([second.id]);
      expect(seen.fromA).toEqual([first.id]);
      // B's connection believes it still has `second`'s path, so B sends no SET; PgBouncer gave it
      // the server connection A just set to `first`: B, running for `second`, reads `first`'s rows…
      expect(seen.after).toEqual([first.id]);
      // …writes into `first`'s table…
      expect(await rowsWrittenByB(first)).toEqual([second.id]);
      expect(await rowsWrittenByB(second)).toEqual([]);
      // …and an unscoped client of the pooler runs in `first`'s schema (under rls: as `first`).
      expect(inScopeOf(strategy, first, seen.unscopedPath)).toBe(true);
      expect(seen.unscopedPath).not.toBe(defaultPath);
    });
  });
}
