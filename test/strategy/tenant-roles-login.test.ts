/**
 * `tenantRoles: { login: true }`: tenant roles that may log in, which Citus needs (its coordinator
 * connects to the workers as the tenant's role after SET ROLE). The default stays NOLOGIN.
 */
import { describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, type Queryable } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();

const items = [{ name: '001_items', checksum: '1', up: (client: Queryable) => client.query('CREATE TABLE items (id int)') }];

async function canLogIn(role: string): Promise<boolean | undefined> {
  const { rows } = await db.pool.query<{ login: boolean }>('SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1', [role]);
  return rows[0]?.login;
}

describe('tenantRoles.login', () => {
  it('creates tenant roles WITH LOGIN when asked, NOLOGIN by default, and the groups NOLOGIN either way', async () => {
    const login = createTenancy({ pool: db.pool, sharedSchema: 'login_shared', schemaPrefix: 'login_', tenantRoles: { prefix: `${db.rolePrefix}l_`, login: true }, migrations: { tenant: items } });
    await login.migrate.shared();
    await login.registry.create({ id: 'acme' });
    expect(await canLogIn(login.tenantRoles!.roleOf('acme'))).toBe(true);
    expect(await canLogIn(login.tenantRoles!.tenantGroup)).toBe(false);
    expect(await canLogIn(login.tenantRoles!.loginGroup)).toBe(false);

    const plain = createTenancy({ pool: db.pool, sharedSchema: 'nologin_shared', schemaPrefix: 'nologin_', tenantRoles: { prefix: `${db.rolePrefix}n_` }, migrations: { tenant: items } });
    await plain.migrate.shared();
    await plain.registry.create({ id: 'acme' });
    expect(await canLogIn(plain.tenantRoles!.roleOf('acme'))).toBe(false);
  });

  it('must be a boolean', () => {
    expect(() => createTenancy({ pool: db.pool, tenantRoles: { login: 'yes' as unknown as boolean } })).toThrow(InvalidConfigError);
  });
});
