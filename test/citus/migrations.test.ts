/**
 * Migrations on Citus: a .sql file of several statements whose DDL Citus forwards to the worker
 * (CREATE INDEX, CREATE TRIGGER, ALTER TABLE) applies, because tenantry sends it statement by
 * statement (the same text as one query is refused); a failing statement names its line and
 * leaves nothing of the file; a tenant table's foreign key to a shared table works once
 * `createReferenceTables` made that table a reference table, and is refused before.
 */
import { describe, expect, it } from 'vitest';
import { createReferenceTables, createTenancy, MigrationFailedError, type Migration, type Queryable } from '../../src/index.js';
import { migrationFolder, tracked, tableExists } from '../migrate/migration-folder.js';
import { describeCitus, useCitusDatabase } from './citus-database.js';

const FORWARDED_DDL = `CREATE TABLE products (id serial PRIMARY KEY, sku text NOT NULL, stock int NOT NULL DEFAULT 0);
CREATE INDEX products_sku ON products (sku);
-- a trigger function; its body has semicolons
CREATE FUNCTION products_upper_sku() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  NEW.sku := upper(NEW.sku); -- ; in a comment
  RETURN NEW;
END;
$fn$;
CREATE TRIGGER products_upper BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION products_upper_sku();
ALTER TABLE products ADD CONSTRAINT products_stock_check CHECK (stock >= 0);
INSERT INTO products (sku) VALUES (E'a\\'b;c');
`;

describeCitus('migrations on Citus', () => {
  const db = useCitusDatabase();

  describe('a multi-statement .sql file', () => {
    it('is refused by Citus as one query, and applies through tenantry', async () => {
      const client = await db.pool.connect();
      try {
        await client.query('CREATE SCHEMA whole_file');
        await client.query('BEGIN');
        await client.query('SET LOCAL search_path TO whole_file');
        await expect(client.query(FORWARDED_DDL)).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }

      const folder = await migrationFolder({ '001_products.sql': FORWARDED_DDL });
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'mig_', migrations: { tenant: folder.path } });
      await tenancy.migrate.shared();
      const acme = await tenancy.registry.create({ id: 'mig-acme' });
      const { rows } = await db.pool.query(`SELECT sku FROM "${acme.schema}".products`);
      expect(rows).toEqual([{ sku: "A'B;C" }]);
      const { rows: distributed } = await db.pool.query('SELECT 1 FROM citus_schemas WHERE schema_name::text = $1', [acme.schema]);
      expect(distributed).toHaveLength(1);
    });

    it('reports the line of a failing statement and keeps none of the file', async () => {
      const folder = await migrationFolder({
        '001_products.sql': FORWARDED_DDL,
        '002_more.sql': 'CREATE INDEX products_stock ON products (stock);\nALTER TABLE products ADD COLUMN note text;\nINSERT INTO products (sku, stock) VALUES (\'x\', -1);\n',
      });
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'fail_', migrations: { tenant: folder.path } });
      await tenancy.migrate.shared();
      const failed = await tenancy.registry.create({ id: 'fail-acme' }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(MigrationFailedError);
      expect((failed as Error).cause).toMatchObject({ code: '23514', line: 3, column: 1 });
      expect(await tenancy.registry.get('fail-acme')).toBeUndefined();

      await folder.write('002_more.sql', '');
      const globex = await tenancy.registry.create({ id: 'fail-globex' });
      await folder.write('003_more.sql', 'CREATE INDEX products_stock ON products (stock);\nALTER TABLE products ADD COLUMN note text;\nSELECT * FROM nowhere;\n');
      // The registry (public) is the database's: other tests' tenants are in it too.
      const report = await tenancy.migrate.tenants({ only: ['fail-globex'] });
      expect(report.failed.map((failure) => failure.tenantId)).toEqual(['fail-globex']);
      expect((await tracked(db.pool, globex.schema)).map((row) => row.name)).toEqual(['001_products', '002_more']);
      const { rows } = await db.pool.query('SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [globex.schema, 'products_stock']);
      expect(rows).toHaveLength(0);
    });
  });

  describe('a foreign key from a tenant table to a shared table', () => {
    const sharedPlans = (name: string, reference: boolean): Migration[] => [
      { name: `001_${name}`, checksum: '1', up: (client) => client.query(`CREATE TABLE ${name} (id text PRIMARY KEY); INSERT INTO ${name} VALUES ('free'), ('pro')`) },
      ...(reference ? [{ name: '002_reference_tables', checksum: '1', up: (client: Queryable) => createReferenceTables(client, [name]) }] : []),
    ];
    const subscriptions = (plans: string): Migration[] => [
      { name: '001_subscriptions', checksum: '1', up: (client) => client.query(`CREATE TABLE subscriptions (id serial PRIMARY KEY, plan text NOT NULL REFERENCES ${plans} (id))`) },
    ];

    it('is refused while the shared table is on the coordinator only', async () => {
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'nofk_', migrations: { shared: sharedPlans('plans_local', false), tenant: subscriptions('plans_local') } });
      await tenancy.migrate.shared();
      const failed = await tenancy.registry.create({ id: 'nofk-acme' }).catch((error: unknown) => error);
      expect((failed as Error).cause).toMatchObject({ message: expect.stringMatching(/must be a distributed table or a reference table/) });
    });

    it('works once createReferenceTables made it a reference table, and holds on the worker', async () => {
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'fk_', migrations: { shared: sharedPlans('plans_ref', true), tenant: subscriptions('plans_ref') } });
      const shared = await tenancy.migrate.shared();
      expect(shared.applied).toContain('002_reference_tables');
      const { rows: kinds } = await db.pool.query("SELECT citus_table_type FROM citus_tables WHERE table_name = 'plans_ref'::regclass");
      expect(kinds).toEqual([{ citus_table_type: 'reference' }]);
      // A second call leaves the reference table alone.
      const client = await db.pool.connect();
      try {
        expect(await createReferenceTables(client, ['plans_ref'])).toEqual([]);
      } finally {
        client.release();
      }

      const acme = await tenancy.registry.create({ id: 'fk-acme' });
      expect(await tableExists(db.pool, acme.schema, 'subscriptions')).toBe(true);
      await db.pool.query(`INSERT INTO "${acme.schema}".subscriptions (plan) VALUES ('pro')`);
      await expect(db.pool.query(`INSERT INTO "${acme.schema}".subscriptions (plan) VALUES ('gold')`)).rejects.toMatchObject({ code: '23503' });
    });

    it('works with the DO block docs/scaling.md gives for a .sql shared migration', async () => {
      const shared = await migrationFolder({
        '001_plans_sql.sql': `CREATE TABLE plans_sql (id text PRIMARY KEY);
INSERT INTO plans_sql VALUES ('free');
DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN PERFORM
  create_reference_table('plans_sql'); END IF; END $$;
`,
      });
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'sqlfk_', migrations: { shared: shared.path, tenant: subscriptions('plans_sql') } });
      await tenancy.migrate.shared();
      const acme = await tenancy.registry.create({ id: 'sqlfk-acme' });
      await db.pool.query(`INSERT INTO "${acme.schema}".subscriptions (plan) VALUES ('free')`);
      await expect(db.pool.query(`INSERT INTO "${acme.schema}".subscriptions (plan) VALUES ('pro')`)).rejects.toMatchObject({ code: '23503' });
    });
  });
});
