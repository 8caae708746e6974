/**
 * Verified deletion: after `registry.delete(id, { dropSchema: true })` nothing of the tenant is
 * left in the catalogs or the registry tables: no schema, role, relation, membership, default
 * privilege, large object, ACL entry, registry row, domain or spare row names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();

interface Trace {
  readonly where: string;
  readonly what: string;
}

/** Everything in the database (and the cluster's roles) that names the tenant's id, schema or role. */
async function tracesOf(tenancy: Tenancy, tenant: Tenant, roleOid: string | undefined): Promise<Trace[]> {
  const role = tenancy.tenantRoles?.roleOf(tenant.id);
  const needles = [tenant.id, tenant.schema, ...(role === undefined ? [] : [role])];
  const traces: Trace[] = [];
  const search = async (where: string, sql: string, values: unknown[] = []) => {
    const { rows } = await db.pool.query<{ what: string }>(sql, values);
    for (const row of rows) traces.push({ where, what: row.what });
  };
  for (const needle of needles) {
    const like = `%${needle}%`;
    await search('pg_namespace', 'SELECT nspname AS what FROM pg_namespace WHERE nspname LIKE $1 OR nspacl::text LIKE $1', [like]);
    await search('pg_roles', 'SELECT rolname AS what FROM pg_roles WHERE rolname LIKE $1', [like]);
    await search('pg_class', 'SELECT relname || coalesce(relacl::text, \'\') AS what FROM pg_class WHERE relname LIKE $1 OR relacl::text LIKE $1', [like]);
    await search('pg_proc', 'SELECT proname AS what FROM pg_proc WHERE proname LIKE $1 OR proacl::text LIKE $1', [like]);
    await search('pg_default_acl', 'SELECT defaclacl::text AS what FROM pg_default_acl WHERE defaclacl::text LIKE $1', [like]);
    await search('pg_database', 'SELECT datname AS what FROM pg_database WHERE datacl::text LIKE $1', [like]);
  }
  if (roleOid !== undefined) {
    await search('pg_auth_members', 'SELECT roleid::text || \' \' || member::text AS what FROM pg_auth_members WHERE roleid = $1::oid OR member = $1::oid', [roleOid]);
    await search('pg_default_acl', 'SELECT defaclobjtype::text AS what FROM pg_default_acl WHERE defaclrole = $1::oid', [roleOid]);
    await search('pg_largeobject_metadata', 'SELECT oid::text AS what FROM pg_largeobject_metadata WHERE lomowner = $1::oid', [roleOid]);
    await search('pg_shdepend', 'SELECT classid::regclass::text || \' \' || objid::text AS what FROM pg_shdepend WHERE refclassid = \'pg_authid\'::regclass AND refobjid = $1::oid', [roleOid]);
  }
  const { rows: tables } = await db.pool.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'tenantry\\_%'",
    [tenancy.sharedSchema],
  );
  for (const { name } of tables) {
    for (const needle of needles) {
      await search(`${tenancy.sharedSchema}.${name}`, `SELECT t::text AS what FROM "${tenancy.sharedSchema}"."${name}" t WHERE t::text LIKE $1`, [`%${needle}%`]);
    }
  }
  return traces;
}

describe.each([
  ['tenant roles on', true],
  ['tenant roles off', false],
])('registry.delete(id, { dropSchema: true }) leaves nothing of the tenant, %s', (label, roles) => {
  let tenancy: Tenancy;
  let scoped: TenantPool;
  const suffix = roles ? 'r' : 'n';

  beforeAll(async () => {
    tenancy = createTenancy({
      pool: db.pool,
      sharedSchema: `erase_${suffix}`,
      schemaPrefix: `erase_${suffix}_`,
      ...(roles ? { tenantRoles: { prefix: db.rolePrefix } } : {}),
      spares: { count: 1, refill: false },
      migrations: {
        tenant: [
          {
            name: '001_items',
            checksum: '1',
            up: (c) =>
              c.query(`CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL);
                CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM items';
                CREATE VIEW owners AS SELECT DISTINCT owner FROM items`),
          },
        ],
      },
    });
    await tenancy.migrate.shared();
    scoped = tenantPool(tenancy, db.pool);
  });

  afterAll(async () => {
    await tenancy.close();
  });

  it.each([
    ['claimed from a spare', true],
    ['provisioned in full', false],
  ])(`a tenant %s (${label})`, async (_, fromSpare) => {
    const id = `erase-me-${suffix}-${fromSpare ? 'spare' : 'full'}`;
    if (fromSpare) expect((await tenancy.spares!.fill()).ready).toBe(1);
    const tenant = await tenancy.registry.create({ id, name: `Erase ${id}`, domains: [`${id}.example.com`, `www.${id}.example.com`], metadata: { owner: id } });
    expect((await tenancy.spares!.status()).ready).toBe(0);
    const keeper = await tenancy.registry.ensure({ id: `keeper-${suffix}` });
    await tenancy.registry.addDomain(id, `shop.${id}.example.com`);

    // What a tenant leaves by using its database: rows, and with its own role, a large object and
    // default privileges (both make DROP ROLE fail unless they are dropped with it).
    await tenancy.run(tenant, async () => {
      await scoped.query('INSERT INTO items (owner) VALUES ($1)', [id]);
      if (roles) {
        await scoped.query('SELECT lo_create(0)');
        await scoped.query('ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC');
      }
    });
    const role = tenancy.tenantRoles?.roleOf(id);
    const roleOid = role === undefined ? undefined : (await db.pool.query<{ oid: string }>('SELECT oid::text FROM pg_roles WHERE rolname = $1', [role])).rows[0]!.oid;
    expect((await tracesOf(tenancy, tenant, roleOid)).length).toBeGreaterThan(0);

    await tenancy.registry.delete(id, { dropSchema: true });

    expect(await tracesOf(tenancy, tenant, roleOid)).toEqual([]);
    expect(await tenancy.registry.get(id)).toBeUndefined();
    expect(await tenancy.lookupDomain(`${id}.example.com`)).toBeUndefined();
    // The other tenant is untouched.
    expect((await tenancy.run(keeper, () => scoped.query('SELECT count(*)::int AS n FROM items'))).rows).toEqual([{ n: 0 }]);
  });
});
