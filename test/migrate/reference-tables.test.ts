/**
 * `createReferenceTables` on PostgreSQL without Citus: nothing to do, the foreign key from a tenant
 * table to the shared table works as it always has; what is not a table name is a typed error on
 * any server. (test/citus/migrations.test.ts covers Citus.)
 */
import { describe, expect, it } from 'vitest';
import { createReferenceTables, createTenancy, InvalidConfigError, type Queryable } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { toleratePoolTeardown, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

describe('createReferenceTables without Citus', () => {
  it('does nothing, and tenant tables reference the shared table as before', async () => {
    const made: string[][] = [];
    const tenancy = createTenancy({
      pool: db.pool,
      ...uniqueNames('ref'),
      migrations: {
        shared: [
          { name: '001_plans', checksum: '1', up: (client: Queryable) => client.query("CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free')") },
          { name: '002_reference_tables', checksum: '1', up: async (client: Queryable) => made.push(await createReferenceTables(client, ['plans'])) },
        ],
        tenant: [{ name: '001_subscriptions', checksum: '1', up: (client: Queryable) => client.query('CREATE TABLE subscriptions (plan text NOT NULL REFERENCES plans (id))') }],
      },
    });
    expect((await tenancy.migrate.shared()).applied).toContain('002_reference_tables');
    expect(made).toEqual([[]]);
    const acme = await tenancy.registry.create({ id: 'acme' });
    await db.pool.query(`INSERT INTO "${acme.schema}".subscriptions VALUES ('free')`);
    await expect(db.pool.query(`INSERT INTO "${acme.schema}".subscriptions VALUES ('gold')`)).rejects.toMatchObject({ code: '23503' });
  });

  it('refuses what is not a table name', async () => {
    await expect(createReferenceTables(db.pool, [''])).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(createReferenceTables(db.pool, [42 as unknown as string])).rejects.toBeInstanceOf(InvalidConfigError);
  });
});
