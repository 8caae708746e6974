import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { type PgBouncer, pgbouncerBinary, startPgBouncer } from '../helpers/pgbouncer.js';
import { cli, json, names, workspace } from './cli-harness.js';

const db = useTestDatabase();

interface DoctorReport {
  ok: boolean;
  findings: { check: string; severity: 'ok' | 'info' | 'warn' | 'error'; message: string; fix?: string }[];
}

const ITEMS = { 'migrations/tenant/001_items.sql': 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL); CREATE INDEX items_name_idx ON items (name);' };

/** A login role that is not a superuser, allowed to create schemas in the test database: the app's role. */
let appUrl: string;
beforeAll(async () => {
  const role = `${db.rolePrefix}app`;
  const url = new URL(db.url);
  await db.pool.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'app-password'`);
  await db.pool.query(`GRANT CREATE ON DATABASE "${url.pathname.slice(1)}" TO "${role}"`);
  url.username = role;
  url.password = 'app-password'; // embedded PostgreSQL checks passwords; the machine's server trusts
  appUrl = url.toString();
});

/** A deployment owned by the app's role: shared migrations applied and `ids` created. */
async function deployment(label: string, ids: readonly string[], setup = true) {
  const cwd = await workspace(ITEMS);
  const schemas = names(label);
  const pool = new pg.Pool({ connectionString: appUrl, max: 2 });
  try {
    const tenancy = createTenancy({ pool, ...schemas, migrations: { tenant: join(cwd, 'migrations/tenant') } });
    if (setup) await tenancy.migrate.shared();
    for (const id of ids) await tenancy.registry.create({ id });
  } finally {
    await pool.end();
  }
  const flags = ['--tenant-migrations', 'migrations/tenant', ...schemas.flags];
  const doctor = async (url = appUrl) => {
    const result = await cli(['doctor', '--json', ...flags], { cwd, databaseUrl: url });
    return { code: result.code, report: json<DoctorReport>(result), stderr: result.stderr };
  };
  return { cwd, doctor, sharedSchema: schemas.sharedSchema, schemaOf: (id: string) => `${schemas.schemaPrefix}${id}` };
}

const problems = (report: DoctorReport) => report.findings.filter((f) => f.severity === 'warn' || f.severity === 'error');

describe('tenantry doctor', () => {
  it('exits 0 on a healthy deployment, after a leak probe over two tenants', async () => {
    const d = await deployment('healthy', ['acme', 'globex']);
    const { code, report, stderr } = await d.doctor();
    expect(problems(report), stderr).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const checks = report.findings.map((f) => f.check);
    for (const check of ['server', 'pooler', 'login role', 'registry', 'tenant migrations', 'drift', 'shared names', 'schemas', 'relations', 'leak probe']) expect(checks).toContain(check);
    expect(report.findings.find((f) => f.check === 'server')?.message).toMatch(/^PostgreSQL \d+/);
    expect(report.findings.find((f) => f.check === 'pooler')).toMatchObject({ severity: 'ok', message: 'No transaction pooler: session mode fits' });
    expect(report.findings.find((f) => f.check === 'leak probe')).toMatchObject({ severity: 'ok', message: expect.stringContaining('tenants acme and globex') });
  });

  it('probes with two temporary tenants when there are fewer than two, and deletes them', async () => {
    const d = await deployment('temp', ['solo']);
    const { code, report } = await d.doctor();
    expect(code).toBe(0);
    expect(report.findings.find((f) => f.check === 'leak probe')?.message).toContain('two temporary tenants (deleted again)');
    const { rows } = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${d.schemaOf('doctor')}%`]);
    expect(rows).toEqual([]);
  });

  it('warns about a superuser login (exit 1)', async () => {
    const d = await deployment('super', ['acme', 'globex']);
    const { code, report } = await d.doctor(db.url);
    expect(code).toBe(1);
    expect(problems(report)).toEqual([
      { check: 'login role', severity: 'warn', message: 'The app connects as "postgres", a superuser', fix: expect.stringContaining('docs/security.md') },
    ]);
  });

  it('reports a missing registry with its fix (exit 1)', async () => {
    const d = await deployment('noreg', [], false);
    const { code, report } = await d.doctor();
    expect(code).toBe(1);
    expect(problems(report)).toEqual([{ check: 'registry', severity: 'error', message: expect.any(String), fix: 'run tenantry migrate --shared' }]);
  });

  it('reports a tenant whose schema drifted (exit 1)', async () => {
    const d = await deployment('drift', ['acme', 'globex']);
    const owner = new pg.Client({ connectionString: appUrl });
    await owner.connect();
    await owner.query(`DROP INDEX "${d.schemaOf('globex')}".items_name_idx`);
    await owner.end();
    const { code, report } = await d.doctor();
    expect(code).toBe(1);
    expect(problems(report)).toEqual([
      {
        check: 'drift',
        severity: 'error',
        message: '1 tenant schema differs from the migrations: globex (globex: missing index items_name_idx)',
        fix: expect.stringContaining('tenantry status --drift'),
      },
    ]);
  });

  it('warns about a shared table with the name of a tenant table (exit 1)', async () => {
    const d = await deployment('names', ['acme', 'globex']);
    const owner = new pg.Client({ connectionString: appUrl });
    await owner.connect();
    await owner.query(`CREATE TABLE "${d.sharedSchema}".items (id int)`);
    await owner.end();
    const { code, report } = await d.doctor();
    expect(code).toBe(1);
    expect(problems(report)).toEqual([
      {
        check: 'shared names',
        severity: 'warn',
        message: expect.stringContaining(`Tenant schemas use names of tables in schema "${d.sharedSchema}": items (2 tenants)`),
        fix: expect.stringContaining('rename'),
      },
    ]);
  });

  it('reports tenants behind on migrations, not as drift (exit 1)', async () => {
    const d = await deployment('behind', ['acme', 'globex']);
    await writeFile(join(d.cwd, 'migrations/tenant/002_sku.sql'), 'ALTER TABLE items ADD COLUMN sku text;');
    const { code, report } = await d.doctor();
    expect(code).toBe(1);
    expect(problems(report)).toEqual([
      { check: 'tenant migrations', severity: 'warn', message: '2 tenants have tenant migrations to apply (acme, globex)', fix: 'run tenancy.migrate.tenants() (or tenantry migrate --tenants)' },
    ]);
  });

  it.skipIf(pgbouncerBinary() === undefined)('reports session-mode tenantPool behind PgBouncer in transaction mode (exit 1)', async () => {
    const d = await deployment('bouncer', ['acme', 'globex']);
    const bouncer = (await startPgBouncer(appUrl, { poolMode: 'transaction', poolSize: 2 })) as PgBouncer;
    try {
      const { code, report } = await d.doctor(bouncer.url);
      expect(code).toBe(1);
      expect(report.findings.find((f) => f.check === 'pooler')).toMatchObject({ severity: 'error', fix: expect.stringContaining("mode: 'transaction'") });
    } finally {
      await bouncer.stop();
    }
  });
});
