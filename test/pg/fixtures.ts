import type pg from 'pg';
import { createTenancy, type Tenancy, type TenancyOptions } from '../../src/index.js';

let counter = 0;

/**
 * A tenancy on `pool` with `count` tenants, each with a `items` table holding one marker row
 * (its own id), and a shared `plans` table. Names are unique per call.
 */
export async function tenantsWithMarkers(
  pool: pg.Pool,
  count: number,
  options: Pick<TenancyOptions, 'tenantRoles'> = {},
): Promise<{ tenancy: Tenancy; ids: string[] }> {
  counter += 1;
  const prefix = `p${counter}`;
  const tenancy = createTenancy({
    pool,
    ...options,
    sharedSchema: `${prefix}_shared`,
    schemaPrefix: `${prefix}_t_`,
    migrations: {
      shared: [{ name: '001_plans', checksum: '1', up: (c) => c.query("CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free')") }],
      tenant: [
        {
          name: '001_items',
          checksum: '1',
          up: (c) => c.query('CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL, note text)'),
        },
      ],
    },
  });
  await tenancy.migrate.shared();
  const ids = Array.from({ length: count }, (_, i) => `tenant-${i}`);
  for (const id of ids) {
    const tenant = await tenancy.registry.create({ id });
    await pool.query(`INSERT INTO "${tenant.schema}".items (owner) VALUES ($1)`, [id]);
  }
  return { tenancy, ids };
}
