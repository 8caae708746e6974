/**
 * What one tenant costs a PostgreSQL backend's private memory once W1 has read its two tables
 * (issue 19): one connection sets each tenant's search_path in turn and runs W1's two
 * primary-key lookups (products, customers), and the backend's RssAnon (from /proc, so the server
 * must run on this machine) and its largest memory contexts (pg_backend_memory_contexts) are
 * printed every BENCH_STEP (100) tenants. The tenants are those of bench/affinity.ts's database
 * (BENCH_DATABASE, `tenantry_bench_affinity`, 10-table inventory set): run that bench first, a
 * few hundred tenants are enough (`BENCH_TENANTS=400 BENCH_SECONDS=2 npx tsx bench/affinity.ts`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { quoteIdent } from '../src/index.js';
import { positiveInt, printTable } from './bench-utils.js';

const DATABASE = process.env.BENCH_DATABASE ?? 'tenantry_bench_affinity';
const STEP = positiveInt(process.env.BENCH_STEP, 100);
const LIMIT = positiveInt(process.env.BENCH_TENANTS, 1000);

interface Context {
  readonly name: string;
  readonly total: string;
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl === undefined) throw new Error('bench/backend-memory needs DATABASE_URL: a superuser URL of a PostgreSQL server on this machine');
  const url = new URL(serverUrl);
  url.pathname = `/${DATABASE}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const { rows } = await client.query<{ schema: string }>(
      `SELECT schema_name AS schema FROM bench_shared.tenantry_tenants ORDER BY id LIMIT $1`,
      [LIMIT],
    );
    const contexts = async (): Promise<Map<string, number>> => {
      const found = await client.query<Context>('SELECT name, sum(total_bytes)::text AS total FROM pg_backend_memory_contexts GROUP BY name');
      return new Map(found.rows.map((row) => [row.name, Number(row.total)]));
    };
    const start = rssAnonKb(pid);
    const startContexts = await contexts();
    const table: string[][] = [];
    let previous = start;
    for (let index = 0; index < rows.length; index++) {
      await client.query(`SET search_path TO ${quoteIdent(rows[index]!.schema)}, bench_shared, pg_temp`);
      await client.query('SELECT name FROM products WHERE id = $1', [1]);
      await client.query('SELECT name FROM customers WHERE id = $1', [1]);
      if ((index + 1) % STEP === 0 || index + 1 === rows.length) {
        const now = rssAnonKb(pid);
        const since = (index % STEP) + 1;
        table.push([String(index + 1), (now / 1024).toFixed(1), ((now - previous) / since).toFixed(1)]);
        previous = now;
      }
    }
    const endContexts = await contexts();
    console.log(`backend-memory: ${rows.length} tenants of ${DATABASE}, one backend, RssAnon ${(start / 1024).toFixed(1)} MB before`);
    printTable(['tenants read', 'RssAnon MB', 'KB per tenant since the last line'], table);
    const grown = [...endContexts]
      .map(([name, bytes]) => [name, bytes - (startContexts.get(name) ?? 0)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    console.log('\nlargest growth by memory context:');
    printTable(['context', 'KB per tenant'], grown.map(([name, bytes]) => [name, (bytes / 1024 / rows.length).toFixed(1)]));
  } finally {
    await client.end();
  }
}

function rssAnonKb(pid: number): number {
  const match = /RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no RssAnon in /proc/${pid}/status: is the server on this machine?`);
  return Number(match[1]);
}

await main();
