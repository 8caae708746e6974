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

/** The shared schema of the marked tenants. */
export const MARKED_SHARED_SCHEMA = 'iso_shared';

const SHARED_SQL = `CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free');
  CREATE PROCEDURE undo_work(x int) LANGUAGE plpgsql AS $$ BEGIN ROLLBACK; END $$`;
const ITEMS_SQL = "CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL, kind text NOT NULL DEFAULT 'marker', note text)";
/** Under the row-level strategy `items` is one shared, tenant-scoped table, its tenant column leading the key. */
const ROW_LEVEL_ITEMS_SQL = `CREATE TABLE items (tenant_id text NOT NULL, id serial, owner text NOT NULL, kind text NOT NULL DEFAULT 'marker', note text,
    PRIMARY KEY (tenant_id, id));
  SELECT tenantry_tenant_table('items');
  CREATE FUNCTION move_tenant(target text) RETURNS text LANGUAGE sql AS $$ SELECT set_config('tenantry.tenant_id', target, false) $$;
  CREATE TABLE moves (tenant_id text NOT NULL, target text NOT NULL);
  SELECT tenantry_tenant_table('moves');
  CREATE FUNCTION move_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM set_config('tenantry.tenant_id', NEW.target, false); RETURN NULL; END $$;
  CREATE TRIGGER move_on_insert AFTER INSERT ON moves FOR EACH ROW EXECUTE FUNCTION move_on_insert()`;

/**
 * Creates `count` tenants (ids `t-0` … `t-<count-1>`) on `pool`, `concurrency` at a time. Each
 * has a table `items (id, owner, kind, note)` holding {@link markerCount} rows of kind `marker`
 * whose owner is its own id; written rows are kind `write`. The shared schema holds a `plans`
 * table and a procedure `undo_work(int)` that rolls back the transaction it is called in. Under
 * `strategy: 'rls'` the tenants share one `items` table with a `tenant_id` column and its
 * policy, and two ways to move the tenant setting out of the wrapper's sight: `move_tenant(id)`,
 * a function that calls set_config, and the table `moves (target)`, whose insert trigger does
 * the same; `pool` must then connect as a role that bypasses row-level security (the markers are
 * inserted directly, for every tenant).
 */
export async function createMarkedTenants(
  pool: pg.Pool,
  count: number,
  concurrency = 8,
  options: Pick<TenancyOptions, 'tenantRoles' | 'strategy'> = {},
): Promise<MarkedTenants> {
  const rowLevel = options.strategy === 'rls';
  const tenancy = createTenancy({
    pool,
    ...options,
    sharedSchema: MARKED_SHARED_SCHEMA,
    schemaPrefix: 'iso_',
    migrations: {
      shared: [{ name: '001_shared', checksum: '1', up: (c) => c.query(rowLevel ? `${SHARED_SQL}; ${ROW_LEVEL_ITEMS_SQL}` : SHARED_SQL) }],
      ...(rowLevel ? {} : { tenant: [{ name: '001_items', checksum: '1', up: (c) => c.query(ITEMS_SQL) }] }),
    },
  });
  await tenancy.migrate.shared();
  const tenants: Tenant[] = new Array<Tenant>(count);
  const markers = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < count; index = next++) {
      const tenant = await tenancy.registry.create({ id: `t-${index}` });
      await pool.query(
        rowLevel
          ? `INSERT INTO "${MARKED_SHARED_SCHEMA}".items (tenant_id, owner) SELECT $1, $1 FROM generate_series(1, $2)`
          : `INSERT INTO "${tenant.schema}".items (owner) SELECT $1 FROM generate_series(1, $2)`,
        [tenant.id, markerCount(index)],
      );
      tenants[index] = tenant;
      markers.set(tenant.id, markerCount(index));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { tenancy, tenants, markers };
}

/**
 * A login role for the row-level strategy's app, on the database at `url` (as its superuser):
 * neither a superuser nor BYPASSRLS, so the policies apply to it. With tenant roles it joins the
 * login group (the tenant roles hold the table privileges); without, it is granted the shared
 * tables itself. Either way it may read `plans` in the shared scope. Returns the role's URL.
 */
export async function rowLevelLogin(pool: pg.Pool, url: string, name: string, loginGroup?: string): Promise<string> {
  const shared = `"${MARKED_SHARED_SCHEMA}"`;
  await pool.query(`CREATE ROLE "${name}" LOGIN PASSWORD 'app-password'`);
  await pool.query(`GRANT USAGE ON SCHEMA ${shared} TO "${name}"; GRANT SELECT ON ${shared}.plans TO "${name}"`);
  await pool.query(`GRANT SELECT ON ${shared}.tenantry_tenants, ${shared}.tenantry_domains, ${shared}.tenantry_migrations, ${shared}.tenantry_tenant_tables TO "${name}"`);
  if (loginGroup === undefined) {
    await pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${shared}.items, ${shared}.moves TO "${name}"; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${shared} TO "${name}"`);
  } else {
    await pool.query(`GRANT "${loginGroup}" TO "${name}"`);
  }
  const login = new URL(url);
  login.username = name;
  login.password = 'app-password'; // embedded PostgreSQL checks passwords; the machine's server trusts
  return login.toString();
}
