import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { canUseTerminal, cli, isOneLineError, json, lines, names, recorded, tableExists, workspace } from './cli-harness.js';

const db = useTestDatabase();

const SHARED = { 'migrations/shared/001_plans.sql': 'CREATE TABLE plans (id text PRIMARY KEY);' };
const ITEMS = { 'migrations/tenant/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);' };

interface MigrateReport {
  shared: { schema: string; applied: string[] } | null;
  tenants: {
    total: number;
    migrated: { tenantId: string; applied: string[] }[];
    failed: { tenantId: string; migration: string | null; code: string; message: string }[];
    retried: string[];
    notStarted: string[];
  } | null;
  interrupted: boolean;
}

/** A working folder with shared and tenant migrations, and the flags that point the command at it. */
async function project(label: string, files: Readonly<Record<string, string>> = { ...SHARED, ...ITEMS }) {
  const cwd = await workspace(files);
  const schemas = names(label);
  const flags = ['--shared-migrations', 'migrations/shared', '--tenant-migrations', 'migrations/tenant', ...schemas.flags];
  const run = (...args: string[]) => cli([...args, ...flags], { cwd, databaseUrl: db.url });
  const schemaOf = (id: string) => `${schemas.schemaPrefix}${id}`;
  /** Set-up through the library, faster than a process per step: shared migrations, then these tenants. */
  const setup = async (ids: readonly string[]) => {
    const tenancy = createTenancy({
      pool: db.pool,
      sharedSchema: schemas.sharedSchema,
      schemaPrefix: schemas.schemaPrefix,
      migrations: { shared: join(cwd, 'migrations/shared'), tenant: join(cwd, 'migrations/tenant') },
    });
    await tenancy.migrate.shared();
    for (const id of ids) await tenancy.registry.create({ id });
    return tenancy;
  };
  return { cwd, run, schemaOf, setup, ...schemas };
}

describe('tenantry migrate', () => {
  it('migrates the shared schema then every tenant; a re-run applies nothing', async () => {
    const p = await project('mig');
    const first = await p.run('migrate');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`Shared schema "${p.sharedSchema}": applied tenantry:0001_registry, tenantry:0002_moving_status, tenantry:0003_tenant_strategy, 001_plans`);
    expect(first.stdout).toContain('Tenants: nothing to apply');
    expect(await tableExists(db.pool, p.sharedSchema, 'plans')).toBe(true);

    for (const id of ['acme', 'globex']) expect((await p.run('tenants', 'create', id)).code).toBe(0);
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    const second = await p.run('migrate', '--concurrency', '1');
    expect(second.code, second.stderr).toBe(0);
    expect(lines(second.stdout)).toEqual([
      `Shared schema "${p.sharedSchema}": nothing to apply`,
      '[1/2] acme: applied 002_sku',
      '[2/2] globex: applied 002_sku',
      'Tenants: 2 migrated, 0 failed (of 2)',
    ]);
    expect(await recorded(db.pool, p.schemaOf('globex'))).toEqual(['001_items', '002_sku']);

    const again = await p.run('migrate', '--json');
    expect(again.code).toBe(0);
    expect(json<MigrateReport>(again)).toEqual({
      shared: { schema: p.sharedSchema, applied: [] },
      tenants: { total: 0, migrated: [], failed: [], retried: [], notStarted: [] },
      interrupted: false,
    });
  });

  it('applies TypeScript migrations on the Node.js it runs on, with no loader (type annotations and an interface)', async () => {
    const p = await project('mts', {
      ...SHARED,
      ...ITEMS,
      'migrations/tenant/002_seed.ts': [
        "interface Client { query(text: string, values?: unknown[]): Promise<unknown> }",
        "const names: readonly string[] = ['bolt', 'nut'];",
        'export async function up(client: Client): Promise<void> {',
        "  for (const name of names) await client.query('INSERT INTO items (name) VALUES ($1)', [name satisfies string]);",
        '}',
      ].join('\n'),
    });
    expect((await p.run('migrate')).code).toBe(0);
    const created = await p.run('tenants', 'create', 'acme');
    expect(created.code, created.stderr).toBe(0);
    expect(await recorded(db.pool, p.schemaOf('acme'))).toEqual(['001_items', '002_seed']);
    const { rows } = await db.pool.query(`SELECT name FROM "${p.schemaOf('acme')}".items ORDER BY name`);
    expect(rows).toEqual([{ name: 'bolt' }, { name: 'nut' }]);
  });

  it('--dry-run lists what would be applied per schema and applies nothing', async () => {
    const p = await project('dry');
    await p.setup(['acme', 'globex']);
    await writeFile(join(p.cwd, 'migrations/shared/002_features.sql'), 'CREATE TABLE features (id int);');
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    await writeFile(join(p.cwd, 'migrations/tenant/003_notes.sql'), 'CREATE TABLE notes (id int);');

    const human = await p.run('migrate', '--dry-run');
    expect(human.code, human.stderr).toBe(0);
    expect(lines(human.stdout)).toEqual([
      'Dry run: nothing is applied.',
      `Shared schema "${p.sharedSchema}": would apply 002_features`,
      'Tenants (2):',
      '  acme    would apply 002_sku, 003_notes',
      '  globex  would apply 002_sku, 003_notes',
    ]);
    const plan = json<{ shared: { pending: string[] }; tenants: { tenantId: string; schema: string; pending: string[]; changed: string[] }[] }>(
      await p.run('migrate', '--dry-run', '--json', '--tenant', 'globex'),
    );
    expect(plan.shared).toBeNull();
    expect(plan.tenants).toEqual([{ tenantId: 'globex', schema: p.schemaOf('globex'), pending: ['002_sku', '003_notes'], changed: [] }]);

    expect(await tableExists(db.pool, p.sharedSchema, 'features')).toBe(false);
    expect(await recorded(db.pool, p.schemaOf('acme'))).toEqual(['001_items']);
    expect(await recorded(db.pool, p.schemaOf('globex'))).toEqual(['001_items']);
    // Nothing was recorded in the registry either: a real run still finds both tenants.
    const real = await p.run('migrate', '--tenants', '--json');
    expect(json<MigrateReport>(real).tenants?.migrated.map((m) => m.tenantId).sort()).toEqual(['acme', 'globex']);
  });

  it('--shared, --tenants and --tenant ID pick what is migrated', async () => {
    const p = await project('scope');
    const shared = await p.run('migrate', '--shared', '--json');
    expect(json<MigrateReport>(shared)).toMatchObject({ shared: { applied: ['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy', '001_plans'] }, tenants: null });
    await p.setup(['a1', 'b2']);
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    await writeFile(join(p.cwd, 'migrations/shared/002_features.sql'), 'CREATE TABLE features (id int);');

    const one = await p.run('migrate', '--tenant', 'b2', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(json<MigrateReport>(one)).toMatchObject({ shared: null, tenants: { total: 1, migrated: [{ tenantId: 'b2', applied: ['002_sku'] }] } });
    expect(await recorded(db.pool, p.schemaOf('a1'))).toEqual(['001_items']);
    expect(await tableExists(db.pool, p.sharedSchema, 'features')).toBe(false);

    const tenants = await p.run('migrate', '--tenants', '--json');
    expect(json<MigrateReport>(tenants)).toMatchObject({ shared: null, tenants: { total: 1, migrated: [{ tenantId: 'a1' }] } });
    expect(await tableExists(db.pool, p.sharedSchema, 'features')).toBe(false);

    const unknown = await p.run('migrate', '--tenant', 'ghost');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('tenantry: Unknown tenant "ghost": tenantry tenants list shows the registered tenants\n');
  });

  it('exits 1 and lists each failure (tenant, migration, error) when one tenant fails; the others migrate', async () => {
    const p = await project('fail');
    await p.setup(['acme', 'bad', 'globex']);
    await writeFile(
      join(p.cwd, 'migrations/tenant/002_check.sql'),
      `CREATE TABLE checked (id int);
DO $$ BEGIN IF current_schema() LIKE '%bad' THEN RAISE EXCEPTION 'no room for %', current_schema(); END IF; END $$;`,
    );
    const result = await p.run('migrate', '--concurrency', '2');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\] acme: applied 002_check\n/);
    expect(result.stdout).toMatch(/\] globex: applied 002_check\n/);
    expect(result.stdout).toMatch(new RegExp(`\\] bad: FAILED at 002_check: no room for ${p.schemaOf('bad')}`));
    expect(result.stdout).toContain('Tenants: 2 migrated, 1 failed (of 3)');
    expect(lines(result.stderr)).toEqual([
      '1 tenant failed (rolled back; fix the cause and run tenantry migrate again):',
      // The statement of the file that failed: the server gave no position, so its start.
      `  bad  002_check  no room for ${p.schemaOf('bad')} (002_check.sql, line 2, column 1)`,
    ]);
    expect(await tableExists(db.pool, p.schemaOf('bad'), 'checked')).toBe(false);
    expect(await tableExists(db.pool, p.schemaOf('globex'), 'checked')).toBe(true);

    const report = json<MigrateReport>(await p.run('migrate', '--json'));
    expect(report.tenants).toEqual({
      total: 1,
      migrated: [],
      failed: [{ tenantId: 'bad', migration: '002_check', code: 'P0001', message: `no room for ${p.schemaOf('bad')} (002_check.sql, line 2, column 1)` }],
      retried: [],
      notStarted: [],
    });
  });

  it.skipIf(!canUseTerminal())('shows a progress bar with counts, rate and failures on a terminal', async () => {
    const p = await project('bar');
    await p.setup(['a1', 'a2', 'bad']);
    await writeFile(join(p.cwd, 'migrations/tenant/002_check.sql'), `DO $$ BEGIN IF current_schema() LIKE '%bad' THEN RAISE EXCEPTION 'nope'; END IF; END $$;`);
    const result = await cli(['migrate', '--tenants', '--shared-migrations', 'migrations/shared', '--tenant-migrations', 'migrations/tenant', ...p.flags], {
      cwd: p.cwd,
      databaseUrl: db.url,
      terminal: true,
    });
    const screen = result.stdout.replace(/\r/g, '');
    expect(result.code).toBe(1);
    expect(screen).toMatch(/Migrating tenants \[#+\] 3\/3 \| \d+\.\d tenants\/s \| 1 failed \| ETA/);
    expect(screen).not.toContain('[1/3]');
    expect(screen).toContain('  bad  002_check  nope');
  });

  it('says to restore an edited migration or pass --allow-changed', async () => {
    const p = await project('edit');
    await p.setup(['acme']);
    await writeFile(join(p.cwd, 'migrations/tenant/001_items.sql'), 'CREATE TABLE items (id serial PRIMARY KEY, name text); -- edited');
    const tenants = await p.run('migrate');
    expect(tenants.code).toBe(1);
    expect(tenants.stderr).toContain(
      `acme  001_items  Migration "001_items" was edited after it was applied to schema "${p.schemaOf('acme')}": restore the original file (put the change in a new migration), or re-run with --allow-changed to accept the edit`,
    );
    const accepted = await p.run('migrate', '--allow-changed');
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain('[1/1] acme: nothing to apply');
    // The summary agrees with the line above: no tenant had anything applied.
    expect(accepted.stdout).toContain('Tenants: 0 migrated, 1 up to date, 0 failed (of 1)');

    await writeFile(join(p.cwd, 'migrations/shared/001_plans.sql'), 'CREATE TABLE plans (id text PRIMARY KEY); -- edited');
    const shared = await p.run('migrate');
    expect(shared.code).toBe(1);
    expect(isOneLineError(shared)).toBe(true);
    expect(shared.stderr).toBe(
      `tenantry: Migration "001_plans" was edited after it was applied to schema "${p.sharedSchema}": restore the original file (put the change in a new migration), or re-run with --allow-changed to accept the edit\n`,
    );
    expect((await p.run('migrate', '--shared', '--allow-changed')).code).toBe(0);
  });
});

describe('tenantry status', () => {
  it("shows the shared schema's and each tenant's applied and pending migrations", async () => {
    const p = await project('st');
    const before = await p.run('status');
    expect(before.code, before.stderr).toBe(0);
    expect(lines(before.stdout)).toEqual([
      `Shared schema "${p.sharedSchema}": 0 applied, 4 pending: tenantry:0001_registry, tenantry:0002_moving_status, tenantry:0003_tenant_strategy, 001_plans`,
      'Tenants: none (the registry tables do not exist yet; run tenantry migrate)',
    ]);
    const tenancy = await p.setup(['acme', 'globex']);
    await tenancy.registry.suspend('globex');
    await writeFile(join(p.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    await p.run('migrate', '--tenant', 'acme');

    const human = await p.run('status');
    expect(lines(human.stdout)).toEqual([
      `Shared schema "${p.sharedSchema}": 4 applied, up to date`,
      'Tenants: 2, 1 with pending migrations',
      '  acme    active     2 applied  up to date',
      '  globex  suspended  1 applied  1 pending: 002_sku',
    ]);
    const report = json<{ shared: unknown; tenants: unknown[] }>(await p.run('status', '--json', '--tenant', 'globex'));
    expect(report).toEqual({
      shared: { schema: p.sharedSchema, applied: ['001_plans', 'tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy'], pending: [], changed: [] },
      tenants: [
        {
          tenantId: 'globex',
          schema: p.schemaOf('globex'),
          status: 'suspended',
          migrationVersion: '001_items',
          applied: ['001_items'],
          pending: ['002_sku'],
          changed: [],
        },
      ],
    });
  });
});
