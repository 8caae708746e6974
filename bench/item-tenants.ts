/**
 * The tenant set the lookup benchmarks share: tenants with an `items` table whose rows name
 * their schema, the backends' catalog caches warmed, and the backends' CPU time.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { Tenancy, Tenant } from '../src/index.js';
import { mapConcurrent } from '../src/migrate/map-concurrent.js';
import { tenantry } from './library.js';

/**
 * How {@link itemsTenancy} makes its tenancy: tenant roles, servers, and what `owner` holds (an
 * SQL expression; default `current_schema()`).
 */
export interface ItemsTenancyOptions {
  readonly tenantRoles?: { prefix: string };
  readonly servers?: Record<string, pg.Pool>;
  readonly owner?: string;
}

/**
 * A tenancy whose tenants get `items` (ids 1..rows), each row naming its schema in `owner`, so
 * every lookup can check that it read the right tenant.
 *
 * @example
 * ```ts
 * const tenancy = await itemsTenancy(admin, 100);
 * const withRoles = await itemsTenancy(admin, 100, { tenantRoles: { prefix: 'bench_' } });
 * const placed = await itemsTenancy(main, 100, { servers: { main, eu }, owner: "current_setting('port') || ':' || current_schema()" });
 * ```
 */
export async function itemsTenancy(pool: pg.Pool, rows: number, options: ItemsTenancyOptions = {}): Promise<Tenancy> {
  const { createTenancy } = await tenantry.core();
  const { owner = 'current_schema()', ...tenancyOptions } = options;
  const tenancy = createTenancy({
    pool,
    ...tenancyOptions,
    migrations: {
      tenant: [
        {
          name: '001_items',
          checksum: '1',
          up: (client) =>
            client.query(
              `CREATE TABLE items (id int PRIMARY KEY, owner text NOT NULL);
               INSERT INTO items SELECT g, ${owner} FROM generate_series(1, ${rows}) g`,
            ),
        },
      ],
    },
  });
  await tenancy.migrate.shared();
  return tenancy;
}

/**
 * Creates `count` tenants (`t-00000`, `t-00001`, …), `concurrency` at a time, in order of index.
 *
 * @example
 * ```ts
 * const tenants = await createItemTenants(tenancy, 1000, 4);
 * ```
 */
export function createItemTenants(tenancy: Tenancy, count: number, concurrency: number): Promise<Tenant[]> {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return mapConcurrent(indexes, concurrency, (i) => tenancy.registry.create({ id: `t-${String(i).padStart(5, '0')}` }));
}

/**
 * Opens every tenant's `items` on `connections` connections of `pool` (one table's locks at a
 * time), so no measured query pays a first read; returns those backends' process ids.
 *
 * @example
 * ```ts
 * const pids = await warmCatalog(pool, 10);
 * ```
 */
export async function warmCatalog(pool: pg.Pool, connections: number): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  try {
    return await Promise.all(
      clients.map(async (client) => {
        await client.query(`DO $$ DECLARE s text; n int; BEGIN
          FOR s IN SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'items' AND c.relkind = 'r' LOOP
            EXECUTE format('select count(*) from %I.items where id = 1', s) INTO n;
            COMMIT; -- one table's locks at a time
          END LOOP;
        END $$`);
        return (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      }),
    );
  } finally {
    for (const client of clients) client.release();
  }
}

/** Linux clock ticks per second (USER_HZ), the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS = 100;

/**
 * User plus system CPU time of these server processes, in µs, from /proc/<pid>/stat: available
 * when PostgreSQL runs on this Linux machine, `undefined` otherwise.
 *
 * @example
 * ```ts
 * const before = backendCpuMicros(pids);
 * ```
 */
export function backendCpuMicros(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // Fields after "pid (comm) ": utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1_000_000) / CLOCK_TICKS;
}
