/**
 * Two tenancies on one pg.Pool, one with tenant roles and one without (or with another role
 * prefix): a connection the first left on a tenant's role is cleaned before the second uses it,
 * so the second's queries run as the login role on their own path, not as the first's tenant.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const db = useTestDatabase();
const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const pool of pools) await pool.end();
});

describe('one pool, tenancies with different tenant roles', () => {
  it.each([
    ['with roles, then without', true, false],
    ['without roles, then with', false, true],
    ['with one prefix, then another', true, true],
  ])('%s: each query sees its own tenant, as its own role', async (_label, firstRoles, secondRoles) => {
    const first = await tenantsWithMarkers(db.pool, 1, firstRoles ? { tenantRoles: { prefix: `${db.rolePrefix}a` } } : {});
    const second = await tenantsWithMarkers(db.pool, 1, secondRoles ? { tenantRoles: { prefix: `${db.rolePrefix}b` } } : {});
    const raw = new pg.Pool({ connectionString: db.url, max: 1 });
    pools.push(raw);
    const one = tenantPool(first.tenancy, raw);
    const two = tenantPool(second.tenancy, raw);
    const who = 'select owner, current_user as role from items';
    for (let round = 0; round < 3; round += 1) {
      const a = await first.tenancy.run('tenant-0', () => one.query<{ owner: string; role: string }>(who));
      const b = await second.tenancy.run('tenant-0', () => two.query<{ owner: string; role: string }>(who));
      expect(a.rows.map((row) => row.owner)).toEqual(['tenant-0']);
      expect(b.rows.map((row) => row.owner)).toEqual(['tenant-0']);
      expect(a.rows[0]!.role).toBe(firstRoles ? first.tenancy.tenantRoles!.roleOf('tenant-0') : 'postgres');
      expect(b.rows[0]!.role).toBe(secondRoles ? second.tenancy.tenantRoles!.roleOf('tenant-0') : 'postgres');
    }
  });
});
