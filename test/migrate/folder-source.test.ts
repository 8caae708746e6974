import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTenancy, folderMigrations, InvalidConfigError, isTenancyError } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, sha256, tableExists, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const schemaExists = async (schema: string) =>
  (await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

describe('folder migrations', () => {
  it('applies .sql files and JS modules in name order, scoped to the tenant schema, shared tables through the search_path', async () => {
    const shared = await migrationFolder({
      '001_plans.sql': `CREATE TABLE plans (id text PRIMARY KEY, max_products int NOT NULL);
INSERT INTO plans VALUES ('free', 10), ('pro', 1000);`,
    });
    const files: Record<string, string> = {
      // Written out of name order on purpose.
      '010_last.sql': `INSERT INTO migration_log (step, seen_schema) VALUES ('010_last', current_schema());`,
      '003_default_export.mjs': `export default {
  async up(client) {
    await client.query("INSERT INTO migration_log (step, seen_schema) VALUES ('003_default_export', current_schema())");
  },
};
`,
      '002_named_up.mjs': `export async function up(client) {
  await client.query('CREATE TABLE migration_log (id serial PRIMARY KEY, step text NOT NULL, seen_schema text NOT NULL)');
  const { rows } = await client.query("SELECT max_products FROM plans WHERE id = 'pro'");
  await client.query("INSERT INTO products (name, plan) VALUES ('limit-' || $1, 'pro')", [String(rows[0].max_products)]);
  await client.query("INSERT INTO migration_log (step, seen_schema) VALUES ('002_named_up', current_schema())");
}
`,
      '001_products.sql': `CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, plan text NOT NULL REFERENCES plans (id));
CREATE INDEX products_plan ON products (plan);`,
      '004_common.cjs': `module.exports = {
  up: (client) => client.query("INSERT INTO migration_log (step, seen_schema) VALUES ('004_common', current_schema())"),
};
`,
      // Ignored: a declaration file, dotfiles, files of other kinds.
      'types.d.ts': 'export declare function up(client: unknown): Promise<void>; this is not JavaScript at all',
      '005_typed.d.mts': 'this is not JavaScript either',
      '.006_hidden.sql': 'SELECT 1 / 0;',
      '.eslintrc.js': 'throw new Error("a dotfile was loaded");',
      'README.md': '# Tenant migrations',
    };
    const tenant = await migrationFolder(files);
    const names = uniqueNames('fs');
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { shared: shared.path, tenant: tenant.path } });

    expect((await tenancy.migrate.shared()).applied).toEqual(['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy', '001_plans']);
    const acme = await tenancy.registry.create({ id: 'acme' });
    expect(acme.migrationVersion).toBe('010_last');

    expect((await tracked(db.pool, acme.schema)).map((row) => row.name)).toEqual([
      '001_products',
      '002_named_up',
      '003_default_export',
      '004_common',
      '010_last',
    ]);
    const log = await db.pool.query(`SELECT step, seen_schema FROM "${acme.schema}".migration_log ORDER BY id`);
    expect(log.rows).toEqual(
      ['002_named_up', '003_default_export', '004_common', '010_last'].map((step) => ({ step, seen_schema: acme.schema })),
    );
    // The module read the shared table unqualified, and wrote into the tenant's table.
    expect((await db.pool.query(`SELECT name, plan FROM "${acme.schema}".products`)).rows).toEqual([{ name: 'limit-1000', plan: 'pro' }]);
    // The unqualified foreign key resolved to the shared schema's table.
    const fk = await db.pool.query<{ target: string }>(
      `SELECT confrelid::regclass::text AS target FROM pg_constraint WHERE contype = 'f' AND conrelid = $1::regclass`,
      [`"${acme.schema}".products`],
    );
    expect(fk.rows).toEqual([{ target: `${names.sharedSchema}.plans` }]);
    // Nothing leaked into the shared schema or public.
    for (const schema of [names.sharedSchema, 'public']) {
      expect(await tableExists(db.pool, schema, 'products')).toBe(false);
      expect(await tableExists(db.pool, schema, 'migration_log')).toBe(false);
    }
    expect(await tableExists(db.pool, 'public', 'plans')).toBe(false);
    // A second tenant gets its own copies.
    const globex = await tenancy.registry.create({ id: 'globex' });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${globex.schema}".migration_log`)).rows).toEqual([{ n: 4 }]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${acme.schema}".migration_log`)).rows).toEqual([{ n: 4 }]);
  });

  it('names a migration by its file name without the extension, with a sha256 checksum of the file', async () => {
    const sql = 'CREATE TABLE things (id int);\n';
    const module = 'export const up = (client) => client.query("CREATE TABLE others (id int)");\n';
    const folder = await migrationFolder({ '001_things.sql': sql, '002_others.mjs': module });
    const migrations = await folderMigrations(folder.path).load();
    expect(migrations.map((m) => ({ name: m.name, checksum: m.checksum }))).toEqual([
      { name: '001_things', checksum: sha256(sql) },
      { name: '002_others', checksum: sha256(module) },
    ]);
  });

  it('refuses two migrations with the same name (001_a.sql and 001_a.mjs), creating nothing', async () => {
    const folder = await migrationFolder({
      '001_a.sql': 'CREATE TABLE a (id int);',
      '001_a.mjs': 'export const up = (client) => client.query("CREATE TABLE a2 (id int)");',
      '002_b.sql': 'CREATE TABLE b (id int);',
    });
    await expect(folderMigrations(folder.path).load()).rejects.toThrow(/named "001_a".*unique/);
    const names = uniqueNames('dup');
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    await expect(tenancy.registry.create({ id: 'acme' })).rejects.toThrow(/"001_a"/);
    expect(await tenancy.registry.get('acme')).toBeUndefined();
    expect(await schemaExists(`${names.schemaPrefix}acme`)).toBe(false);
  });

  it('refuses a module without up(client) with an error naming the file', async () => {
    for (const text of ['export const down = async () => {};', 'export default { down() {} };', 'export default 42;']) {
      const folder = await migrationFolder({ '001_ok.sql': 'SELECT 1;', '002_no_up.mjs': text });
      const error = await folderMigrations(folder.path).load().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidConfigError);
      expect(error).toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
      expect((error as Error).message).toContain(join(folder.path, '002_no_up.mjs'));
      expect((error as Error).message).toMatch(/must export a function up\(client\)/);
    }
  });

  it('reports a module that fails to load as InvalidConfigError with the cause', async () => {
    const folder = await migrationFolder({ '001_broken.mjs': 'export const up = ;' });
    const error = await folderMigrations(folder.path).load().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
    expect((error as Error).message).toContain('001_broken.mjs');
    // A SyntaxError under plain Node; vitest's transform reports its own parse error.
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('gives InvalidConfigError for a missing folder, from the source and from every migration run', async () => {
    const missing = join((await migrationFolder()).path, 'does-not-exist');
    const error = await folderMigrations(missing).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(isTenancyError(error) && error.code).toBe('TENANTRY_INVALID_CONFIG');
    expect((error as Error).message).toContain(missing);
    expect((error as Error & { cause: { code: string } }).cause.code).toBe('ENOENT');

    const names = uniqueNames('missing');
    const good = createTenancy({ pool: db.pool, ...names });
    await good.migrate.shared();
    await good.registry.create({ id: 'acme' });
    const broken = createTenancy({ pool: db.pool, ...names, migrations: { shared: missing, tenant: missing } });
    await expect(broken.migrate.shared()).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(broken.migrate.tenants()).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(broken.migrate.tenant('acme')).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(broken.registry.create({ id: 'globex' })).rejects.toBeInstanceOf(InvalidConfigError);
    expect(await broken.registry.get('globex')).toBeUndefined();
  });

  it('runs the fixed code of a module edited after it failed, in the same process, and records its checksum', async () => {
    const broken = {
      '002_fill.mjs': 'export async function up() {\n  throw new Error("bug in 002_fill");\n}\n',
      '003_fill.cjs': 'module.exports = { up: async () => { throw new Error("bug in 003_fill"); } };\n',
    };
    const fixed = {
      '002_fill.mjs': `export async function up(client) {\n  await client.query("INSERT INTO items (name) VALUES ('from 002')");\n}\n`,
      '003_fill.cjs': `module.exports = { up: (client) => client.query("INSERT INTO items (name) VALUES ('from 003')") };\n`,
    };
    const folder = await migrationFolder({ '001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);' });
    const names = uniqueNames('edit');
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });

    await folder.write('002_fill.mjs', broken['002_fill.mjs']);
    let report = await tenancy.migrate.tenants();
    expect(report.failed[0]).toMatchObject({ migration: '002_fill', cause: { message: 'bug in 002_fill' } });
    await folder.write('002_fill.mjs', fixed['002_fill.mjs']);
    await folder.write('003_fill.cjs', broken['003_fill.cjs']);
    report = await tenancy.migrate.tenants();
    expect(report.failed[0]).toMatchObject({ migration: '003_fill', cause: { message: 'bug in 003_fill' } });
    await folder.write('003_fill.cjs', fixed['003_fill.cjs']);
    report = await tenancy.migrate.tenants();
    expect(report.failed).toEqual([]);
    expect(report.migrated).toEqual([{ tenantId: 'acme', applied: ['002_fill', '003_fill'] }]);
    expect((await db.pool.query(`SELECT name FROM "${acme.schema}".items ORDER BY id`)).rows).toEqual([{ name: 'from 002' }, { name: 'from 003' }]);
    expect((await tracked(db.pool, acme.schema)).slice(1)).toEqual([
      { name: '002_fill', checksum: sha256(fixed['002_fill.mjs']) },
      { name: '003_fill', checksum: sha256(fixed['003_fill.cjs']) },
    ]);
  });

  it('keeps the checksum of .sql files and modules when a checkout turns LF into CRLF', async () => {
    const sql = 'CREATE TABLE things (id int);\nCREATE INDEX things_id ON things (id);\n';
    const module = 'export async function up(client) {\n  await client.query("CREATE TABLE others (id int)");\n}\n';
    const folder = await migrationFolder({ '001_things.sql': sql, '002_others.mjs': module });
    const names = uniqueNames('crlf');
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });
    const before = await tracked(db.pool, acme.schema);

    await folder.write('001_things.sql', sql.replaceAll('\n', '\r\n'));
    await folder.write('002_others.mjs', module.replaceAll('\n', '\r\n'));
    expect((await tenancy.migrate.tenant('acme')).applied).toEqual([]);
    expect(await tracked(db.pool, acme.schema)).toEqual(before);
    expect((await tenancy.migrate.tenants()).total).toBe(0);
  });
});
