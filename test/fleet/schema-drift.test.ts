import { describe, expect, it } from 'vitest';
import { createTenancy, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, uniqueNames } from '../migrate/migration-folder.js';

const db = useTestDatabase();

const MIGRATIONS = {
  '001_items.sql': `CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0, mood mood, created_at timestamptz DEFAULT now());
CREATE INDEX items_name_idx ON items (name);
CREATE TABLE moves (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item_id int NOT NULL REFERENCES items (id), delta int NOT NULL CHECK (delta <> 0));
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW stock AS SELECT i.id, sum(m.delta) AS qty FROM items i JOIN moves m ON m.item_id = i.id GROUP BY i.id;`,
  '002_sku.sql': 'ALTER TABLE items ADD COLUMN sku text;',
};

async function setup(ids: readonly string[], migrations: Record<string, string> = MIGRATIONS): Promise<{ tenancy: Tenancy; schemaOf: (id: string) => string }> {
  const folder = await migrationFolder(migrations);
  const names = uniqueNames('drift');
  const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
  await tenancy.migrate.shared();
  for (const id of ids) await tenancy.registry.create({ id });
  return { tenancy, schemaOf: (id) => `${names.schemaPrefix}${id}` };
}

/** Counts the statements the pool runs during `fn` (on the pool and on the clients it checks out). */
async function countQueries<R>(fn: () => Promise<R>): Promise<{ result: R; queries: number; calls: { text: string; values: unknown }[] }> {
  let queries = 0;
  const calls: { text: string; values: unknown }[] = [];
  const pool = db.pool as unknown as { query: (...args: unknown[]) => unknown; connect: (...args: unknown[]) => Promise<Client> };
  type Client = { query: (...args: unknown[]) => unknown; release: (...args: unknown[]) => unknown };
  const originalQuery = pool.query;
  const originalConnect = pool.connect;
  pool.query = (...args) => ((queries += 1), originalQuery.apply(db.pool, args));
  // pool.query checks a client out with a callback: those pass through (pool.query counted them).
  pool.connect = async (...args) => {
    if (args.length > 0) return originalConnect.apply(db.pool, args);
    const client = await originalConnect.apply(db.pool);
    const { query, release } = client;
    client.query = (...args) => ((queries += 1), calls.push({ text: String(args[0]), values: args[1] }), query.apply(client, args));
    client.release = (...args) => {
      client.query = query;
      client.release = release;
      return release.apply(client, args);
    };
    return client;
  };
  try {
    return { result: await fn(), queries, calls };
  } finally {
    pool.query = originalQuery;
    pool.connect = originalConnect;
  }
}

describe('migrate.drift', () => {
  it('reports nothing for tenants built by the migrations', async () => {
    const { tenancy } = await setup(['a', 'b', 'c']);
    const report = await tenancy.migrate.drift();
    expect(report.checked).toBe(3);
    expect(report.drifted).toEqual([]);
    expect(report.reference).toMatchObject({ version: '002_sku' });
    expect(report.reference.items).toBeGreaterThan(20);
  });

  it('lists what differs in a tenant altered by hand (a column added, an index dropped, a type changed), and only that tenant', async () => {
    const { tenancy, schemaOf } = await setup(['clean', 'hand', 'other']);
    const schema = `"${schemaOf('hand')}"`;
    await db.pool.query(`ALTER TABLE ${schema}.items ADD COLUMN notes text`);
    await db.pool.query(`DROP INDEX ${schema}.items_name_idx`);
    await db.pool.query(`ALTER TABLE ${schema}.items ALTER COLUMN sku TYPE varchar(20)`);
    await db.pool.query(`ALTER TABLE ${schema}.items ALTER COLUMN qty DROP DEFAULT`);
    await db.pool.query(`DROP TRIGGER items_touch ON ${schema}.items`);
    await db.pool.query(`CREATE OR REPLACE FUNCTION ${schema}.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);

    const report = await tenancy.migrate.drift();
    expect(report.checked).toBe(3);
    expect(report.drifted.map((tenant) => tenant.tenantId)).toEqual(['hand']);
    const [hand] = report.drifted;
    expect(hand).toMatchObject({ schema: schemaOf('hand'), migrationVersion: '002_sku', behind: false });
    expect(hand!.differences).toEqual([
      { kind: 'column', name: 'items.notes', change: 'extra', actual: 'text' },
      { kind: 'column', name: 'items.qty', change: 'changed', expected: 'integer NOT NULL DEFAULT 0', actual: 'integer NOT NULL' },
      { kind: 'column', name: 'items.sku', change: 'changed', expected: 'text', actual: 'character varying(20)' },
      { kind: 'function', name: 'touch()', change: 'changed', expected: expect.stringMatching(/^md5 /), actual: expect.stringMatching(/^md5 /) },
      { kind: 'index', name: 'items_name_idx', change: 'missing', expected: 'CREATE INDEX items_name_idx ON items USING btree (name)' },
      { kind: 'trigger', name: 'items.items_touch', change: 'missing', expected: 'CREATE TRIGGER items_touch BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch()' },
    ]);
  });

  it('flags a tenant behind on migrations, and one whose schema is gone', async () => {
    const { tenancy, schemaOf } = await setup(['ahead', 'gone']);
    await db.pool.query(`DROP SCHEMA "${schemaOf('gone')}" CASCADE`);
    const folder = await migrationFolder({ ...MIGRATIONS, '003_notes.sql': 'ALTER TABLE items ADD COLUMN notes text;' });
    const names = { sharedSchema: tenancy.sharedSchema, schemaPrefix: schemaOf('') };
    const newer = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
    const report = await newer.migrate.drift();
    expect(report.reference.version).toBe('003_notes');
    expect(report.drifted).toEqual([
      { tenantId: 'ahead', schema: schemaOf('ahead'), migrationVersion: '002_sku', behind: true, differences: [{ kind: 'column', name: 'items.notes', change: 'missing', expected: 'text' }] },
      { tenantId: 'gone', schema: schemaOf('gone'), migrationVersion: '002_sku', behind: true, differences: [{ kind: 'schema', name: schemaOf('gone'), change: 'missing' }] },
    ]);
    // The reference was rolled back: no scratch schema is left.
    const { rows } = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenantry_drift_%'`);
    expect(rows).toEqual([]);
  });

  it('reports changes that only point elsewhere: a default on another tenant\'s sequence, a foreign key to another tenant\'s table, a check, an index expression', async () => {
    const migrations = {
      '001_items.sql': `CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0 CHECK (qty >= 0));
CREATE TABLE moves (id serial PRIMARY KEY, item_id int NOT NULL REFERENCES items (id));
CREATE INDEX items_lower_name ON items (lower(name));
CREATE UNIQUE INDEX items_name_key ON items (name) WHERE qty > 0;`,
    };
    const { tenancy, schemaOf } = await setup(['a', 'b', 'c', 'd', 'e'], migrations);
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((id) => `"${schemaOf(id)}"`);
    await db.pool.query(`ALTER TABLE ${b}.items ALTER COLUMN id SET DEFAULT nextval('${a}.items_id_seq'::regclass)`);
    await db.pool.query(`ALTER TABLE ${c}.moves DROP CONSTRAINT moves_item_id_fkey, ADD CONSTRAINT moves_item_id_fkey FOREIGN KEY (item_id) REFERENCES ${a}.items (id)`);
    await db.pool.query(`ALTER TABLE ${d}.items DROP CONSTRAINT items_qty_check, ADD CONSTRAINT items_qty_check CHECK (qty >= 1)`);
    await db.pool.query(`DROP INDEX ${e}.items_lower_name; CREATE INDEX items_lower_name ON ${e}.items (upper(name))`);
    await db.pool.query(`DROP INDEX ${e}.items_name_key; CREATE UNIQUE INDEX items_name_key ON ${e}.items (name) WHERE qty > 1`);

    const report = await tenancy.migrate.drift();
    const changed = Object.fromEntries(report.drifted.map((tenant) => [tenant.tenantId, tenant.differences.map((difference) => `${difference.change} ${difference.kind} ${difference.name}`)]));
    expect(changed).toEqual({
      b: ['changed column items.id'],
      c: ['changed constraint moves.moves_item_id_fkey'],
      d: ['changed constraint items.items_qty_check'],
      e: ['changed index items_lower_name', 'changed index items_name_key'],
    });
  });

  it('describes defaults and keys that name the schema\'s own objects alike in every tenant, and reports one changed by hand', async () => {
    const migrations = {
      '001_items.sql': `CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE FUNCTION next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'c' $$;
CREATE TABLE items (id serial PRIMARY KEY, mood mood NOT NULL DEFAULT 'ok', code text DEFAULT next_code(), name text NOT NULL, CONSTRAINT items_name_key UNIQUE (name) INCLUDE (mood));`,
    };
    const { tenancy, schemaOf } = await setup(['a', 'b', 'c', 'd'], migrations);
    const clean = await countQueries(() => tenancy.migrate.drift());
    expect(clean.result.drifted).toEqual([]);
    // The clean tenants share one fingerprint (their enum default and function default name
    // objects of their own schema): the full description is read for one of them only.
    const described = clean.calls.filter((call) => call.text.includes('pg_get_indexdef'));
    expect(described.map((call) => (call.values as string[][])[0]!.length)).toEqual([1, 1]);

    await db.pool.query(`ALTER TABLE "${schemaOf('b')}".items ALTER COLUMN mood SET DEFAULT 'sad'`);
    await db.pool.query(`ALTER TABLE "${schemaOf('c')}".items DROP CONSTRAINT items_name_key, ADD CONSTRAINT items_name_key UNIQUE (name)`);
    const report = await tenancy.migrate.drift();
    const changed = Object.fromEntries(report.drifted.map((tenant) => [tenant.tenantId, tenant.differences.map((difference) => `${difference.change} ${difference.kind} ${difference.name}`)]));
    expect(changed).toEqual({
      b: ['changed column items.mood'],
      c: ['changed constraint items.items_name_key', 'changed index items_name_key'],
    });
    expect(report.drifted.find((tenant) => tenant.tenantId === 'b')!.differences[0]).toMatchObject({ expected: "mood NOT NULL DEFAULT 'ok'::mood", actual: "mood NOT NULL DEFAULT 'sad'::mood" });
  });

  it('does not call columns made in another order drift', async () => {
    const migrations = { '001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0);\nCREATE INDEX items_qty ON items (qty);' };
    const { tenancy, schemaOf } = await setup(['plain', 'reordered'], migrations);
    const schema = `"${schemaOf('reordered')}"`;
    await db.pool.query(`ALTER TABLE ${schema}.items DROP COLUMN name; ALTER TABLE ${schema}.items ADD COLUMN name text NOT NULL DEFAULT ''; ALTER TABLE ${schema}.items ALTER COLUMN name DROP DEFAULT`);
    const report = await tenancy.migrate.drift();
    expect(report.drifted).toEqual([]);
  });

  it('stays a handful of queries over 300 tenants, whatever drifted', { timeout: 240_000 }, async () => {
    const ids = Array.from({ length: 300 }, (_, index) => `t${String(index).padStart(3, '0')}`);
    const { tenancy, schemaOf } = await setup([], { '001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL); CREATE INDEX items_name_idx ON items (name);' });
    for (let start = 0; start < ids.length; start += 6) {
      await Promise.all(ids.slice(start, start + 6).map((id) => tenancy.registry.create({ id })));
    }
    for (const id of ['t010', 't200']) await db.pool.query(`ALTER TABLE "${schemaOf(id)}".items ADD COLUMN extra int`);
    await db.pool.query(`DROP INDEX "${schemaOf('t150')}".items_name_idx`);

    const { result, queries } = await countQueries(() => tenancy.migrate.drift());
    expect(result.checked).toBe(300);
    expect(result.drifted.map((tenant) => tenant.tenantId)).toEqual(['t010', 't150', 't200']);
    expect(result.variants).toBe(2);
    // Building the reference is about 12 statements (the migration's own); the fleet is read in 12
    // (BEGIN, settings, version, the namespaces, one fingerprint query per kind of item (6), details
    // of the 3 distinct ones, COMMIT) plus 2 registry reads: 26, whatever the number of tenants.
    expect(queries).toBeLessThanOrEqual(28);
  });
});
