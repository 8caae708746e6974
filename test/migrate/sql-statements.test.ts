/**
 * A .sql file is split with PostgreSQL's own parser and each statement is sent as its own query
 * (Citus refuses a multi-statement query string when it forwards one of its DDL statements to a
 * worker), in the schema's one transaction: the file applies whole or not at all, and an error
 * still names the file's line and column.
 */
import { describe, expect, it } from 'vitest';
import { createTenancy, MigrationFailedError } from '../../src/index.js';
import type { Queryable } from '../../src/db.js';
import { runSqlScript } from '../../src/migrate/sql-script.js';
import { splitSqlStatements } from '../../src/migrate/sql-statements.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, tableExists, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

/** A file with every construct a naive `;` split gets wrong. */
const TRICKY = `-- products; and their prices
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, note text);
/* a block comment; /* nested; */ still a comment; */
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.note := coalesce(NEW.note, 'touched; once');
  RETURN NEW;
END;
$$;
CREATE TRIGGER products_touch BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION label(p products) RETURNS text LANGUAGE sql AS $body$ SELECT p.name || ';' || $$x$$ $body$;
CREATE FUNCTION doubled(n int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT n * 2;
END;
CREATE TABLE "odd;name" (id int);
INSERT INTO products (name, note) VALUES (E'it\\'s; escaped', NULL), ('it''s; doubled', 'é😀; kept');
CREATE INDEX products_name ON products (name)
`;

describe('splitSqlStatements', () => {
  it('splits on the semicolons that end statements, nowhere else', async () => {
    const statements = await splitSqlStatements(TRICKY);
    expect(statements.map((statement) => statement.text.split('\n')[0])).toEqual([
      'CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, note text)',
      'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$',
      'CREATE TRIGGER products_touch BEFORE INSERT ON products FOR EACH ROW EXECUTE FUNCTION touch()',
      "CREATE FUNCTION label(p products) RETURNS text LANGUAGE sql AS $body$ SELECT p.name || ';' || $$x$$ $body$",
      'CREATE FUNCTION doubled(n int) RETURNS int LANGUAGE sql',
      'CREATE TABLE "odd;name" (id int)',
      "INSERT INTO products (name, note) VALUES (E'it\\'s; escaped', NULL), ('it''s; doubled', 'é😀; kept')",
      'CREATE INDEX products_name ON products (name)',
    ]);
    expect(statements[4]!.text).toBe('CREATE FUNCTION doubled(n int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT n * 2;\nEND');
  });

  it('gives each statement its offset in characters, past multi-byte ones', async () => {
    const text = "SELECT 'é😀';\n  SELECT 2;";
    const statements = await splitSqlStatements(text);
    expect(statements).toEqual([
      { text: "SELECT 'é😀'", offset: 0 },
      { text: 'SELECT 2', offset: 15 },
    ]);
    expect([...text].slice(15).join('')).toBe('SELECT 2;');
  });

  it('returns text with one semicolon at its end, or none, whole', async () => {
    expect(await splitSqlStatements('CREATE TABLE a (id int);\n')).toEqual([{ text: 'CREATE TABLE a (id int);\n', offset: 0 }]);
    expect(await splitSqlStatements('SELECT 1')).toEqual([{ text: 'SELECT 1', offset: 0 }]);
    expect(await splitSqlStatements('SELECT 1; -- done')).toEqual([{ text: 'SELECT 1', offset: 0 }]);
  });

  it('returns no statement for a file of comments, and text the parser refuses whole', async () => {
    expect(await splitSqlStatements('-- nothing; yet\n/* later */\n')).toEqual([]);
    const broken = 'SELECT 1;\nSELEC 2;';
    expect(await splitSqlStatements(broken)).toEqual([{ text: broken, offset: 0 }]);
  });

  it('marks the statements that end the transaction, also alone in a file, and no other', async () => {
    const ending = async (text: string) => (await splitSqlStatements(text)).filter((statement) => statement.endsTransaction === true).map((statement) => statement.text.trim());
    expect(await ending("CREATE TABLE a (id int);\nCOMMIT;\nEND;\nROLLBACK;\nABORT;\nPREPARE TRANSACTION 'x';")).toEqual(['COMMIT', 'END', 'ROLLBACK', 'ABORT', "PREPARE TRANSACTION 'x'"]);
    expect(await ending('commit')).toEqual(['commit']);
    expect(await ending('SAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nRELEASE s;\nBEGIN;\nSELECT 1 AS "end";')).toEqual([]);
    expect(await splitSqlStatements("UPDATE t SET note = 'commit'")).toEqual([{ text: "UPDATE t SET note = 'commit'", offset: 0 }]);
  });
});

describe('runSqlScript', () => {
  it('sends each statement as its own query, in order', async () => {
    const client = await db.pool.connect();
    const sent: string[] = [];
    const recording: Queryable = {
      query: (text: string, values?: unknown[]) => {
        sent.push(text);
        return client.query(text, values) as never;
      },
    };
    try {
      await client.query('BEGIN');
      await client.query('CREATE SCHEMA split_run; SET LOCAL search_path TO split_run');
      const last = await runSqlScript(recording, TRICKY, 'tricky.sql');
      expect(last).toMatchObject({ command: 'CREATE' });
      expect(sent).toEqual((await splitSqlStatements(TRICKY)).map((statement) => statement.text));
      const { rows } = await client.query<{ name: string; note: string; label: string; doubled: number }>(
        'SELECT name, note, label(products) AS label, doubled(id) AS doubled FROM products ORDER BY id',
      );
      expect(rows).toEqual([
        { name: "it's; escaped", note: 'touched; once', label: "it's; escaped;x", doubled: 2 },
        { name: "it's; doubled", note: 'é😀; kept', label: "it's; doubled;x", doubled: 4 },
      ]);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('a multi-statement SQL migration', () => {
  it('applies every statement of the file', async () => {
    const tenant = await migrationFolder({ '001_tricky.sql': TRICKY });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('split'), migrations: { tenant: tenant.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });
    const { rows } = await db.pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${acme.schema}".products`);
    expect(rows[0]!.count).toBe(2);
    expect(await tableExists(db.pool, acme.schema, 'odd;name')).toBe(true);
  });

  it('reports the line and column of a failing third statement, and applies none of the file', async () => {
    const tenant = await migrationFolder({
      '001_items.sql': 'CREATE TABLE items (id int);',
      '002_three.sql': [
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$;",
        '-- the second; a comment with a semicolon',
        "INSERT INTO items VALUES (1); /* ; */ INSERT INTO items",
        '  SELECT id FROM nowhere;',
        'CREATE INDEX items_id ON items (id);',
      ].join('\n'),
    });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('split'), migrations: { tenant: tenant.path } });
    await tenancy.migrate.shared();
    const failed = await tenancy.registry.create({ id: 'acme' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(MigrationFailedError);
    expect((failed as Error).message).toMatch(/relation "nowhere" does not exist \(002_three\.sql, line 4, column 18\)/);
    expect((failed as Error).cause).toMatchObject({ code: '42P01', line: 4, column: 18 });
    // Provisioning is atomic: no schema, no tenant.
    expect(await tenancy.registry.get('acme')).toBeUndefined();

    // An existing tenant that gets the failing file keeps none of its statements.
    await tenant.write('002_three.sql', '');
    const globex = await tenancy.registry.create({ id: 'globex' });
    await tenant.write('003_three.sql', "INSERT INTO items VALUES (1);\nCREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT * FROM nowhere;\n");
    const report = await tenancy.migrate.tenants();
    expect(report.failed.map((failure) => failure.tenantId)).toEqual(['globex']);
    expect((await tracked(db.pool, globex.schema)).map((row) => row.name)).toEqual(['001_items', '002_three']);
    const items = await db.pool.query(`SELECT * FROM "${globex.schema}".items`);
    expect(items.rowCount).toBe(0);
    const functions = await db.pool.query('SELECT 1 FROM pg_proc WHERE proname = $1 AND pronamespace = $2::regnamespace', ['g', globex.schema]);
    expect(functions.rowCount).toBe(0);
  });

  it('points an error without a position (a constraint violation) at the start of its statement', async () => {
    const tenant = await migrationFolder({
      '001_items.sql': "CREATE TABLE items (id int CHECK (id > 0));\n\n/* the third; */   INSERT INTO items\n  VALUES (-1);\nSELECT 1;",
    });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('split'), migrations: { tenant: tenant.path } });
    await tenancy.migrate.shared();
    const failed = await tenancy.registry.create({ id: 'initech' }).catch((error: unknown) => error);
    expect((failed as Error).message).toMatch(/violates check constraint "items_id_check" \(001_items\.sql, line 3, column 20\)/);
    expect((failed as Error).cause).toMatchObject({ code: '23514', line: 3, column: 20 });
  });
});
