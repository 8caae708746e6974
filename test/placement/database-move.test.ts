/**
 * The database strategy over two servers (the test server and an embedded PostgreSQL 18):
 * tenant databases created on the server their placement names, queries routed there, and
 * `tenancy.move` taking a tenant's database from one server to the other under a concurrent
 * writer (no acknowledged write lost, no foreign row), a failed move, a crashed one, the CLI.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenancy, type Migration, type Tenancy, type TenancyOptions } from '../../src/index.js';
import type { PostgresRegistry } from '../../src/registry/postgres-registry.js';
import { tenantPool } from '../../src/pg/index.js';
import { runDoctor } from '../../src/check/run-doctor.js';
import { serverQuery, useTestDatabase } from '../helpers/database.js';
import { useSecondServer } from './second-server.js';
import { moveWhileWriting, moveWriters } from './move-writers.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { cli, json, workspace } from '../cli/cli-harness.js';
import { collector } from '../backup/backup-fixture.js';

const db = useTestDatabase({ max: 6 });
toleratePoolTeardown(db);
const second = useSecondServer(4);
/** Tenant databases are named after their schemas: this file's own prefix, dropped after it on the test server. */
const PREFIX = `tdbm${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
// A tenant-roles prefix too, its roles dropped after db's database (its tenant_group holds grants there until then).
db.dropRolesAfter(PREFIX);
let files = 0;
const clients = new Set<pg.Pool>();

const ITEMS: Migration = {
  name: '001_items',
  checksum: 'items-1',
  up: (client) => client.query('CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL UNIQUE)'),
};

afterAll(async () => {
  await Promise.all([...clients].map((pool) => pool.end()));
  for (const { datname } of await serverQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [PREFIX])) {
    await serverQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
});

async function setup(extra: Partial<TenancyOptions> = {}): Promise<{ tenancy: Tenancy; pool: ReturnType<typeof tenantPool>; schemaOf: (id: string) => string }> {
  files += 1;
  const schemaPrefix = `${PREFIX}_${files}_`;
  const tenancy = createTenancy({
    pool: db.pool,
    strategy: 'database',
    sharedSchema: uniqueNames('dbmv').sharedSchema,
    schemaPrefix,
    databases: { maxConnections: 6 },
    servers: { main: db.pool, eu: second.pool },
    migrations: { tenant: [ITEMS] },
    ...extra,
  });
  await tenancy.migrate.shared();
  return { tenancy, pool: tenantPool(tenancy, db.pool), schemaOf: (id) => `${schemaPrefix}${id.replaceAll('-', '_')}` };
}

/** A pool of the test's own on a database of one of the two servers. */
function poolOn(serverUrl: string, database: string): pg.Pool {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  pool.on('error', () => {});
  clients.add(pool);
  return pool;
}

async function databasesOn(pool: pg.Pool, pattern: string): Promise<string[]> {
  return (await pool.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE datname LIKE $1 ORDER BY 1', [pattern])).rows.map((row) => row.name);
}

async function labelsIn(serverUrl: string, schema: string): Promise<string[]> {
  const pool = poolOn(serverUrl, schema);
  try {
    return (await pool.query<{ label: string }>(`SELECT label FROM "${schema}".items ORDER BY id`)).rows.map((row) => row.label);
  } finally {
    clients.delete(pool);
    await pool.end();
  }
}

describe("strategy: 'database' over two servers", () => {
  it('creates a tenant database on the server its placement names and routes its queries there', async () => {
    const { tenancy, pool, schemaOf } = await setup();
    await tenancy.registry.create({ id: 'acme' });
    await tenancy.registry.create({ id: 'globex', placement: 'eu' });
    expect(await databasesOn(second.pool, `${schemaOf('')}%`)).toEqual([schemaOf('globex')]);
    expect(await databasesOn(db.pool, `${schemaOf('')}%`)).toEqual([schemaOf('acme')]);
    const where = (id: string) => tenancy.run(id, async () => (await pool.query<{ db: string; version: number }>(`SELECT current_database() AS db, current_setting('server_version_num')::int / 10000 AS version`)).rows[0]);
    const [home, eu] = await Promise.all([db.pool.query<{ v: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS v`), second.pool.query<{ v: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS v`)]);
    expect(await where('acme')).toEqual({ db: schemaOf('acme'), version: home.rows[0]!.v });
    expect(await where('globex')).toEqual({ db: schemaOf('globex'), version: eu.rows[0]!.v });
    await tenancy.run('globex', () => pool.query(`INSERT INTO items (label) VALUES ('globex only')`));
    expect(await tenancy.run('acme', async () => (await pool.query('SELECT label FROM items')).rows)).toEqual([]);
    await expect(tenancy.registry.create({ id: 'nowhere', placement: 'mars' })).rejects.toMatchObject({ code: 'TENANTRY_UNKNOWN_SERVER' });
    expect(await tenancy.registry.get('nowhere')).toBeUndefined();
    const report = await tenancy.migrate.tenants();
    expect(report.failed).toEqual([]);
    // A backup of the tenant on eu restored on main, and cloned on eu: each a database of its own on that server.
    const archive = collector();
    await tenancy.backup('globex', archive.stream);
    const restoredHome = await tenancy.restore(Readable.from([await archive.bytes()]), { id: 'globex-home', placement: 'main' });
    expect(restoredHome.tenant.placement).toBe('main');
    expect(await labelsIn(db.url, schemaOf('globex-home'))).toEqual(['globex only']);
    await tenancy.clone('globex', 'globex-twin');
    expect(await labelsIn(second.url, schemaOf('globex-twin'))).toEqual(['globex only']);
    for (const id of ['globex', 'globex-home', 'globex-twin']) await tenancy.registry.delete(id, { dropSchema: true });
    expect(await databasesOn(second.pool, `${schemaOf('')}%`)).toEqual([]);
    expect(await databasesOn(db.pool, `${schemaOf('')}%`)).toEqual([schemaOf('acme')]);
    await tenancy.close();
  });

  it('moves a tenant database to another server and back under a concurrent writer: every acknowledged write arrives, no foreign row', { timeout: 120_000 }, async () => {
    const { tenancy, pool, schemaOf } = await setup({ tenantRoles: { prefix: PREFIX } });
    const acme = await tenancy.registry.create({ id: 'acme' });
    await tenancy.registry.create({ id: 'globex' });
    const acmeHome = poolOn(db.url, acme.schema);
    await acmeHome.query(`INSERT INTO "${acme.schema}".items (label) SELECT 'seed ' || n FROM generate_series(1, 20000) AS n`);
    await tenancy.run('globex', () => pool.query(`INSERT INTO items (label) VALUES ('globex only')`));

    const stale = (await tenancy.registry.get('acme'))!;
    const writers = moveWriters(tenancy, pool, 'acme');
    const { acknowledged, refusals } = writers;
    writers.start();
    writers.start();
    writers.start(stale);
    await moveWhileWriting(tenancy, writers, 'acme', 'eu', 20000);
    const onEu = new Set(await labelsIn(second.url, acme.schema));
    expect(acknowledged.filter((label) => !onEu.has(label))).toEqual([]);
    expect(onEu.size).toBe(20000 + acknowledged.length);
    // Refused in the client (moving), or by the source: its schema renamed away (42P01), its role
    // dropped (22023), its database dropped (3D000) or its connections ended by the drop (57P01).
    expect(refusals.get('TENANTRY_TENANT_MOVING')).toBeGreaterThan(0);
    for (const code of refusals.keys()) expect(['TENANTRY_TENANT_MOVING', '42P01', '22023', '3D000', '57P01']).toContain(code);
    // The source database is gone from the registry's server; the bystander is untouched there.
    expect(await databasesOn(db.pool, acme.schema)).toEqual([]);
    expect(await labelsIn(db.url, schemaOf('globex'))).toEqual(['globex only']);
    const { rows: roleThere } = await second.pool.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [`${PREFIX}%acme%`]);
    expect(roleThere).toHaveLength(1);
    const note = await second.pool.query(`SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [acme.schema]);
    expect(note.rows).toEqual([{ note: null }]);

    // And back, to the registry's server by its name, under writers again.
    acknowledged.length = 0;
    writers.start();
    writers.start();
    const back = await tenancy.move('acme', 'main');
    await writers.stop();
    expect(back.tenant.placement).toBe('main');
    const home = new Set(await labelsIn(db.url, acme.schema));
    expect(acknowledged.filter((label) => !home.has(label))).toEqual([]);
    expect(await databasesOn(second.pool, acme.schema)).toEqual([]);
    await tenancy.run('globex', async () => expect((await pool.query('SELECT label FROM items')).rows).toEqual([{ label: 'globex only' }]));
    await tenancy.run('acme', async () => expect((await pool.query(`SELECT count(*)::int AS n FROM items WHERE label = 'globex only'`)).rows).toEqual([{ n: 0 }]));
    await tenancy.close();
  });

  it('leaves the tenant where it was, active, when the move fails', async () => {
    const { tenancy, pool } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await tenancy.run('acme', () => pool.query(`INSERT INTO items (label) VALUES ('kept')`));
    // A database of that name on the target, not made by tenantry: not the move's to drop.
    await second.pool.query(`CREATE DATABASE "${acme.schema}"`);
    await expect(tenancy.move('acme', 'eu')).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
    expect(await databasesOn(second.pool, acme.schema)).toEqual([acme.schema]);
    await second.pool.query(`DROP DATABASE "${acme.schema}"`);
    expect(await tenancy.registry.get('acme')).toMatchObject({ placement: 'default', status: 'active' });
    await tenancy.run('acme', () => pool.query(`INSERT INTO items (label) VALUES ('after')`));
    expect(await labelsIn(db.url, acme.schema)).toEqual(['kept', 'after']);
    await expect(tenancy.move('acme', 'nowhere')).rejects.toMatchObject({ code: 'TENANTRY_UNKNOWN_SERVER' });
    await expect(tenancy.move('acme', 'main')).rejects.toThrow(/already/);
    await tenancy.close();
    const tight = createTenancy({ pool: db.pool, strategy: 'database', servers: { main: db.pool, eu: second.pool }, databases: { maxConnections: 2 } });
    await expect(tight.move('acme', 'eu')).rejects.toThrow(/three connections/);
    await tight.close();
  });

  it('finishes off a crashed move: the source schema gets its name back, the unfinished database on the target is redone', { timeout: 60_000 }, async () => {
    const { tenancy } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    const source = poolOn(db.url, acme.schema);
    await source.query(`INSERT INTO "${acme.schema}".items (label) VALUES ('one'), ('two')`);
    // The state a crash after the fence leaves: status moving, the source schema renamed, a marked database on the target.
    const retired = `tenantry_moved_${createHash('sha256').update(acme.schema).digest('hex').slice(0, 24)}`;
    await (tenancy.registry as PostgresRegistry).setStatus('acme', 'moving');
    await source.query(`ALTER SCHEMA "${acme.schema}" RENAME TO ${retired}`);
    await second.pool.query(`CREATE DATABASE "${acme.schema}"`);
    await second.pool.query(`COMMENT ON DATABASE "${acme.schema}" IS 'tenantry:unfinished'`);
    clients.delete(source);
    await source.end();
    const moved = await tenancy.move('acme', 'eu');
    expect(moved.tenant).toMatchObject({ placement: 'eu', status: 'active' });
    expect(await labelsIn(second.url, acme.schema)).toEqual(['one', 'two']);
    expect(await databasesOn(db.pool, acme.schema)).toEqual([]);
    await tenancy.close();
  });

  it('moves a tenant database with tenantry tenants move ID --to SERVER, servers given by URL in the config', { timeout: 60_000 }, async () => {
    files += 1;
    const schemaPrefix = `${PREFIX}_${files}_`;
    const cwd = await workspace({
      'migrations/tenant/001_items.sql': 'CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL);',
      'tenantry.config.mjs': `export default ${JSON.stringify({
        sharedSchema: uniqueNames('dbmvc').sharedSchema,
        schemaPrefix,
        strategy: 'database',
        servers: { main: db.url, eu: second.url },
        migrations: { tenant: './migrations/tenant' },
      })};`,
    });
    const run = (...args: string[]) => cli(args, { cwd, databaseUrl: db.url });
    expect((await run('migrate')).code).toBe(0);
    const created = await run('tenants', 'create', 'acme');
    expect(created.code, created.stderr).toBe(0);
    const home = poolOn(db.url, `${schemaPrefix}acme`);
    await home.query(`INSERT INTO "${schemaPrefix}acme".items (label) VALUES ('a'), ('b')`);
    clients.delete(home);
    await home.end();
    const moved = await run('tenants', 'move', 'acme', '--to', 'eu', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    expect(json(moved)).toMatchObject({ tenant: { id: 'acme', placement: 'eu' }, from: 'default', to: 'eu', rows: 2, leftovers: [] });
    expect(await labelsIn(second.url, `${schemaPrefix}acme`)).toEqual(['a', 'b']);
    expect(await databasesOn(db.pool, `${schemaPrefix}acme`)).toEqual([]);
  });

  it('reads each tenant where it lives for migrate.drift() and the doctor: a tenant database altered by hand, on either server, a placed schema tenant', { timeout: 60_000 }, async () => {
    const { tenancy, schemaOf } = await setup();
    for (const [id, placement] of [['acme', 'main'], ['globex', 'eu'], ['initech', 'eu'], ['umbrella', 'main']] as const) await tenancy.registry.create({ id, placement });
    expect((await tenancy.migrate.drift()).drifted).toEqual([]);
    const globex = poolOn(second.url, schemaOf('globex'));
    await globex.query(`ALTER TABLE "${schemaOf('globex')}".items ADD COLUMN note text`);
    const umbrella = poolOn(db.url, schemaOf('umbrella'));
    await umbrella.query(`DROP TABLE "${schemaOf('umbrella')}".items`);
    const report = await tenancy.migrate.drift();
    expect(report.checked).toBe(4);
    expect(report.drifted.map((tenant) => [tenant.tenantId, tenant.differences.map((d) => `${d.change} ${d.kind} ${d.name}`)])).toEqual([
      ['globex', ['extra column items.note']],
      ['umbrella', expect.arrayContaining(['missing table items', 'missing column items.label'])],
    ]);
    const inspector = new pg.Pool({ connectionString: db.url, max: 3 });
    try {
      const findings = await runDoctor({ tenancy, pool: inspector, mode: 'session' });
      expect(findings.find((finding) => finding.check === 'drift')).toMatchObject({ severity: 'error', message: expect.stringContaining('globex, umbrella') });
    } finally {
      await inspector.end();
    }
    await tenancy.close();

    // The schema strategy: a placed tenant's schema is read on its server.
    const names = uniqueNames('dbmvs');
    const schemas = createTenancy({ pool: db.pool, ...names, servers: { main: db.pool, eu: second.pool }, migrations: { tenant: [ITEMS] } });
    await schemas.migrate.shared();
    await schemas.registry.create({ id: 'acme' });
    await schemas.registry.create({ id: 'globex', placement: 'eu' });
    await second.pool.query(`CREATE INDEX items_by_label ON "${names.schemaPrefix}globex".items (lower(label))`);
    const placed = await schemas.migrate.drift();
    expect(placed.drifted.map((tenant) => [tenant.tenantId, tenant.differences.map((d) => `${d.change} ${d.kind} ${d.name}`)])).toEqual([['globex', ['extra index items_by_label']]]);
    await schemas.close();
  });
});
