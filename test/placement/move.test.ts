/**
 * `tenancy.move`: a tenant taken from the test server to an embedded PostgreSQL 18 and back,
 * under a concurrent writer (no acknowledged write lost, no foreign row), its paused writes
 * (TenantMovingError, 503 with Retry-After), a failed move and a crashed one.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTenancy, headerResolver, type Migration, type Tenancy, type TenancyOptions } from '../../src/index.js';
import type { PostgresRegistry } from '../../src/registry/postgres-registry.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { expectMovingAnswers } from '../helpers/moving-answers.js';
import { useSecondServer } from './second-server.js';
import { moveWhileWriting, moveWriters } from './move-writers.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { cli, json, workspace } from '../cli/cli-harness.js';

const db = useTestDatabase({ max: 12 });
toleratePoolTeardown(db);
const second = useSecondServer(8);

const ITEMS: Migration = {
  name: '001_items',
  checksum: 'items-1',
  up: (client) => client.query('CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL UNIQUE)'),
};


async function setup(extra: Partial<TenancyOptions> = {}): Promise<{ tenancy: Tenancy; pool: ReturnType<typeof tenantPool> }> {
  const tenancy = createTenancy({
    pool: db.pool,
    ...uniqueNames('mv'),
    servers: { main: db.pool, eu: second.pool },
    migrations: { tenant: [ITEMS] },
    resolver: headerResolver({ name: 'x-tenant-id' }),
    ...extra,
  });
  await tenancy.migrate.shared();
  return { tenancy, pool: tenantPool(tenancy, db.pool) };
}

async function labelsOn(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ label: string }>(`SELECT label FROM "${schema}".items ORDER BY id`);
  return rows.map((row) => row.label);
}

async function schemasLike(pool: pg.Pool, pattern: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [pattern]);
  return rows.map((row) => row.name);
}

describe('tenancy.move', () => {
  it('moves a tenant to another server and back under a concurrent writer: every acknowledged write arrives, no foreign row', { timeout: 120_000 }, async () => {
    const { tenancy, pool } = await setup({ tenantRoles: { prefix: db.rolePrefix } });
    const acme = await tenancy.registry.create({ id: 'acme' });
    const globex = await tenancy.registry.create({ id: 'globex' });
    await db.pool.query(`INSERT INTO "${acme.schema}".items (label) SELECT 'seed ' || n FROM generate_series(1, 20000) AS n`);
    await db.pool.query(`INSERT INTO "${globex.schema}".items (label) VALUES ('globex only')`);

    const stale = (await tenancy.registry.get('acme'))!;
    const writers = moveWriters(tenancy, pool, 'acme');
    const { acknowledged, refusals } = writers;
    writers.start();
    writers.start();
    writers.start();
    writers.start(stale);
    writers.start(stale);
    await moveWhileWriting(tenancy, writers, 'acme', 'eu', 20000);
    const onEu = new Set(await labelsOn(second.pool, acme.schema));
    expect(acknowledged.filter((label) => !onEu.has(label))).toEqual([]);
    expect(onEu.size).toBe(20000 + acknowledged.length);
    // Refused in the client (moving), or by the source: the schema renamed away (42P01), the tenant role dropped (22023).
    for (const code of refusals.keys()) expect(['TENANTRY_TENANT_MOVING', '42P01', '22023']).toContain(code);
    expect(refusals.get('TENANTRY_TENANT_MOVING')).toBeGreaterThan(0);
    expect(refusals.get('42P01')).toBeGreaterThan(0); // the stale writers, after the fence
    // The source schema, its retired copy and the tenant role are gone from the source; the bystander is untouched.
    expect(await schemasLike(db.pool, `%${acme.schema}%`)).toEqual([]);
    expect(await schemasLike(db.pool, 'tenantry_moved_%')).toEqual([]);
    expect(await labelsOn(db.pool, globex.schema)).toEqual(['globex only']);
    const { rows: roleThere } = await second.pool.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [`${db.rolePrefix}%acme%`]);
    expect(roleThere).toHaveLength(1);

    // And back, to the registry's server by its name.
    acknowledged.length = 0;
    writers.start();
    writers.start();
    const back = await tenancy.move('acme', 'main');
    await writers.stop();
    expect(back.tenant.placement).toBe('main');
    const home = new Set(await labelsOn(db.pool, acme.schema));
    expect(acknowledged.filter((label) => !home.has(label))).toEqual([]);
    expect(await schemasLike(second.pool, `%${acme.schema}%`)).toEqual([]);
    await tenancy.run('globex', async () => expect((await pool.query('SELECT label FROM items')).rows).toEqual([{ label: 'globex only' }]));
    await tenancy.close();
  });

  it('pauses a moving tenant’s writes: TenantMovingError from tenantPool, 503 with Retry-After from the adapters, reads go on', async () => {
    const { tenancy, pool } = await setup();
    await tenancy.registry.create({ id: 'acme' });
    await (tenancy.registry as PostgresRegistry).setStatus('acme', 'moving');
    await tenancy.run('acme', async () => {
      await expect(pool.query('INSERT INTO items (label) VALUES ($1)', ['x'])).rejects.toMatchObject({ code: 'TENANTRY_TENANT_MOVING', httpStatus: 503 });
      await expect(pool.query(' /* c */ with gone as (delete from items returning id) select count(*) from gone')).rejects.toMatchObject({ code: 'TENANTRY_TENANT_MOVING' });
      expect((await pool.query('SELECT count(*)::int AS n FROM items')).rows).toEqual([{ n: 0 }]);
      const client = await pool.connect();
      try {
        await expect(client.query('UPDATE items SET label = label')).rejects.toMatchObject({ code: 'TENANTRY_TENANT_MOVING' });
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        client.release();
      }
    });

    await expectMovingAnswers(tenancy, 'acme');
    await tenancy.close();
  });

  it('leaves the tenant where it was, active, when the move fails', async () => {
    const { tenancy, pool } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await tenancy.run('acme', () => pool.query(`INSERT INTO items (label) VALUES ('kept')`));
    await second.pool.query(`CREATE SCHEMA "${acme.schema}"`);
    try {
      await expect(tenancy.move('acme', 'eu')).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
    } finally {
      await second.pool.query(`DROP SCHEMA "${acme.schema}"`);
    }
    expect(await tenancy.registry.get('acme')).toMatchObject({ placement: 'default', status: 'active' });
    await tenancy.run('acme', () => pool.query(`INSERT INTO items (label) VALUES ('after')`));
    expect(await labelsOn(db.pool, acme.schema)).toEqual(['kept', 'after']);
    await expect(tenancy.move('acme', 'nowhere')).rejects.toMatchObject({ code: 'TENANTRY_UNKNOWN_SERVER' });
    await expect(tenancy.move('acme', 'main')).rejects.toThrow(/already/);
    await tenancy.close();
  });

  it('refuses to move a tenant whose table shares its name with a shared table, which a query would reach once the schema is gone', async () => {
    const { tenancy, pool } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await tenancy.run('acme', () => pool.query(`INSERT INTO items (label) VALUES ('acme-row')`));
    const shared = `"${tenancy.sharedSchema}"`;
    await db.pool.query(`CREATE TABLE ${shared}.items (id bigint, label text); INSERT INTO ${shared}.items VALUES (1, 'shared-row')`);
    await db.pool.query(`CREATE FUNCTION ${shared}.item_count() RETURNS bigint LANGUAGE sql AS 'SELECT 0::bigint'`);
    await db.pool.query(`CREATE FUNCTION "${acme.schema}".item_count() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint'`);

    // What the refusal prevents: with the tenant's schema gone from the server a query reaches
    // (renamed here, as a move's fence does), its unqualified names resolve in the shared schema.
    await db.pool.query(`ALTER SCHEMA "${acme.schema}" RENAME TO "${acme.schema}_away"`);
    const { rows: fallen } = await tenancy.run('acme', () => pool.query<{ label: string }>('SELECT label FROM items'));
    expect(fallen.map((row) => row.label)).toEqual(['shared-row']);
    await db.pool.query(`ALTER SCHEMA "${acme.schema}_away" RENAME TO "${acme.schema}"`);

    const refused = await tenancy.move('acme', 'eu').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'TENANTRY_SHARED_NAME_COLLISION', httpStatus: 409, tenantId: 'acme', names: ['item_count()', 'items'] });
    expect(await tenancy.registry.get('acme')).toMatchObject({ placement: 'default', status: 'active' });
    expect(await schemasLike(second.pool, acme.schema)).toEqual([]);
    expect(await labelsOn(db.pool, acme.schema)).toEqual(['acme-row']);

    await db.pool.query(`DROP TABLE ${shared}.items; DROP FUNCTION ${shared}.item_count()`);
    await expect(tenancy.move('acme', 'eu')).resolves.toMatchObject({ to: 'eu', rows: 1 });
    await tenancy.close();
  });

  it('finishes off a crashed move: the retired source gets its name back, the target’s unfinished copy is redone', async () => {
    const { tenancy } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await db.pool.query(`INSERT INTO "${acme.schema}".items (label) VALUES ('one'), ('two')`);
    // The state a crash after the fence leaves: status moving, the source renamed, a marked copy on the target.
    const retired = `tenantry_moved_${createHash('sha256').update(acme.schema).digest('hex').slice(0, 24)}`;
    await (tenancy.registry as PostgresRegistry).setStatus('acme', 'moving');
    await db.pool.query(`ALTER SCHEMA "${acme.schema}" RENAME TO ${retired}`);
    await second.pool.query(`CREATE SCHEMA "${acme.schema}"; CREATE TABLE "${acme.schema}".items (x int); COMMENT ON SCHEMA "${acme.schema}" IS 'tenantry:unfinished'`);
    const moved = await tenancy.move('acme', 'eu');
    expect(moved.tenant).toMatchObject({ placement: 'eu', status: 'active' });
    expect(await labelsOn(second.pool, acme.schema)).toEqual(['one', 'two']);
    expect(await schemasLike(db.pool, 'tenantry_moved_%')).toEqual([]);
    await tenancy.close();
  });

  it('moves a tenant with tenantry tenants move ID --to SERVER, servers given by URL in the config', { timeout: 60_000 }, async () => {
    const { sharedSchema, schemaPrefix } = uniqueNames('mvc');
    const cwd = await workspace({
      'migrations/tenant/001_items.sql': 'CREATE TABLE items (id bigserial PRIMARY KEY, label text NOT NULL);',
      'tenantry.config.mjs': `export default ${JSON.stringify({ sharedSchema, schemaPrefix, servers: { main: db.url, eu: second.url }, migrations: { tenant: './migrations/tenant' } })};`,
    });
    const run = (...args: string[]) => cli(args, { cwd, databaseUrl: db.url });
    expect((await run('migrate')).code).toBe(0);
    expect((await run('tenants', 'create', 'acme')).code).toBe(0);
    await db.pool.query(`INSERT INTO "${schemaPrefix}acme".items (label) VALUES ('a'), ('b')`);
    const moved = await run('tenants', 'move', 'acme', '--to', 'eu', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    expect(json(moved)).toMatchObject({ tenant: { id: 'acme', placement: 'eu' }, from: 'default', to: 'eu', rows: 2, leftovers: [] });
    expect(await labelsOn(second.pool, `${schemaPrefix}acme`)).toEqual(['a', 'b']);
    const missing = await run('tenants', 'move', 'acme');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--to SERVER');
    const unknown = await run('tenants', 'move', 'acme', '--to', 'mars');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('No server "mars"');

    // tenantry restore --to: the archive of the tenant (now on eu) restored as another tenant, on eu and on main.
    expect((await run('backup', 'acme', '-o', 'acme.tenantry.gz')).code).toBe(0);
    for (const [id, server, pool] of [['acme-eu', 'eu', second.pool], ['acme-home', 'main', db.pool]] as const) {
      const restored = await run('restore', 'acme.tenantry.gz', '--as', id, '--to', server, '--json');
      expect(restored.code, restored.stderr).toBe(0);
      expect(json(restored)).toMatchObject({ tenant: { id, placement: server }, rows: 2 });
      expect(await labelsOn(pool, `${schemaPrefix}${id.replace('-', '_')}`)).toEqual(['a', 'b']);
    }
  });

  it('restores a backup onto another server (tenancy.restore with placement, tenantry restore --to), and leaves nothing when that fails', { timeout: 60_000 }, async () => {
    const { tenancy } = await setup();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await db.pool.query(`INSERT INTO "${acme.schema}".items (label) SELECT 'row ' || n FROM generate_series(1, 500) AS n`);
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => chunks.push(chunk));
    await tenancy.backup('acme', sink);
    const archive = Buffer.concat(chunks);

    const restored = await tenancy.restore(Readable.from([archive]), { id: 'acme-eu', placement: 'eu' });
    expect(restored.tenant).toMatchObject({ id: 'acme-eu', placement: 'eu', status: 'active' });
    expect(restored.rows).toBe(500);
    expect(await labelsOn(second.pool, restored.tenant.schema)).toHaveLength(500);
    expect(await schemasLike(db.pool, restored.tenant.schema)).toEqual([]);
    const { rows: note } = await second.pool.query(`SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1`, [restored.tenant.schema]);
    expect(note[0]!.note).toBeNull();
    // An export reads the tenant on its server (it read the registry's and found no tables).
    const folder = await mkdtemp(join(tmpdir(), 'tenantry-placed-export-'));
    try {
      const exported = await tenancy.exportTenant('acme-eu', folder);
      expect(exported.tables).toEqual([{ table: 'items', file: 'items.json', rows: 500 }]);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }

    const inTheWay = `${acme.schema}_two`;
    await second.pool.query(`CREATE SCHEMA "${inTheWay}"`);
    try {
      const refused = tenancy.restore(Readable.from([archive]), { id: 'acme-two', placement: 'eu' });
      await expect(refused).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
    } finally {
      await second.pool.query(`DROP SCHEMA "${inTheWay}"`);
    }
    expect(await tenancy.registry.get('acme-two')).toBeUndefined();
    await tenancy.close();
  });
});
