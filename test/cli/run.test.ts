/**
 * `tenantry run FILE`: a SQL file (one transaction per tenant) or a module over the tenants, each
 * in its own scope; failures listed with exit code 1; bad input refused as a usage error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { cli, isOneLineError, json, names, workspace } from './cli-harness.js';

const db = useTestDatabase();
const schemas = names('run');
const schemaOf = (id: string) => `${schemas.schemaPrefix}${id.replaceAll('-', '_')}`;
let cwd: string;

const run = (...args: string[]) => cli([...args, '--tenant-migrations', 'migrations/tenant', ...schemas.flags], { cwd, databaseUrl: db.url });

beforeAll(async () => {
  cwd = await workspace({
    'migrations/tenant/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL);',
    'scripts/mark.sql': "INSERT INTO items (owner) VALUES (current_schema()); INSERT INTO items (owner) VALUES ('second');",
    'scripts/half.sql': "INSERT INTO items (owner) VALUES ('half'); SELECT 1 / (SELECT count(*) - 2 FROM items WHERE owner <> 'half');",
    'scripts/count.ts': [
      "import type { Tenant } from '../../../src/index.js';",
      'export default async (tenant: Tenant, { db }: { db: { query(text: string): Promise<{ rows: { n: number; owners: string[] }[] }> } }) => {',
      "  const { rows } = await db.query('select count(*)::int as n, array_agg(distinct owner order by owner) as owners from items');",
      '  return { id: tenant.id, ...rows[0] };',
      '};',
    ].join('\n'),
    'scripts/not-a-function.mjs': 'export default 42;',
    'scripts/notes.txt': 'hello',
  });
  expect((await run('migrate')).code).toBe(0);
  for (const id of ['acme', 'globex', 'initech']) expect((await run('tenants', 'create', id)).code).toBe(0);
  expect((await run('tenants', 'suspend', 'initech')).code).toBe(0);
});

describe('tenantry run', () => {
  it("runs a SQL file in each active tenant's schema, and a module that reads each tenant's rows", async () => {
    const ran = await run('run', 'scripts/mark.sql', '--concurrency', '2');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/over 2 tenants: 2 done, 0 failed/);

    const counted = json<{ results: { tenantId: string; value: { id: string; n: number; owners: string[] } }[]; failures: unknown[] }>(
      await run('run', 'scripts/count.ts', '--json'),
    );
    expect(counted.failures).toEqual([]);
    expect(counted.results.map((r) => r.value).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'acme', n: 2, owners: [schemaOf('acme'), 'second'].sort() },
      { id: 'globex', n: 2, owners: [schemaOf('globex'), 'second'].sort() },
    ]);
  });

  it('rolls back a tenant whose SQL fails half-way, lists it, exits 1, and runs the others', async () => {
    await db.pool.query(`INSERT INTO "${schemaOf('globex')}".items (owner) VALUES ('extra')`);
    const ran = await run('run', 'scripts/half.sql');
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/acme: FAILED: .*division by zero/);
    expect(ran.stdout).toMatch(/globex: done/);
    const half = async (id: string) => (await db.pool.query(`SELECT count(*)::int AS n FROM "${schemaOf(id)}".items WHERE owner = 'half'`)).rows[0].n;
    expect(await half('acme')).toBe(0);
    expect(await half('globex')).toBe(1);
  });

  it('runs only the tenants named with --tenant, and refuses an unknown one', async () => {
    const only = json<{ results: { tenantId: string }[] }>(await run('run', 'scripts/count.ts', '--tenant', 'globex', '--json'));
    expect(only.results.map((r) => r.tenantId)).toEqual(['globex']);
    const unknown = await run('run', 'scripts/count.ts', '--tenant', 'nobody');
    expect(unknown.code).not.toBe(0);
    expect(isOneLineError(unknown)).toBe(true);
    expect(unknown.stderr).toMatch(/nobody/);
  });

  it('refuses a file of another kind, a module without a default function, and a bad concurrency', async () => {
    for (const args of [['scripts/notes.txt'], ['scripts/not-a-function.mjs'], ['scripts/mark.sql', '--concurrency', '0'], ['scripts/mark.sql', '--tenant', 'Bad Id']]) {
      const refused = await run('run', ...args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(isOneLineError(refused), refused.stderr).toBe(true);
    }
  });
});
