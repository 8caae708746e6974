import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { cli, closedPort, isOneLineError, json, names, recorded, tableExists, workspace } from './cli-harness.js';

const db = useTestDatabase();

const MIGRATIONS = {
  'db/shared/001_plans.sql': 'CREATE TABLE plans (id text PRIMARY KEY);',
  'db/tenant/001_items.sql': 'CREATE TABLE items (id int);',
};

describe('the config file', () => {
  it('loads tenantry.config.ts through jiti (types, an async function), with folders relative to the file', async () => {
    const { sharedSchema, schemaPrefix } = names('tscfg');
    const cwd = await workspace({
      ...MIGRATIONS,
      'tenantry.config.ts': `
interface Settings { readonly url: string | undefined; readonly shared: string }
const settings: Settings = { url: process.env.APP_DB, shared: ${JSON.stringify(sharedSchema)} };
type Config = { connectionString?: string; sharedSchema: string; schemaPrefix: string; migrations: { shared: string; tenant: string } };
export default async (): Promise<Config> => ({
  connectionString: settings.url as string,
  sharedSchema: settings.shared,
  schemaPrefix: ${JSON.stringify(schemaPrefix)},
  migrations: { shared: './db/shared', tenant: './db/tenant' },
} satisfies Config);
`,
    });
    const elsewhere = join(cwd, 'sub');
    await mkdir(elsewhere);
    const env = { APP_DB: db.url };
    const migrated = await cli(['migrate', '--config', '../tenantry.config.ts'], { cwd: elsewhere, env });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`Shared schema "${sharedSchema}": applied tenantry:0001_registry, tenantry:0002_moving_status, tenantry:0003_tenant_strategy, 001_plans`);
    const created = await cli(['tenants', 'create', 'acme', '--json'], { cwd, env });
    expect(json<{ schema: string }>(created).schema).toBe(`${schemaPrefix}acme`);
    expect(await tableExists(db.pool, `${schemaPrefix}acme`, 'items')).toBe(true);
  });

  it('loads tenantry.config.mjs; --database-url overrides its connectionString', async () => {
    const { sharedSchema } = names('mjscfg');
    const port = await closedPort();
    const cwd = await workspace({
      ...MIGRATIONS,
      'tenantry.config.mjs': `export default {
  connectionString: 'postgres://postgres@127.0.0.1:${port}/nowhere',
  sharedSchema: ${JSON.stringify(sharedSchema)},
  migrations: { shared: './db/shared', tenant: './db/tenant' },
};
`,
    });
    const unreachable = await cli(['status'], { cwd });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain(`Cannot reach PostgreSQL at 127.0.0.1:${port}`);
    const migrated = await cli(['migrate', '--database-url', db.url], { cwd });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await recorded(db.pool, sharedSchema)).toEqual(['001_plans', 'tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy']);
  });

  it('works without a config file from DATABASE_URL and the folder flags', async () => {
    const { sharedSchema, flags } = names('nocfg');
    const cwd = await workspace(MIGRATIONS);
    const result = await cli(['migrate', '--shared', '--shared-migrations', 'db/shared', ...flags, '--json'], { cwd, databaseUrl: db.url });
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toEqual({ shared: { schema: sharedSchema, applied: ['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy', '001_plans'] }, tenants: null, interrupted: false });
  });

  it('refuses a config file that does not load, exports no object, or has a sibling (exit 2, one line)', async () => {
    const broken = await cli(['status'], { cwd: await workspace({ 'tenantry.config.ts': 'export default { connectionString: ' }), databaseUrl: db.url });
    expect(broken.code).toBe(2);
    expect(isOneLineError(broken)).toBe(true);
    expect(broken.stderr).toMatch(/^tenantry: Cannot load tenantry\.config\.ts: /);

    const number = await cli(['status'], { cwd: await workspace({ 'tenantry.config.mjs': 'export default 42;' }), databaseUrl: db.url });
    expect(number.code).toBe(2);
    expect(number.stderr).toBe('tenantry: tenantry.config.mjs must default-export the configuration object (or a function returning it), got number\n');

    const two = await workspace({ 'tenantry.config.ts': 'export default {};', 'tenantry.config.mjs': 'export default {};' });
    const ambiguous = await cli(['status'], { cwd: two, databaseUrl: db.url });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toBe(`tenantry: Several config files in ${two} (tenantry.config.ts, tenantry.config.mjs): keep one, or pick one with --config\n`);

    const missing = await cli(['status', '--config', 'nope.config.ts'], { cwd: two, databaseUrl: db.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`tenantry: The config file ${join(two, 'nope.config.ts')} does not exist: check --config, or run tenantry init\n`);
  });

  it('refuses a key that is not an option, naming it and the known keys (exit 2, one line)', async () => {
    const cwd = await workspace({ 'tenantry.config.mjs': "export default async () => ({ migration: { tenant: './db/tenant' } });" });
    const result = await cli(['status'], { cwd, databaseUrl: db.url });
    expect(result.code).toBe(2);
    expect(isOneLineError(result)).toBe(true);
    expect(result.stderr).toBe(
      'tenantry: Unknown key "migration" in tenantry.config.mjs: the known keys are audit, cache, connectionString, databaseUrl, databases, migrations, pool, ' +
        'poolOptions, registry, resolver, schemaPrefix, servers, sharedSchema, spares, strategy, tenantPool, tenantRoles, tenants\n',
    );
  });

  it("refuses registry: 'memory', which would keep tenants in one process", async () => {
    const cwd = await workspace({ 'tenantry.config.mjs': "export default { registry: 'memory' };" });
    await writeFile(join(cwd, 'unused.txt'), '');
    const result = await cli(['tenants', 'list'], { cwd, databaseUrl: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("tenantry: registry: 'memory' keeps tenants in one process; the tenantry command needs the PostgreSQL registry\n");
  });
});
