import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { cli, closedPort, isOneLineError, json, names, workspace } from './cli-harness.js';

const db = useTestDatabase();

describe('tenantry usage', () => {
  it('prints the help and the version', async () => {
    const cwd = await workspace();
    const help = await cli(['--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tenantry COMMAND \[options\]/);
    for (const command of ['migrate', 'status', 'tenants create', 'tenants delete', 'init']) expect(help.stdout).toContain(`  ${command} `);

    const migrateHelp = await cli(['migrate', '--help'], { cwd });
    expect(migrateHelp.stdout).toMatch(/^Usage: tenantry migrate \[options\]/);
    expect(migrateHelp.stdout).toContain('--dry-run');
    expect((await cli(['help', 'tenants', 'delete'], { cwd })).stdout).toContain('--drop-schema');
    expect((await cli(['tenants', 'create', '--help'], { cwd })).stdout).toMatch(/^Usage: tenantry tenants create ID \[options\]/);

    const version = await cli(['--version'], { cwd });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);

    const none = await cli([], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: tenantry COMMAND/);
  });

  it.each([
    [['deploy'], 'Unknown command "deploy": see tenantry --help for the commands'],
    [['tenants', 'rename', 'acme'], 'Unknown command "tenants rename": use create, list, show, suspend, resume, delete, clone, export, move (see tenantry tenants --help)'],
    [['migrate', '--bogus'], 'Unknown option --bogus: see tenantry --help'],
    [['migrate', '--concurrency'], 'Option --concurrency needs a value'],
    [['migrate', '--concurrency', 'many'], '--concurrency must be a positive integer, got "many"'],
    [['migrate', '--drop-schema'], '--drop-schema is not an option of "tenantry migrate": see tenantry migrate --help'],
    [['status', 'extra'], '"tenantry status" takes no arguments, got "extra"'],
    [['tenants', 'move', 'acme', '--strategy', 'database'], '--strategy must be schema or rls, got "database"'],
    [['tenants', 'move', 'acme', '--strategy', 'schema', '--to', 'eu'], 'tenantry tenants move takes --to SERVER or --strategy schema|rls, not both'],
    [['tenants', 'move', 'acme'], 'tenantry tenants move needs --to SERVER (a name of servers in the config) or --strategy schema|rls'],
    [['migrate', '--tenant', 'Nope!'], 'Invalid tenant id "Nope!": only lower-case letters a-z, digits 0-9 and "-" are allowed (a tenant id is a DNS label: a-z, 0-9 and "-", at most 63 characters, no "-" at either end)'],
  ])('%j exits 2 with one line', async (args, message) => {
    const result = await cli(args, { cwd: await workspace(), databaseUrl: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tenantry: ${message}\n`);
    expect(result.stdout).toBe('');
  });
});

describe('tenantry configuration and database errors', () => {
  it('says to set DATABASE_URL when there is no config file and no database URL', async () => {
    const result = await cli(['migrate'], { cwd: await workspace() });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'tenantry: No database and no config file: set DATABASE_URL, pass --database-url, or run tenantry init to write tenantry.config.ts\n',
    );
  });

  it('names the host and port it cannot reach, without a stack trace or the password', async () => {
    const port = await closedPort();
    const url = `postgres://app:s3cret@127.0.0.1:${port}/app`;
    const message = `tenantry: Cannot reach PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED): start the server, or set DATABASE_URL or pass --database-url to a reachable database\n`;
    const viaFlag = await cli(['tenants', 'list', '--database-url', url], { cwd: await workspace() });
    expect(viaFlag.code).toBe(2);
    expect(viaFlag.stderr).toBe(message);
    const viaEnv = await cli(['status'], { cwd: await workspace(), databaseUrl: url });
    expect(viaEnv.stderr).toBe(message);
    expect(isOneLineError(viaEnv)).toBe(true);

    const verbose = await cli(['status', '--verbose'], { cwd: await workspace(), databaseUrl: url });
    expect(verbose.code).toBe(2);
    expect(verbose.stderr.startsWith(`tenantry: config (none); database 127.0.0.1:${port}\n${message}`)).toBe(true);
    expect(verbose.stderr).toMatch(/\n\s+at /);
    expect(verbose.stderr).not.toContain('s3cret');

    const asJson = await cli(['status', '--json'], { cwd: await workspace(), databaseUrl: url });
    expect(json(asJson)).toEqual({ error: { code: 'ECONNREFUSED', message: message.slice('tenantry: '.length, -1) } });
  });

  it('says which database does not exist', async () => {
    const url = new URL(db.url);
    url.pathname = '/tenantry_no_such_db';
    const result = await cli(['status'], { cwd: await workspace(), databaseUrl: url.toString() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^tenantry: Database "tenantry_no_such_db" does not exist on PostgreSQL at .+: create it, or set DATABASE_URL or pass --database-url to one that exists\n$/);
  });

  it('says the server does not accept SSL when the URL asks for it (exit 2)', async ({ skip }) => {
    const { rows } = await db.pool.query<{ ssl: string }>('SHOW ssl');
    if (rows[0]?.ssl === 'on') skip('this server accepts SSL');
    const url = new URL(db.url);
    url.searchParams.set('sslmode', 'require');
    const result = await cli(['status'], { cwd: await workspace(), databaseUrl: url.toString() });
    expect(result.code).toBe(2);
    // node-postgres prints its own warning about sslmode=require; the command's line is the last one.
    expect(result.stderr).toMatch(
      /(^|\n)tenantry: PostgreSQL at .+ does not accept SSL connections: connect without SSL \(remove sslmode=require from the database URL, or ssl from poolOptions\), or enable ssl on the server\n$/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const asJson = await cli(['status', '--json'], { cwd: await workspace(), databaseUrl: url.toString() });
    expect(asJson.code).toBe(2);
    expect(json<{ error: { code: string } }>(asJson).error.code).toBe('ENOSSL');
  });

  it('says to run the shared migrations first when the registry is missing', async () => {
    const { flags, sharedSchema } = names('noreg');
    const result = await cli(['tenants', 'list', ...flags], { cwd: await workspace(), databaseUrl: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`tenantry: The tenant registry is not set up in schema "${sharedSchema}": run tenantry migrate --shared first\n`);
  });

  it('reports a missing migrations folder as configuration (exit 2)', async () => {
    const result = await cli(['migrate', '--tenant-migrations', 'nowhere', ...names('nofolder').flags], { cwd: await workspace(), databaseUrl: db.url });
    expect(result.code).toBe(2);
    expect(isOneLineError(result)).toBe(true);
    expect(result.stderr).toMatch(/^tenantry: Cannot read the migrations folder ".*nowhere": ENOENT/);
  });
});
