import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { CLI, canUseTerminal, cli, isOneLineError, json, lines, names, schemaExists, startCli, workspace } from './cli-harness.js';

const db = useTestDatabase();
const schemas = names('bkc');
const schemaOf = (id: string) => `${schemas.schemaPrefix}${id.replaceAll('-', '_')}`;
let cwd: string;

const run = (...args: string[]) => cli([...args, '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url });
const rows = async (id: string, table = 'items') => (await db.pool.query(`SELECT count(*)::int AS n FROM "${schemaOf(id)}".${table}`)).rows[0].n as number;
const registered = async (id: string) => (await db.pool.query(`SELECT 1 FROM "${schemas.sharedSchema}".tenantry_tenants WHERE id = $1`, [id])).rowCount === 1;

beforeAll(async () => {
  cwd = await workspace({
    'migrations/tenant/001_items.sql': `CREATE TABLE a_small (id int PRIMARY KEY);
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);`,
  });
  expect((await run('migrate')).code).toBe(0);
  expect((await run('tenants', 'create', 'acme', '--domain', 'acme.example.com')).code).toBe(0);
  await db.pool.query(`INSERT INTO "${schemaOf('acme')}".items (name) SELECT 'item ' || i FROM generate_series(1, 1000) AS i`);
  await db.pool.query(`INSERT INTO "${schemaOf('acme')}".a_small VALUES (1), (2)`);
});

describe('tenantry backup and restore', () => {
  it('backs up to a file and restores it under another id', async () => {
    const backup = await run('backup', 'acme', '-o', 'acme.tenantry.gz');
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toBe(`Backed up tenant acme: 1002 rows in 2 tables to ${join(cwd, 'acme.tenantry.gz')}\n`);
    expect((await readdir(cwd)).filter((file) => file.includes('tenantry.gz'))).toEqual(['acme.tenantry.gz']);

    const restore = await run('restore', 'acme.tenantry.gz', '--as', 'acme-copy', '--json');
    expect(restore.code, restore.stderr).toBe(0);
    expect(json<{ tenant: { id: string }; rows: number }>(restore)).toMatchObject({ tenant: { id: 'acme-copy' }, rows: 1002 });
    // --json: one JSON line on stderr per table.
    expect(lines(restore.stderr).map((line) => (JSON.parse(line) as { table: string }).table)).toEqual(['a_small', 'items']);
    expect(await rows('acme-copy')).toBe(1000);
    const shown = json<{ domains: unknown[] }>(await run('tenants', 'show', 'acme-copy', '--json'));
    expect(shown.domains).toEqual([]);
  });

  it('writes the archive to stdout when it is not a terminal, and restores it from stdin', async () => {
    const env = { ...process.env, DATABASE_URL: db.url };
    delete (env as Record<string, string | undefined>).JITI_FS_CACHE;
    const flags = ['--tenant-migrations', 'migrations/tenant', ...schemas.flags].join(' ');
    execFileSync('sh', ['-c', `"${process.execPath}" "${CLI}" backup acme ${flags} > piped.gz 2> piped.err`], { cwd, env });
    expect(await readFile(join(cwd, 'piped.err'), 'utf8')).toBe('Backed up tenant acme: 1002 rows in 2 tables\n');
    execFileSync('sh', ['-c', `"${process.execPath}" "${CLI}" restore - --as acme-piped ${flags} < piped.gz`], { cwd, env });
    expect(await rows('acme-piped')).toBe(1000);
  });

  it('refuses a corrupted archive with one line and exit code 1, leaving nothing', async () => {
    expect((await run('backup', 'acme', '-o', 'good.gz')).code).toBe(0);
    const good = await readFile(join(cwd, 'good.gz'));
    await writeFile(join(cwd, 'bad.gz'), good.subarray(0, good.length - 20));
    const result = await run('restore', 'bad.gz', '--as', 'acme-bad');
    expect(result.code).toBe(1);
    expect(isOneLineError(result), result.stderr).toBe(true);
    expect(result.stderr).toContain('truncated');
    expect(await schemaExists(db.pool, schemaOf('acme-bad'))).toBe(false);
    expect(await registered('acme-bad')).toBe(false);
  });

  it('refuses a missing archive and a folder that does not exist with one line', async () => {
    const missing = await run('restore', 'nope.gz');
    expect(missing.code).toBe(2);
    expect(isOneLineError(missing), missing.stderr).toBe(true);
    expect(missing.stderr).toContain('No archive at');
    const noFolder = await run('backup', 'acme', '-o', 'no/such/folder/acme.gz');
    expect(noFolder.code, noFolder.stderr).toBe(2);
    expect(isOneLineError(noFolder), noFolder.stderr).toBe(true);
    expect(noFolder.stderr).toContain('Cannot write the archive to');
  });

  it('needs an id or --shared, and backs up the shared tables with --shared', async () => {
    const neither = await run('backup', '-o', 'x.gz');
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('needs a tenant id, or --shared');
    const shared = await run('backup', '--shared', '-o', 'shared.gz', '--json');
    expect(shared.code, shared.stderr).toBe(0);
    expect(json(shared)).toMatchObject({ kind: 'shared', tenant: null, rows: 0, tables: [] });
  });
});

describe('progress on a terminal', () => {
  it.skipIf(!canUseTerminal())('shows a bar with the tables, rows and MB on stderr', async () => {
    const result = await cli(['backup', 'acme', '-o', 'tty.gz', '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url, terminal: true });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/Backing up tenant acme \[#+\] 2\/2 tables \| 1002 rows/);
  });
});

describe('tenantry tenants clone and export', () => {
  it('clones a tenant, and refuses a taken id', async () => {
    const clone = await run('tenants', 'clone', 'acme', 'acme-staging', '--domain', 'staging.acme.com');
    expect(clone.code, clone.stderr).toBe(0);
    expect(clone.stdout).toBe(`Restored tenant acme-staging (schema "${schemaOf('acme-staging')}"): 1002 rows in 2 tables\n`);
    expect(await rows('acme-staging')).toBe(1000);
    const again = await run('tenants', 'clone', 'acme', 'acme-staging');
    expect(again.code).toBe(1);
    expect(isOneLineError(again)).toBe(true);
  });

  it('exports JSON, CSV and the archive', async () => {
    const asJson = await run('tenants', 'export', 'acme', '-o', 'out-json');
    expect(asJson.code, asJson.stderr).toBe(0);
    expect((await readdir(join(cwd, 'out-json'))).sort()).toEqual(['a_small.json', 'items.json', 'tenant.json']);
    expect(JSON.parse(await readFile(join(cwd, 'out-json/items.json'), 'utf8'))).toHaveLength(1000);
    const asCsv = await run('tenants', 'export', 'acme', '--format', 'csv', '-o', 'out-csv');
    expect(asCsv.code, asCsv.stderr).toBe(0);
    expect(lines(await readFile(join(cwd, 'out-csv/items.csv'), 'utf8'))).toHaveLength(1001);
    const archive = await run('tenants', 'export', 'acme', '--format', 'archive', '-o', 'acme-export.gz');
    expect(archive.code, archive.stderr).toBe(0);
    expect((await readFile(join(cwd, 'acme-export.gz'))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const bad = await run('tenants', 'export', 'acme', '--format', 'xml');
    expect(bad.code).toBe(2);
  });
});

describe('Ctrl-C during tenantry restore', () => {
  it('rolls the restore back and exits 130, leaving no tenant', { timeout: 60_000 }, async () => {
    await db.pool.query(`INSERT INTO "${schemaOf('acme')}".items (name) SELECT repeat('x', 100) || i FROM generate_series(1, 400000) AS i`);
    expect((await run('backup', 'acme', '-o', 'big.gz', '--compression', '1')).code).toBe(0);
    const running = startCli(['restore', 'big.gz', '--as', 'acme-stopped', '--json', '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url });
    await running.waitFor('"table":"a_small"', 'stderr');
    running.child.kill('SIGINT');
    const result = await running.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('the restore was rolled back');
    expect(await schemaExists(db.pool, schemaOf('acme-stopped'))).toBe(false);
    expect(await registered('acme-stopped')).toBe(false);
  });
});
