/**
 * tenantPool({ sqlComment: true }): every statement carries a sqlcommenter comment naming its
 * scope, visible where the server shows statements (pg_stat_activity here), in both protocols;
 * named prepared statements keep their text; error positions do not move.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tenancy } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from './fixtures.js';

const db = useTestDatabase();
let tenancy: Tenancy;
let raw: pg.Pool;
let commented: TenantPool;
const OWN_TEXT = 'select query from pg_stat_activity where pid = pg_backend_pid()';

beforeAll(async () => {
  ({ tenancy } = await tenantsWithMarkers(db.pool, 2));
  raw = new pg.Pool({ connectionString: db.url, max: 1 });
  commented = tenantPool(tenancy, raw, { sqlComment: true });
});
afterAll(() => raw.end());

describe('sqlComment', () => {
  it("names the tenant (or the shared scope) in the statement's text, in the simple and the extended protocol", async () => {
    // The scope may travel ahead of the text in the same message (one round trip): compare the end.
    const simple = await tenancy.run('tenant-0', () => commented.query<{ query: string }>(OWN_TEXT));
    expect(simple.rows[0]!.query.endsWith(`${OWN_TEXT}\n/*tenant='tenant-0'*/`)).toBe(true);
    const extended = await tenancy.run('tenant-1', () => commented.query<{ query: string }>(`${OWN_TEXT} and $1::int = 1`, [1]));
    expect(extended.rows[0]!.query).toBe(`${OWN_TEXT} and $1::int = 1\n/*tenant='tenant-1'*/`);
    const shared = await tenancy.runShared(() => commented.query<{ query: string }>(OWN_TEXT));
    expect(shared.rows[0]!.query.endsWith(`${OWN_TEXT}\n/*tenant_scope='shared'*/`)).toBe(true);
    const client = await tenancy.run('tenant-0', () => commented.connect());
    try {
      const onClient = await tenancy.run('tenant-0', () => client.query<{ query: string }>(OWN_TEXT));
      expect(onClient.rows[0]!.query.endsWith(`${OWN_TEXT}\n/*tenant='tenant-0'*/`)).toBe(true);
    } finally {
      client.release();
    }
  });

  it('leaves the text alone without the option, keeps named statements working across tenants, and error positions where they were', async () => {
    const plain = tenantPool(tenancy, raw);
    expect((await tenancy.run('tenant-0', () => plain.query<{ query: string }>(OWN_TEXT))).rows[0]!.query.endsWith(`${OWN_TEXT}`)).toBe(true);
    for (const id of ['tenant-0', 'tenant-1', 'tenant-0']) {
      const { rows } = await tenancy.run(id, () => commented.query<{ owner: string }>({ name: 'owners', text: 'select owner from items' }));
      expect(rows).toEqual([{ owner: id }]);
    }
    const position = async (pool: TenantPool) =>
      tenancy.run('tenant-0', () => pool.query('select 1, nope').then(() => undefined, (error: { position?: string }) => error.position));
    // Each failed statement leaves the scope unknown, so each of these also sends the scope ahead of its text.
    for (const pool of [commented, plain, commented, plain]) expect(await position(pool)).toBe('11');
  });

  it('refuses a sqlComment that is not a boolean', () => {
    expect(() => tenantPool(tenancy, raw, { sqlComment: 'yes' as never })).toThrow(/sqlComment must be true or false/);
  });
});
