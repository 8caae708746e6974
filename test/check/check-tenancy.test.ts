/**
 * `tenancy.check()`: the start-up check. It throws when the app cannot work (no database, no
 * registry) and warns about what can wait (migrations not applied yet).
 */
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createTenancy,
  DatabaseUnavailableError,
  type Migration,
  PostgresRegistry,
  RegistryNotMigratedError,
  type Tenancy,
  type TenancyCheckReport,
  type TenancyOptions,
} from '../../src/index.js';
import { freePort } from '../../src/testing/index.js';
import { serverUrl, useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase();
const pools: pg.Pool[] = [];
const tenancies: Tenancy[] = [];

afterEach(async () => {
  await Promise.all(tenancies.splice(0).map((tenancy) => tenancy.close()));
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

const migration = (name: string, sql: string): Migration => ({ name, checksum: name, up: (client) => client.query(sql) });
const products = migration('001_products', 'CREATE TABLE products (id serial PRIMARY KEY)');
const sku = migration('002_sku', 'ALTER TABLE products ADD COLUMN sku text');
const plans = migration('001_plans', 'CREATE TABLE plans (id text PRIMARY KEY)');
const prices = migration('002_prices', 'CREATE TABLE prices (id text PRIMARY KEY)');

let counter = 0;
const nextSchema = (): string => `check_${(counter += 1)}`;

function tenancyOn(sharedSchema: string, options: Partial<TenancyOptions> = {}): Tenancy {
  const tenancy = createTenancy({
    pool: db.pool,
    sharedSchema,
    schemaPrefix: `${sharedSchema}_`,
    migrations: { shared: [plans], tenant: [products] },
    ...options,
  });
  tenancies.push(tenancy);
  return tenancy;
}

function poolOn(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ connectionTimeoutMillis: 5_000, ...config });
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

/**
 * The report without the login role check: these tests connect as a superuser, which that check
 * always warns about (it has tests of its own below).
 */
async function checkOf(tenancy: Tenancy): Promise<TenancyCheckReport> {
  const report = await tenancy.check();
  const checks = report.checks.filter((check) => check.name !== 'login role');
  const warnings = checks.flatMap((check) => check.warnings);
  return { ok: warnings.length === 0, warnings, checks };
}

describe('tenancy.check()', () => {
  it('passes on a migrated database whose tenants are up to date', async () => {
    const tenancy = tenancyOn(nextSchema());
    await tenancy.migrate.shared();
    await tenancy.registry.create({ id: 'acme' });
    expect(await checkOf(tenancy)).toEqual({
      ok: true,
      warnings: [],
      checks: [
        { name: 'database', status: 'passed', warnings: [] },
        { name: 'registry', status: 'passed', warnings: [] },
        { name: 'shared migrations', status: 'passed', warnings: [] },
        { name: 'tenant migrations', status: 'passed', warnings: [] },
      ],
    });
  });

  it('warns, without throwing, about tenants behind the tenant migrations', async () => {
    const schema = nextSchema();
    const before = tenancyOn(schema);
    await before.migrate.shared();
    for (const id of ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'wayne']) await before.registry.create({ id });
    const after = tenancyOn(schema, { migrations: { shared: [plans], tenant: [products, sku] } });
    const report = await checkOf(after);
    expect(report.ok).toBe(false);
    expect(report.warnings).toEqual([
      '6 tenants have tenant migrations to apply (acme, globex, hooli, initech, umbrella and 1 more): run tenancy.migrate.tenants() (or tenantry migrate --tenants)',
    ]);
    expect(report.checks.map((check) => check.status)).toEqual(['passed', 'passed', 'passed', 'warned']);
    await after.migrate.tenants();
    expect(await checkOf(after)).toMatchObject({ ok: true, warnings: [] });
  });

  it('warns about shared migrations not applied yet', async () => {
    const schema = nextSchema();
    await tenancyOn(schema).migrate.shared();
    const report = await checkOf(tenancyOn(schema, { migrations: { shared: [plans, prices], tenant: [products] } }));
    expect(report.warnings).toEqual([
      `1 shared migration is not applied in schema "${schema}" (002_prices): run tenancy.migrate.shared() (or tenantry migrate --shared)`,
    ]);
  });

  it('throws RegistryNotMigratedError when migrate.shared() never ran', async () => {
    const schema = nextSchema();
    const error = await tenancyOn(schema).check().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RegistryNotMigratedError);
    expect(error).toMatchObject({ code: 'TENANTRY_REGISTRY_NOT_MIGRATED', httpStatus: 503, sharedSchema: schema, missing: ['tenantry:0001_registry', 'tenantry:0002_moving_status', 'tenantry:0003_tenant_strategy'] });
    expect((error as Error).message).toBe(
      `The tenant registry is not set up in schema "${schema}": run tenancy.migrate.shared() (or tenantry migrate --shared) first`,
    );
  });

  it('throws RegistryNotMigratedError when the registry lacks a newer built-in migration', async () => {
    const schema = nextSchema();
    await tenancyOn(schema).migrate.shared();
    class NewerRegistry extends PostgresRegistry {
      override sharedMigrations(): readonly Migration[] {
        return [...super.sharedMigrations(), migration('tenantry:0002_next', 'SELECT 1')];
      }
    }
    const newer = tenancyOn(schema, { registry: new NewerRegistry({ pool: db.pool, sharedSchema: schema }) });
    const error = await newer.check().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'TENANTRY_REGISTRY_NOT_MIGRATED', missing: ['tenantry:0002_next'] });
    expect((error as Error).message).toBe(
      `The tenant registry in schema "${schema}" lacks migration "tenantry:0002_next": run tenancy.migrate.shared() (or tenantry migrate --shared) first`,
    );
  });

  it('throws DatabaseUnavailableError naming the address when PostgreSQL cannot be reached', async () => {
    const port = await freePort();
    const tenancy = tenancyOn(nextSchema(), { pool: poolOn({ host: '127.0.0.1', port, user: 'app', password: 's3cret' }) });
    const error = await tenancy.check().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ code: 'TENANTRY_DATABASE_UNAVAILABLE', httpStatus: 503, cause: { code: 'ECONNREFUSED' } });
    expect((error as Error).message).toBe(
      `Cannot reach PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED): start the server, or set DATABASE_URL to a reachable database`,
    );
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('says to set DATABASE_URL when the pool was made without settings (no user name sent)', async () => {
    const server = new URL(serverUrl());
    const defaultUser = pg.defaults.user;
    const envUser = process.env.PGUSER;
    pg.defaults.user = undefined;
    delete process.env.PGUSER;
    try {
      const tenancy = tenancyOn(nextSchema(), { pool: poolOn({ host: server.hostname, port: Number(server.port) }) });
      const error = await tenancy.check().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'TENANTRY_DATABASE_UNAVAILABLE', cause: { code: '28000' } });
      expect((error as Error).message).toBe(
        'Cannot connect to PostgreSQL (no PostgreSQL user name specified in startup packet): the pool has no connection settings; ' +
          'set DATABASE_URL (postgres://user:password@host:5432/database) and make the pool with { connectionString: process.env.DATABASE_URL }',
      );
    } finally {
      pg.defaults.user = defaultUser;
      if (envUser !== undefined) process.env.PGUSER = envUser;
    }
  });

  it('says a database is missing, and that migrate.shared() meets the same error', async () => {
    const url = new URL(db.url);
    url.pathname = '/tenantry_no_such_database';
    const tenancy = tenancyOn(nextSchema(), { pool: poolOn({ connectionString: url.toString() }) });
    for (const attempt of [() => tenancy.check(), () => tenancy.migrate.shared()]) {
      const error = await attempt().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'TENANTRY_DATABASE_UNAVAILABLE', cause: { code: '3D000' } });
      expect((error as Error).message).toBe(
        'The database does not exist (database "tenantry_no_such_database" does not exist): create it, or set DATABASE_URL to one that exists',
      );
    }
  });

  it('skips what a tenancy without a pool does not have', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }] });
    const report = await tenancy.check();
    expect(report).toMatchObject({ ok: true, warnings: [] });
    expect(report.checks.map(({ name, status }) => [name, status])).toEqual([
      ['database', 'skipped'],
      ['registry', 'skipped'],
      ['shared migrations', 'skipped'],
      ['tenant migrations', 'skipped'],
      ['login role', 'skipped'],
    ]);
  });
});

describe('tenancy.check(): the login role', () => {
  const loginWarnings = async (tenancy: Tenancy): Promise<readonly string[]> =>
    (await tenancy.check()).checks.find((check) => check.name === 'login role')?.warnings ?? [];

  it('warns when the app connects as a superuser', async () => {
    const me = (await db.pool.query<{ me: string }>('SELECT current_user AS me')).rows[0]!.me;
    const tenancy = tenancyOn(nextSchema());
    await tenancy.migrate.shared();
    expect(await loginWarnings(tenancy)).toEqual([
      `The app connects as "${me}", a superuser: fine for development; in production connect as a role that is not (docs/security.md).`,
    ]);
  });

  it('with tenant roles: warns until migrate.shared() made the groups, and when the login cannot switch to tenants', async () => {
    const roles = { prefix: `${db.rolePrefix}c` };
    const schema = nextSchema();
    await tenancyOn(schema).migrate.shared();
    const owner = tenancyOn(schema, { tenantRoles: roles });
    expect((await loginWarnings(owner)).at(-1)).toBe(
      `Tenant roles are on but the roles "${roles.prefix}tenant_group" and "${roles.prefix}login_group" do not exist: run tenancy.migrate.shared() (tenantry migrate --shared).`,
    );
    await owner.migrate.shared();
    const login = `${db.rolePrefix}web`;
    await db.pool.query(
      `CREATE ROLE "${login}" LOGIN PASSWORD 'web-password' NOSUPERUSER NOBYPASSRLS; GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${login}"; GRANT USAGE ON SCHEMA "${schema}" TO "${login}"`,
    );
    const url = new URL(db.url);
    url.username = login;
    url.password = 'web-password';
    const web = tenancyOn(schema, { tenantRoles: roles, pool: poolOn({ connectionString: url.toString() }) });
    expect(await loginWarnings(web)).toEqual([`"${login}" cannot switch to tenant roles: GRANT "${roles.prefix}login_group" TO "${login}" (docs/security.md).`]);
    await db.pool.query(`GRANT "${roles.prefix}login_group" TO "${login}"`);
    expect(await loginWarnings(web)).toEqual([]);
  });
});
