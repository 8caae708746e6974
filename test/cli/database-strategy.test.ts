/**
 * The CLI with `strategy: 'database'` in tenantry.config: backup, restore, tenants clone and
 * tenants export go through the tenancy API, so they work on tenant databases as on schemas.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRoles, serverQuery, useTestDatabase } from '../helpers/database.js';
import { cli, json, workspace } from './cli-harness.js';

const db = useTestDatabase();
const PREFIX = `tdbc${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}_`;
const sharedSchema = `${PREFIX}shared`;
let cwd: string;
const run = (...args: string[]) => cli(args, { cwd, databaseUrl: db.url });

async function databases(): Promise<string[]> {
  return (await serverQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname', [PREFIX])).map((row) => row.datname);
}

/** Runs one query in a tenant database, on a connection of its own. */
async function inDatabase<R extends pg.QueryResultRow>(database: string, text: string): Promise<R[]> {
  const url = new URL(db.url);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  cwd = await workspace({
    'migrations/tenant/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);',
    'tenantry.config.mjs': `export default ${JSON.stringify({ sharedSchema, schemaPrefix: PREFIX, strategy: 'database', databases: { maxConnections: 4 }, migrations: { tenant: './migrations/tenant' } })};`,
  });
  expect((await run('migrate')).code).toBe(0);
  const created = await run('tenants', 'create', 'acme', '--domain', 'acme.example.com');
  expect(created.code, created.stderr).toBe(0);
  await inDatabase(`${PREFIX}acme`, `INSERT INTO "${PREFIX}acme".items (name) SELECT 'item ' || i FROM generate_series(1, 300) AS i`);
});

afterAll(async () => {
  for (const name of await databases()) await serverQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await dropRoles(PREFIX);
});

describe("the CLI with strategy: 'database'", () => {
  it('backs up a tenant database to a file and restores it as another tenant, in a database of its own', async () => {
    const backup = await run('backup', 'acme', '-o', 'acme.tenantry.gz');
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toBe(`Backed up tenant acme: 300 rows in 1 tables to ${join(cwd, 'acme.tenantry.gz')}\n`);
    const restored = await run('restore', 'acme.tenantry.gz', '--as', 'acme-copy', '--json');
    expect(restored.code, restored.stderr).toBe(0);
    expect(json(restored)).toMatchObject({ tenant: { id: 'acme-copy', schema: `${PREFIX}acme_copy` }, rows: 300 });
    expect(await inDatabase(`${PREFIX}acme_copy`, `SELECT count(*)::int AS n FROM "${PREFIX}acme_copy".items`)).toEqual([{ n: 300 }]);
    expect(await databases()).toEqual([`${PREFIX}acme`, `${PREFIX}acme_copy`]);
  });

  it('clones and exports a tenant database', async () => {
    const cloned = await run('tenants', 'clone', 'acme', 'acme-staging', '--json');
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(await inDatabase(`${PREFIX}acme_staging`, `SELECT count(*)::int AS n, current_database() AS db FROM "${PREFIX}acme_staging".items`)).toEqual([{ n: 300, db: `${PREFIX}acme_staging` }]);
    const exported = await run('tenants', 'export', 'acme-staging', '-o', 'staging-export', '--json');
    expect(exported.code, exported.stderr).toBe(0);
    const items = JSON.parse(await readFile(join(cwd, 'staging-export', 'items.json'), 'utf8')) as unknown[];
    expect(items).toHaveLength(300);
  });

  it('refuses a corrupted archive with exit code 1 and leaves no database', async () => {
    const good = await readFile(join(cwd, 'acme.tenantry.gz'));
    await writeFile(join(cwd, 'bad.gz'), good.subarray(0, good.length - 20));
    const result = await run('restore', 'bad.gz', '--as', 'acme-bad');
    expect(result.code).toBe(1);
    expect(await databases()).not.toContain(`${PREFIX}acme_bad`);
  });
});
