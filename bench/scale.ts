/**
 * The scale benchmark (issue 19; not in CI, it takes minutes): N tenants (BENCH_TENANTS, default
 * 10,000) with the 10-table inventory set, then times what a fleet operator runs, against the
 * issue's targets on a 2-core machine:
 *
 * - provisioning every tenant through `registry.create` at concurrency 4 (tenants/s, wall time);
 * - `migrate.tenants()` with nothing to apply (target ≤ 0.5 s);
 * - one metadata-only `ALTER TABLE … ADD COLUMN` over every tenant at concurrency 4 (≤ 15 s);
 * - `migrate.drift()` over every tenant (≤ 5 s), twice (the first reads the new catalog rows first);
 * - `tenantry status --json`, the built command, as a process (≤ 1 s).
 *
 * Run (after `npm run build`, which builds the command it times):
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_TENANTS=1000 npx tsx bench/scale.ts
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createTenancy, type Tenancy } from '../src/index.js';
import { createTestDatabase, startTestServer } from '../src/testing/index.js';
import { median, positiveInt, printTable } from './bench-utils.js';
import { INVENTORY } from './inventory-set.js';

const TENANTS = positiveInt(process.env.BENCH_TENANTS, 10_000);
const CONCURRENCY = positiveInt(process.env.BENCH_CONCURRENCY, 4);
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const run = promisify(execFile);

interface Step {
  readonly name: string;
  readonly ms: number;
  /** The target in milliseconds, when the issue sets one. */
  readonly targetMs?: number;
  readonly note?: string;
}

async function main(): Promise<void> {
  const server = await startTestServer({ log: (line) => console.error(line) });
  const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_bench_scale' });
  const pool = new pg.Pool({ connectionString: database.url, max: CONCURRENCY * 2 });
  const folder = await mkdtemp(join(tmpdir(), 'tenantry-scale-'));
  try {
    for (const [file, text] of Object.entries(INVENTORY)) await writeFile(join(folder, file), text);
    const version = (await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
    console.log(`tenantry scale benchmark: PostgreSQL ${version} (${server.kind}), Node ${process.version}, ${availableParallelism()} CPUs, ${TENANTS} tenants, concurrency ${CONCURRENCY}\n`);
    const tenancy = createTenancy({ pool, migrations: { tenant: folder } });
    await tenancy.migrate.shared();
    const steps: Step[] = [];

    const provisioned = await timed(() => provisionAll(tenancy, TENANTS, CONCURRENCY));
    steps.push({ name: `provision ${TENANTS} tenants (registry.create, concurrency ${CONCURRENCY})`, ms: provisioned, targetMs: (240_000 * TENANTS) / 10_000, note: `${(TENANTS / (provisioned / 1000)).toFixed(1)} tenants/s` });
    const { rows } = await pool.query<{ relations: number; size: string }>(
      'SELECT (SELECT count(*) FROM pg_class)::int AS relations, pg_size_pretty(pg_database_size(current_database())) AS size',
    );
    console.error(`${rows[0]!.relations.toLocaleString('en-US')} relations, ${rows[0]!.size}`);

    const noop: number[] = [];
    for (let i = 0; i < 5; i += 1) noop.push(await timed(() => tenancy.migrate.tenants()));
    steps.push({ name: 'migrate.tenants(), nothing to apply (median of 5)', ms: median(noop), targetMs: 500 });

    await writeFile(join(folder, '011_products_note.sql'), 'ALTER TABLE products ADD COLUMN note text;');
    let report: Awaited<ReturnType<Tenancy['migrate']['tenants']>> | undefined;
    const altered = await timed(async () => (report = await tenancy.migrate.tenants({ concurrency: CONCURRENCY })));
    steps.push({ name: `one ADD COLUMN over all (concurrency ${CONCURRENCY})`, ms: altered, targetMs: 15_000, note: `${report!.migrated.length} migrated, ${report!.failed.length} failed` });

    let drifted = -1;
    const drift = await timed(async () => (drifted = (await tenancy.migrate.drift()).drifted.length));
    steps.push({ name: 'migrate.drift() over all', ms: drift, targetMs: 5_000, note: `${drifted} drifted` });
    // The first one reads every catalog row the provisioning wrote for the first time (setting
    // their hint bits); a fleet in service has been read before.
    const again = await timed(async () => (drifted = (await tenancy.migrate.drift()).drifted.length));
    steps.push({ name: 'migrate.drift() over all, again', ms: again, targetMs: 5_000, note: `${drifted} drifted` });

    const status = await timed(() => run(process.execPath, [CLI, 'status', '--json', '--tenant-migrations', folder], { env: { ...process.env, DATABASE_URL: database.url }, maxBuffer: 1 << 30 }));
    steps.push({ name: 'tenantry status --json (a process)', ms: status, targetMs: 1_000 });

    // W1 (random-tenant lookups through tenantPool, affinity off and on, against a 100-tenant
    // baseline, with backend memory every 15 s) is bench/affinity.ts: it keeps its 10,000
    // tenants between runs, which a W1 comparison needs far more often than this fleet run.

    console.log('');
    printTable(
      ['step', 'time', 'target', 'met', 'note'],
      steps.map((step) => [
        step.name,
        seconds(step.ms),
        step.targetMs === undefined ? '-' : `≤ ${seconds(step.targetMs)}`,
        step.targetMs === undefined ? '-' : step.ms <= step.targetMs ? 'yes' : 'MISSED',
        step.note ?? '',
      ]),
    );
  } finally {
    await pool.end();
    await rm(folder, { recursive: true, force: true });
    if (process.env.BENCH_KEEP === '1') console.error(`kept database ${database.url}`);
    else await database.drop();
    await server.stop();
  }
}

/** `registry.create` for `count` tenants, `concurrency` at a time, with a line every 1,000. */
async function provisionAll(tenancy: Tenancy, count: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await tenancy.registry.create({ id: `t${String(index).padStart(5, '0')}` });
      if ((index + 1) % 1000 === 0) console.error(`provisioned ${index + 1}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

await main();
