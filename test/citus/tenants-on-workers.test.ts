/**
 * On Citus with schema-based sharding: provisioning makes each tenant schema a distributed schema
 * placed on one worker, the tenants spread over the workers, and a storm of random-tenant
 * operations through tenantPool (reads, writes, transactions committed and rolled back, clients
 * from connect()), in session and in transaction mode, never sees a row of another tenant.
 * `TENANTRY_CITUS_OPERATIONS` changes the number of operations of each mode (default 3,000),
 * `TENANTRY_SEED` replays a plan.
 */
import { randomInt } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { createTenancy, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { describeCitus, useCitusDatabase } from './citus-database.js';

const TENANTS = 40;
const OPERATIONS = Number(process.env.TENANTRY_CITUS_OPERATIONS ?? 3_000);
const CONCURRENCY = 20;
const SEED = Number(process.env.TENANTRY_SEED ?? randomInt(2 ** 31));

describeCitus('tenants on Citus workers', () => {
  const db = useCitusDatabase({ max: 10 });
  let tenancy: Tenancy;
  let tenants: Tenant[];
  /** Writes committed per tenant, over every storm of the file. */
  const committed = new Map<string, number>();

  beforeAll(async () => {
    tenancy = createTenancy({
      pool: db.pool,
      schemaPrefix: 'storm_',
      migrations: {
        tenant: [
          {
            name: '001_items',
            checksum: '1',
            up: (client) => client.query("CREATE TABLE items (id bigserial PRIMARY KEY, owner text NOT NULL, kind text NOT NULL DEFAULT 'marker')"),
          },
        ],
      },
    });
    await tenancy.migrate.shared();
    tenants = [];
    for (let index = 0; index < TENANTS; index += 1) {
      const tenant = await tenancy.registry.create({ id: `t-${index}` });
      await db.pool.query(`INSERT INTO "${tenant.schema}".items (owner) SELECT $1 FROM generate_series(1, $2)`, [tenant.id, 1 + (index % 3)]);
      tenants.push(tenant);
      committed.set(tenant.id, 0);
    }
  });

  it('makes every tenant schema a distributed schema on one worker, and uses every worker', async () => {
    const { rows } = await db.pool.query<{ schema: string; ports: number[] }>(
      `SELECT s.schema_name::text AS schema, array_agg(DISTINCT sh.nodeport ORDER BY sh.nodeport) AS ports
         FROM citus_schemas s JOIN citus_shards sh ON sh.colocation_id = s.colocation_id
        GROUP BY s.schema_name`,
    );
    const placed = new Map(rows.map((row) => [row.schema, row.ports]));
    const perWorker = new Map<number, number>();
    for (const tenant of tenants) {
      const ports = placed.get(tenant.schema);
      expect(ports, tenant.schema).toHaveLength(1);
      perWorker.set(ports![0]!, (perWorker.get(ports![0]!) ?? 0) + 1);
    }
    expect([...perWorker.keys()].sort()).toEqual(db.workers.map((worker) => worker.port).sort());
    console.log(`citus: ${TENANTS} tenants per worker port: ${JSON.stringify(Object.fromEntries(perWorker))}`);
  });

  // Transaction mode (SET LOCAL in each transaction) is what a PgBouncer in transaction mode in
  // front of the coordinator needs (docs/scaling.md).
  it.each(['session', 'transaction'] as const)(`runs ${OPERATIONS} random-tenant operations without a row of another tenant (%s mode)`, async (mode) => {
    console.log(`citus storm seed: ${SEED} (TENANTRY_SEED replays it)`);
    const random = seededRandom(SEED + (mode === 'session' ? 0 : 1));
    const pool = tenantPool(tenancy, db.pool, { mode });
    const foreign: string[] = [];
    let done = 0;
    const plan = Array.from({ length: OPERATIONS }, () => ({ tenant: tenants[Math.floor(random() * TENANTS)]!, kind: Math.floor(random() * 5) }));
    const check = (tenant: Tenant, owners: readonly string[]) => {
      for (const owner of owners) if (owner !== tenant.id) foreign.push(`${tenant.id} read ${owner}`);
    };
    const started = performance.now();
    const worker = async () => {
      for (let step = done++; step < plan.length; step = done++) {
        const { tenant, kind } = plan[step]!;
        await tenancy.run(tenant, async () => {
          if (kind === 0) {
            check(tenant, (await pool.query<{ owner: string }>('SELECT owner FROM items')).rows.map((row) => row.owner));
          } else if (kind === 1) {
            const { rows } = await pool.query<{ owner: string }>('SELECT owner FROM items WHERE owner <> $1', [tenant.id]);
            check(tenant, rows.map((row) => row.owner));
          } else if (kind === 2) {
            await pool.transaction(async (client) => {
              await client.query("INSERT INTO items (owner, kind) VALUES ($1, 'write')", [tenant.id]);
              check(tenant, (await client.query<{ owner: string }>('SELECT owner FROM items')).rows.map((row) => row.owner));
            });
            committed.set(tenant.id, committed.get(tenant.id)! + 1);
          } else if (kind === 3) {
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              await client.query("INSERT INTO items (owner, kind) VALUES ($1, 'rolled-back')", [tenant.id]);
              await client.query('ROLLBACK');
            } finally {
              client.release();
            }
          } else {
            const { rows } = await pool.query<{ owner: string }>('SELECT i.owner FROM items i JOIN items j ON j.id = i.id');
            check(tenant, rows.map((row) => row.owner));
          }
        });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    console.log(`citus storm (${mode} mode): ${OPERATIONS} operations over ${TENANTS} tenants, ${CONCURRENCY} concurrent, in ${seconds.toFixed(1)} s (${Math.round(OPERATIONS / seconds)}/s)`);

    expect(foreign).toEqual([]);
    for (const [index, tenant] of tenants.entries()) {
      const { rows } = await db.pool.query<{ owner: string; kind: string; count: number }>(
        `SELECT owner, kind, count(*)::int AS count FROM "${tenant.schema}".items GROUP BY owner, kind ORDER BY kind`,
      );
      const writes = committed.get(tenant.id)!;
      expect(rows, tenant.id).toEqual([
        { owner: tenant.id, kind: 'marker', count: 1 + (index % 3) },
        ...(writes > 0 ? [{ owner: tenant.id, kind: 'write', count: writes }] : []),
      ]);
    }
  });
});
