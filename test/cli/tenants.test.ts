import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { canUseTerminal, cli, isOneLineError, json, lines, names, schemaExists, tableExists, workspace } from './cli-harness.js';

const db = useTestDatabase();
const schemas = names('ten');
const schemaOf = (id: string) => `${schemas.schemaPrefix}${id.replaceAll('-', '_')}`;
let cwd: string;

const run = (...args: string[]) => cli([...args, '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url });

beforeAll(async () => {
  cwd = await workspace({ 'migrations/tenant/001_items.sql': 'CREATE TABLE items (id int);' });
  expect((await run('migrate')).code).toBe(0);
});

interface TenantJson {
  id: string;
  name: string;
  schema: string;
  status: string;
  metadata: Record<string, unknown>;
  migrationVersion: string | null;
  domains?: { domain: string; primary: boolean }[];
}

describe('tenantry tenants', () => {
  it('creates a tenant with its schema, name, domains and metadata, and shows it', async () => {
    const created = await run('tenants', 'create', 'acme', '--name', 'Acme Inc.', '--domain', 'acme.example.com', '--domain', 'Shop.Acme.com', '--metadata', '{"plan":"pro"}');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe(`Created tenant acme (schema "${schemaOf('acme')}", migrated to 001_items)\n`);
    expect(await tableExists(db.pool, schemaOf('acme'), 'items')).toBe(true);

    const shown = await run('tenants', 'show', 'acme');
    expect(lines(shown.stdout).map((line) => line.trim().split(/\s{2,}/))).toEqual([
      ['id', 'acme'],
      ['name', 'Acme Inc.'],
      ['status', 'active'],
      ['schema', schemaOf('acme')],
      ['placement', 'default'],
      ['version', '001_items'],
      ['domains', 'acme.example.com (primary), shop.acme.com'],
      ['metadata', '{"plan":"pro"}'],
      ['created', expect.stringMatching(/^\d{4}-\d\d-\d\dT/)],
      ['updated', expect.stringMatching(/^\d{4}-\d\d-\d\dT/)],
    ]);
    const asJson = json<TenantJson>(await run('tenants', 'show', 'acme', '--json'));
    expect(asJson).toMatchObject({
      id: 'acme',
      name: 'Acme Inc.',
      schema: schemaOf('acme'),
      status: 'active',
      metadata: { plan: 'pro' },
      migrationVersion: '001_items',
      domains: [
        { domain: 'acme.example.com', tenantId: 'acme', primary: true },
        { domain: 'shop.acme.com', tenantId: 'acme', primary: false },
      ],
    });

    const again = await run('tenants', 'create', 'acme');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('tenantry: Tenant "acme" already exists\n');
  });

  it('lists every tenant (all pages), filtered by status; suspends and resumes', async () => {
    for (const id of ['lb', 'la', 'lc']) expect((await run('tenants', 'create', id, '--json')).code).toBe(0);
    const suspended = await run('tenants', 'suspend', 'lb');
    expect(suspended.stdout).toBe('Tenant lb is suspended\n');

    const all = json<TenantJson[]>(await run('tenants', 'list', '--json'));
    expect(all.map((tenant) => tenant.id)).toEqual(expect.arrayContaining(['la', 'lb', 'lc']));
    expect(all.map((tenant) => tenant.id)).toEqual([...all.map((tenant) => tenant.id)].sort());
    const onlySuspended = await run('tenants', 'list', '--status', 'suspended');
    expect(lines(onlySuspended.stdout)).toEqual([
      `  ID  STATUS     ${'SCHEMA'.padEnd(schemaOf('lb').length)}  VERSION    NAME`,
      `  lb  suspended  ${schemaOf('lb')}  001_items  lb`,
      '1 tenant',
    ]);

    const resumed = json<TenantJson>(await run('tenants', 'resume', 'lb', '--json'));
    expect(resumed.status).toBe('active');
    expect((await run('tenants', 'list', '--status', 'suspended')).stdout).toBe('No suspended tenants\n');

    const bad = await run('tenants', 'list', '--status', 'paused');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('tenantry: --status must be active, suspended or moving, got "paused"\n');
  });

  it('deletes a tenant and keeps its schema, or drops it with --drop-schema --yes', async () => {
    await run('tenants', 'create', 'keep');
    await run('tenants', 'create', 'drop');
    const kept = await run('tenants', 'delete', 'keep');
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toBe(`Deleted tenant keep; schema "${schemaOf('keep')}" was kept (pass --drop-schema to drop it)\n`);
    expect(await schemaExists(db.pool, schemaOf('keep'))).toBe(true);

    const dropped = await run('tenants', 'delete', 'drop', '--drop-schema', '--yes', '--json');
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(json(dropped)).toEqual({ deleted: 'drop', schema: schemaOf('drop'), schemaDropped: true });
    expect(await schemaExists(db.pool, schemaOf('drop'))).toBe(false);

    const gone = await run('tenants', 'show', 'drop');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe('tenantry: Unknown tenant "drop": tenantry tenants list shows the registered tenants\n');
  });

  it('refuses --drop-schema without --yes when there is no terminal (exit 2), and changes nothing', async () => {
    await run('tenants', 'create', 'safe');
    const refused = await run('tenants', 'delete', 'safe', '--drop-schema');
    expect(refused.code).toBe(2);
    expect(isOneLineError(refused)).toBe(true);
    expect(refused.stderr).toBe(
      `tenantry: Refusing to drop schema "${schemaOf('safe')}" of tenant safe without confirmation: pass --yes (there is no terminal to ask on)\n`,
    );
    expect(await schemaExists(db.pool, schemaOf('safe'))).toBe(true);
    expect((await run('tenants', 'show', 'safe')).code).toBe(0);
  });

  it.skipIf(!canUseTerminal())('on a terminal, --drop-schema asks to type the tenant id', async () => {
    await run('tenants', 'create', 'tty-a');
    await run('tenants', 'create', 'tty-b');
    const onTerminal = async (id: string, answer: string) => {
      const result = await cli(['tenants', 'delete', id, '--drop-schema', ...schemas.flags], { cwd, databaseUrl: db.url, input: `${answer}\n`, terminal: true });
      return result.stdout.replace(/\r/g, '');
    };
    const wrong = await onTerminal('tty-a', 'tty-b');
    expect(wrong).toContain(`drops schema "${schemaOf('tty-a')}" with all its data. Type the tenant id (tty-a) to confirm:`);
    expect(wrong).toContain(`tenantry: Not confirmed: tenant tty-a and schema "${schemaOf('tty-a')}" were left as they are`);
    expect(await schemaExists(db.pool, schemaOf('tty-a'))).toBe(true);

    const right = await onTerminal('tty-b', 'tty-b');
    expect(right).toContain(`Deleted tenant tty-b and dropped schema "${schemaOf('tty-b')}"`);
    expect(await schemaExists(db.pool, schemaOf('tty-b'))).toBe(false);
  });

  it('refuses invalid ids, bad metadata and a wrong number of arguments with exit 2', async () => {
    const invalid = await run('tenants', 'create', 'Acme_Corp');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe(
      'tenantry: Invalid tenant id "Acme_Corp": only lower-case letters a-z, digits 0-9 and "-" are allowed (a tenant id is a DNS label: a-z, 0-9 and "-", at most 63 characters, no "-" at either end)\n',
    );
    const metadata = await run('tenants', 'create', 'meta', '--metadata', '[1]');
    expect(metadata.code).toBe(2);
    expect(metadata.stderr).toBe(`tenantry: --metadata must be a JSON object, e.g. '{"plan":"pro"}', got an array\n`);
    const missing = await run('tenants', 'show');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('tenantry: "tenantry tenants show" needs ID: tenantry tenants show ID\n');
    expect((await run('tenants', 'show', 'meta')).code).toBe(2);
  });
});
