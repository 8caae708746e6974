/**
 * Deleting a tenant removes its role also when the app's owner role is not a superuser: the role
 * holds privileges on the schema a deletion keeps, which only their grantor can revoke (DROP OWNED
 * needs the role's own privileges, which a member of the NOINHERIT login group does not have, and
 * run as the tenant's role it revokes nothing).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, type Queryable, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();

const items = [{ name: '001_items', checksum: '1', up: (client: Queryable) => client.query('CREATE TABLE items (id serial PRIMARY KEY, label text)') }];

let ownerPool: pg.Pool;
let tenancy: Tenancy;

beforeAll(async () => {
  const owner = `${db.rolePrefix}owner`;
  const url = new URL(db.url);
  await db.pool.query(`CREATE ROLE "${owner}" LOGIN CREATEROLE PASSWORD 'owner-password'`);
  await db.pool.query(`GRANT CREATE ON DATABASE "${url.pathname.slice(1)}" TO "${owner}"`);
  url.username = owner;
  url.password = 'owner-password'; // embedded PostgreSQL checks passwords; the machine's server trusts
  ownerPool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  tenancy = createTenancy({ pool: ownerPool, sharedSchema: 'deletion_shared', schemaPrefix: 'deletion_', tenantRoles: { prefix: `${db.rolePrefix}d_` }, migrations: { tenant: items } });
  await tenancy.migrate.shared();
});

afterAll(async () => {
  await tenancy?.close();
  await ownerPool?.end();
});

async function roleExists(role: string): Promise<boolean> {
  return (await db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
}

describe('deleting a tenant as an owner that is not a superuser', () => {
  it('drops the tenant role and its privileges when the schema is kept', async () => {
    const kept = await tenancy.registry.create({ id: 'kept' });
    const role = tenancy.tenantRoles!.roleOf('kept');
    expect(await roleExists(role)).toBe(true);
    await tenancy.registry.delete('kept');
    expect(await roleExists(role)).toBe(false);
    const { rows } = await db.pool.query<{ acl: string | null }>(
      `SELECT c.relacl::text AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'items'`,
      [kept.schema],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.acl ?? '').not.toContain(role);
  });

  it('drops the tenant role with the schema', async () => {
    const gone = await tenancy.registry.create({ id: 'gone' });
    const role = tenancy.tenantRoles!.roleOf('gone');
    await tenancy.registry.delete('gone', { dropSchema: true });
    expect(await roleExists(role)).toBe(false);
    expect((await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [gone.schema])).rowCount).toBe(0);
  });
});
