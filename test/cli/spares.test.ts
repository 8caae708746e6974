import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { canUseTerminal, cli, json, lines, names, schemaExists, workspace } from './cli-harness.js';

const db = useTestDatabase();
const schemas = names('spr');
let cwd: string;

const run = (...args: string[]) => cli([...args, ...schemas.flags], { cwd, databaseUrl: db.url });

interface StatusJson {
  count: number;
  ready: number;
  behind: number;
  spares: { schema: string; upToDate: boolean; migrationVersion: string | null }[];
}

beforeAll(async () => {
  cwd = await workspace({
    'tenantry.config.mjs': "export default { migrations: { tenant: './migrations/tenant' }, spares: { count: 2 } };\n",
    'migrations/tenant/001_items.sql': 'CREATE TABLE items (id int);',
  });
  const migrated = await run('migrate');
  expect(migrated.code, migrated.stderr).toBe(0);
});

describe('tenantry spares', () => {
  it('fills, shows, is claimed by tenants create, and clears', async () => {
    const filled = await run('spares', 'fill');
    expect(filled.code, filled.stderr).toBe(0);
    expect(filled.stdout).toBe('Spares: 2 provisioned; 2 ready\n');

    const status = json<StatusJson>(await run('spares', 'status', '--json'));
    expect(status).toMatchObject({ count: 2, ready: 2, behind: 0 });
    expect(status.spares.map((spare) => [spare.upToDate, spare.migrationVersion])).toEqual([
      [true, '001_items'],
      [true, '001_items'],
    ]);
    for (const spare of status.spares) {
      expect(spare.schema.startsWith(`${schemas.schemaPrefix}_spare_`)).toBe(true);
      expect(await schemaExists(db.pool, spare.schema)).toBe(true);
    }
    const shown = await run('spares', 'status');
    expect(lines(shown.stdout)[0]).toBe('Spares: 2 of 2 ready');
    expect(lines(shown.stdout)).toHaveLength(3);

    // The command waits for the background refill before it ends: the pool is full again.
    const created = await run('tenants', 'create', 'acme');
    expect(created.code, created.stderr).toBe(0);
    const after = json<StatusJson>(await run('spares', 'status', '--json'));
    expect(after.ready).toBe(2);
    expect(after.spares.map((spare) => spare.schema)).not.toContain(status.spares[0]!.schema);
    expect(await schemaExists(db.pool, status.spares[0]!.schema)).toBe(false);
    expect(await schemaExists(db.pool, `${schemas.schemaPrefix}acme`)).toBe(true);

    const filling = await run('spares', 'fill', '--count', '3', '--json');
    const more = json<{ created: string[]; ready: number }>(filling);
    expect(more.created).toHaveLength(1);
    // --json: one JSON line on stderr per spare provisioned.
    expect(lines(filling.stderr).map((line) => JSON.parse(line) as { event: string; done: number; total: number; spare: string })).toEqual([
      expect.objectContaining({ event: 'spare', done: 1, total: 1, spare: more.created[0] }),
    ]);
    expect(more.ready).toBe(3);

    const cleared = await run('spares', 'clear');
    expect(cleared.stdout).toBe('Dropped 3 spares\n');
    expect(json<StatusJson>(await run('spares', 'status', '--json'))).toMatchObject({ ready: 0, spares: [] });
  });

  it('refuses an unknown action, --count off fill, and spares not configured, with exit code 2', async () => {
    const unknown = await run('spares', 'drain');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('tenantry: "tenantry spares" takes fill, status or clear, got "drain"\n');
    expect((await run('spares', 'clear', '--count', '2')).code).toBe(2);
    expect((await run('spares', 'fill', '--count', 'many')).code).toBe(2);
    const bare = await workspace({ 'tenantry.config.mjs': 'export default {};\n' });
    const off = await cli(['spares', 'status', ...schemas.flags], { cwd: bare, databaseUrl: db.url });
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('Spares are off');
  });
});

describe('spares fill on a terminal', () => {
  it.skipIf(!canUseTerminal())('shows a progress bar with the count, the rate and the ETA', async () => {
    const result = await cli(['spares', 'fill', '--count', '4', ...schemas.flags], { cwd, databaseUrl: db.url, terminal: true });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/Provisioning spares \[#+\] 4\/4 \| [\d.]+ spares\/s \| ETA/);
    expect((await run('spares', 'clear')).code).toBe(0);
  });
});
