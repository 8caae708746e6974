import type pg from 'pg';
import { createTenancy, type Tenancy, type TenancyOptions, type Tenant } from '../../src/index.js';

/** How many marker rows tenant number `index` has: 1 to 3, so a read of the wrong table also has the wrong size. */
export function markerCount(index: number): number {
  return 1 + (index % 3);
}

/** A tenancy whose tenants each hold marker rows naming them. */
export interface MarkedTenants {
  readonly tenancy: Tenancy;
  readonly tenants: readonly Tenant[];
  /** Marker rows per tenant id. */
  readonly markers: ReadonlyMap<string, number>;
}

/**
 * Creates `count` tenants (ids `t-0` … `t-<count-1>`) on `pool`, `concurrency` at a time. Each
 * has a table `items (id, owner, kind, note)` holding {@link markerCount} rows of kind `marker`
 * whose owner is its own id; written rows are kind `write`. The shared schema holds a `plans`
 * table and a procedure `undo_work(int)` that rolls back the transaction it is called in.
 */
export async function createMarkedTenants(
  pool: pg.Pool,
  count: number,
  concurrency = 8,
  options: Pick<TenancyOptions, 'tenantRoles'> = {},
): Promise<MarkedTenants> {
  const tenancy = createTenancy({
    pool,
    ...options,
    sharedSchema: 'iso_shared',
    schemaPrefix: 'iso_',
    migrations: {
      shared: [
        {
          name: '001_shared',
          checksum: '1',
          up: (c) =>
            c.query(`CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free');
                     CREATE PROCEDURE undo_work(x int) LANGUAGE plpgsql AS $$ BEGIN ROLLBACK; END $$`),
        },
      ],
      tenant: [
        {
          name: '001_items',
          checksum: '1',
          up: (c) => c.query("CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL, kind text NOT NULL DEFAULT 'marker', note text)"),
        },
      ],
    },
  });
  await tenancy.migrate.shared();
  const tenants: Tenant[] = new Array<Tenant>(count);
  const markers = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++) {
      const tenant = await tenancy.registry.create({ id: `t-${index}` });
      await pool.query(`INSERT INTO "${tenant.schema}".items (owner) SELECT $1 FROM generate_series(1, $2)`, [tenant.id, markerCount(index)]);
      tenants[index] = tenant;
      markers.set(tenant.id, markerCount(index));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { tenancy, tenants, markers };
}
