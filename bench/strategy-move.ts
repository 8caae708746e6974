/**
 * How long `tenancy.move(id, { strategy })` takes a row-level tenant into a schema of its own and
 * back, by the tenant's size.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/strategy-move.ts
 *
 * A `createTenancy({ strategy: 'rls' })` with two tenant-scoped tables, `orders (tenant_id, id,
 * placed_at)` and `order_lines (tenant_id, id, order_id, qty)` with a foreign key to orders (and
 * the index a foreign key needs: without it each order deleted scans order_lines), and
 * BENCH_OTHERS (100) other tenants of 1,000 orders and 1,000 lines each. For each size in
 * BENCH_SIZES (10000,100000; orders, and as many lines), one tenant of that size is moved into a
 * schema and back; each move is timed, with how long its writes were paused and how long the
 * shared tables were locked against writes (every tenant's) on the way out. The baseline, in the
 * same run: `INSERT … SELECT` of the same rows into plain tables of the same shape (indexes
 * included), rolled back: what the copy alone costs.
 */
import pg from 'pg';
import { createTenancy } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { positiveInt, printTable } from './bench-utils.js';

const OTHERS = positiveInt(process.env.BENCH_OTHERS, 100);
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map((size) => positiveInt(size, 10_000));

const TABLES = `
CREATE TABLE orders (tenant_id text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, placed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
SELECT tenantry_tenant_table('orders');
CREATE TABLE order_lines (tenant_id text NOT NULL, id bigserial, order_id bigint NOT NULL, qty int NOT NULL,
  PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id));
CREATE INDEX ON order_lines (tenant_id, order_id);
SELECT tenantry_tenant_table('order_lines');`;

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench_smove' });
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  try {
    const tenancy = createTenancy({ pool, strategy: 'rls', migrations: { shared: [{ name: '001_orders', checksum: '1', up: (client) => client.query(TABLES) }] } });
    await tenancy.migrate.shared();
    const fill = async (id: string, rows: number): Promise<void> => {
      await tenancy.registry.create({ id });
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('tenantry.tenant_id', $1, true)`, [id]);
        await client.query(`INSERT INTO orders (placed_at) SELECT now() FROM generate_series(1, ${rows})`);
        await client.query(`INSERT INTO order_lines (order_id, qty) SELECT id, 1 + id % 7 FROM orders WHERE tenant_id = $1`, [id]);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    };
    for (let n = 0; n < OTHERS; n += 1) await fill(`other-${n}`, 1000);
    console.error(`${OTHERS} other tenants filled`);
    const results: string[][] = [];
    for (const size of SIZES) {
      const id = `big-${size}`;
      await fill(id, size);
      await pool.query('VACUUM ANALYZE orders, order_lines');
      const baseline = await copyBaseline(pool, id);
      const out = await tenancy.move(id, { strategy: 'schema' });
      const back = await tenancy.move(id, { strategy: 'rls' });
      if (out.rows !== 2 * size || back.rows !== 2 * size) throw new Error(`moved ${out.rows} and ${back.rows} rows, expected ${2 * size}`);
      results.push([
        String(2 * size),
        baseline.toFixed(0),
        out.durationMs.toFixed(0),
        out.pausedMs.toFixed(0),
        out.lockedMs.toFixed(0),
        back.durationMs.toFixed(0),
        back.pausedMs.toFixed(0),
        ((2 * size) / (out.durationMs / 1000)).toFixed(0),
      ]);
    }
    console.log(`PostgreSQL ${(await pool.query('SHOW server_version')).rows[0].server_version}; ${OTHERS} other tenants of 2,000 rows each`);
    printTable(['rows', 'copy alone ms', 'out ms', 'out paused ms', 'out locked ms', 'back ms', 'back paused ms', 'out rows/s'], results);
    await tenancy.close();
  } finally {
    await pool.end();
    await database.drop();
    await server.stop();
  }
}

/** The baseline: the same rows copied with INSERT … SELECT into plain tables of the same shape, in one transaction, rolled back. */
async function copyBaseline(pool: pg.Pool, id: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA scratch; CREATE TABLE scratch.o (LIKE orders INCLUDING ALL EXCLUDING IDENTITY); CREATE TABLE scratch.l (LIKE order_lines INCLUDING ALL)`);
    const started = performance.now();
    await client.query(`SELECT set_config('tenantry.tenant_id', $1, true)`, [id]);
    await client.query('INSERT INTO scratch.o SELECT * FROM orders WHERE tenant_id = $1', [id]);
    await client.query('INSERT INTO scratch.l SELECT * FROM order_lines WHERE tenant_id = $1', [id]);
    const elapsed = performance.now() - started;
    await client.query('ROLLBACK');
    return elapsed;
  } finally {
    client.release();
  }
}

await main();
