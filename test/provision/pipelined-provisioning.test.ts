/**
 * Provisioning queues (and pipelines) the statements of a new tenant's .sql migrations: it must
 * stay atomic (a failure leaves no schema, role or registry row), record every migration, run
 * .sql files and `up` functions in name order, and hand the client back as it found it.
 */
import { describe, expect, it } from 'vitest';
import { createTenancy, MigrationFailedError, type Tenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, sha256, tracked, uniqueNames } from '../migrate/migration-folder.js';

const db = useTestDatabase({ max: 1 });

const FILES = {
  '001_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);\nCREATE INDEX a_id ON a (id);\nINSERT INTO a VALUES (1);',
  '002_b.mjs': "export async function up(client) { await client.query('INSERT INTO a VALUES (2)'); }",
  '003_c.sql': 'CREATE TABLE c AS SELECT id FROM a;\nCREATE INDEX c_id ON c (id);',
};

async function tenancyWith(label: string, files: Readonly<Record<string, string>>): Promise<{ tenancy: Tenancy; prefix: string }> {
  const folder = await migrationFolder(files);
  const names = uniqueNames(label);
  const tenancy = createTenancy({ pool: db.pool, ...names, tenantRoles: { prefix: db.rolePrefix }, migrations: { tenant: folder.path } });
  await tenancy.migrate.shared();
  return { tenancy, prefix: names.schemaPrefix };
}

/** What is left of a tenant: its schema, its role and its registry row. */
async function leftOf(tenancy: Tenancy, id: string, schema: string): Promise<string[]> {
  const left: string[] = [];
  if ((await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount) left.push('schema');
  if ((await db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [tenancy.tenantRoles!.roleOf(id)])).rowCount) left.push('role');
  if ((await tenancy.registry.get(id)) !== undefined) left.push('row');
  return left;
}

async function clientPipeline(): Promise<unknown> {
  const client = await db.pool.connect();
  try {
    return (client as unknown as { pipeline?: unknown }).pipeline;
  } finally {
    client.release();
  }
}

describe('pipelined provisioning', () => {
  it('runs .sql files and up functions in name order and records each migration with its checksum', async () => {
    const { tenancy, prefix } = await tenancyWith('order', FILES);
    await tenancy.registry.create({ id: 'acme' });
    const schema = `${prefix}acme`;
    const { rows } = await db.pool.query<{ id: number }>(`SELECT id FROM "${schema}".c ORDER BY id`);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    const migrations = (await tracked(db.pool, schema)).filter((row) => !row.name.startsWith('tenantry:'));
    expect(migrations).toEqual(Object.entries(FILES).map(([file, text]) => ({ name: file.replace(/\.[a-z]+$/, ''), checksum: sha256(text) })));
    expect(await clientPipeline()).toBe(false);
  });

  it('leaves no schema, role or row when a statement in the middle fails, names its migration and line, and hands back a usable client', async () => {
    const failing = { ...FILES, '003_c.sql': 'CREATE TABLE c (id int);\nINSERT INTO missing VALUES (1);\nCREATE TABLE d (id int);' };
    const { tenancy, prefix } = await tenancyWith('fail', failing);
    const error = await tenancy.registry.create({ id: 'initech' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error).toMatchObject({ migration: '003_c', tenantId: 'initech' });
    expect(String((error as Error).message)).toMatch(/missing/);
    expect(String((error as Error).message)).toMatch(/003_c\.sql.*line 2/);
    expect(await leftOf(tenancy, 'initech', `${prefix}initech`)).toEqual([]);
    // The pool holds one client: the one that failed is back, out of pipeline mode, and works.
    expect(await clientPipeline()).toBe(false);
    const { tenancy: next } = await tenancyWith('after', FILES);
    await expect(next.registry.create({ id: 'globex' })).resolves.toMatchObject({ id: 'globex' });
  });

  it('leaves nothing when the failure is in the first file', async () => {
    const { tenancy, prefix } = await tenancyWith('first', { ...FILES, '001_a.sql': 'CREATE TABLE a (id int);\nSELECT 1/0;' });
    await expect(tenancy.registry.create({ id: 'umbrella' })).rejects.toMatchObject({ migration: '001_a' });
    expect(await leftOf(tenancy, 'umbrella', `${prefix}umbrella`)).toEqual([]);
  });

  it("puts the search_path back after a file that changes it: the next file's tables land in the tenant's schema", async () => {
    const { tenancy, prefix } = await tenancyWith('path', { '001_a.sql': 'CREATE TABLE a (id int);\nSET LOCAL search_path TO public;', '002_b.sql': 'CREATE TABLE b (id int);' });
    await tenancy.registry.create({ id: 'hooli' });
    const { rows } = await db.pool.query<{ schema: string }>("SELECT relnamespace::regnamespace::text AS schema FROM pg_class WHERE relname = 'b' AND relkind = 'r'");
    expect(rows).toEqual([{ schema: `${prefix}hooli` }]);
  });

  it.each([
    ['a COMMIT between statements', 'CREATE TABLE sneaky (id int);\nCOMMIT;\nCREATE TABLE after (id int);'],
    ['a lone END', 'END;'],
    ['a ROLLBACK', 'CREATE TABLE sneaky (id int);\nROLLBACK;'],
  ])('refuses a .sql migration with %s before sending anything, and leaves nothing', async (label, text) => {
    const { tenancy, prefix } = await tenancyWith('ends', { ...FILES, '003_c.sql': text });
    const id = `ends-${label.split(' ').at(-1)!.toLowerCase()}`;
    const error = await tenancy.registry.create({ id }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TENANTRY_MIGRATION_FAILED', migration: '003_c', tenantId: id });
    expect(String((error as Error).message)).toMatch(/ended the transaction/);
    expect(await leftOf(tenancy, id, `${prefix}${id}`)).toEqual([]);
    const tables = await db.pool.query("SELECT 1 FROM pg_class WHERE relname IN ('sneaky', 'after')");
    expect(tables.rowCount).toBe(0);
  });
});
