import { describe, expect, it } from 'vitest';
import {
  BackupArchiveError,
  BackupMigrationsError,
  createTenancy,
  type Migration,
  type Tenancy,
  TenantExistsError,
  TenantNotFoundError,
} from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { rejection } from '../helpers/thrown.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { CATALOG, SEED, SKU, catalogOf, collector, fillTenant, leftovers, sourceOf, tableDigests } from './backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

/** A tenancy of its own (shared schema and prefix) with tenant `acme` filled. */
async function setup(migrations: readonly Migration[] = [CATALOG, SEED], extra: { tenantRoles?: { prefix: string } } = {}) {
  const names = uniqueNames('bk');
  const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [...migrations] }, ...extra });
  await tenancy.migrate.shared();
  const acme = await tenancy.registry.create({ id: 'acme', name: 'Acme', domains: ['acme.example.com', 'shop.acme.com'], metadata: { plan: 'pro' } });
  await fillTenant(db.pool, acme.schema);
  return { tenancy, names, acme, schemaOf: (id: string) => `${names.schemaPrefix}${id.replaceAll('-', '_')}` };
}

async function archiveOf(tenancy: Tenancy, id: string, compression?: number): Promise<Buffer> {
  const out = collector();
  await tenancy.backup(id, out.stream, compression === undefined ? {} : { compression });
  return out.bytes();
}

describe('backup and restore', () => {
  it('restores a backup under a new id with equal rows, catalog and sequences, and no domains', async () => {
    const { tenancy, acme, schemaOf, names } = await setup();
    const out = collector();
    const progress: number[] = [];
    const summary = await tenancy.backup('acme', out.stream, { onProgress: (p) => p.tableDone && progress.push(p.tableIndex) });
    const bytes = await out.bytes();
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(summary.manifest.tables.map((table) => table.name)).toEqual(['categories', 'nodes', 'products']);
    expect(summary.manifest.migrations.map((m) => m.name)).toEqual(['001_catalog', '002_seed']);
    expect(summary.manifest.tenant).toMatchObject({ id: 'acme', name: 'Acme', metadata: { plan: 'pro' }, domains: [{ domain: 'acme.example.com', primary: true }, { domain: 'shop.acme.com', primary: false }] });
    expect(summary.tables.find((t) => t.table === 'products')?.rows).toBe(429);
    expect(progress).toEqual([0, 1, 2]);

    const restored = await tenancy.restore(sourceOf(bytes), { id: 'acme-copy' });
    expect(restored.tenant).toMatchObject({ id: 'acme-copy', name: 'Acme', status: 'active', schema: schemaOf('acme-copy'), migrationVersion: '002_seed', metadata: { plan: 'pro' } });
    expect(restored.applied).toEqual([]);
    expect(restored.tables).toEqual(summary.tables);
    expect(await tableDigests(db.pool, schemaOf('acme-copy'))).toEqual(await tableDigests(db.pool, acme.schema));
    expect(await catalogOf(db.pool, schemaOf('acme-copy'))).toEqual(await catalogOf(db.pool, acme.schema));
    expect(await tenancy.registry.domains('acme-copy')).toEqual([]);
    // The restored tenant works like any other: its next ids follow the source's.
    const next = async (schema: string) => (await db.pool.query(`SELECT nextval('"${schema}".products_id_seq')::int AS n, nextval('"${schema}".invoice_numbers')::int AS i`)).rows[0];
    expect(await next(schemaOf('acme-copy'))).toEqual(await next(acme.schema));
    const { rows } = await db.pool.query(`SELECT revision FROM "${schemaOf('acme-copy')}".products GROUP BY revision`);
    expect(rows).toEqual([{ revision: 1 }]);
    expect(await tenancy.migrate.tenants()).toMatchObject({ total: 0 });
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM "${names.sharedSchema}".tenantry_tenants`)).rows).toEqual([{ n: 2 }]);
  });

  it('restores under the archive id with its domains, and refuses a second restore of it (nothing changed)', async () => {
    const { tenancy, acme, names } = await setup();
    const bytes = await archiveOf(tenancy, 'acme');
    const before = await tableDigests(db.pool, acme.schema);
    expect(await rejection(tenancy.restore(sourceOf(bytes)))).toBeInstanceOf(TenantExistsError);
    await tenancy.registry.delete('acme', { dropSchema: true });
    const restored = await tenancy.restore(sourceOf(bytes));
    expect(restored.tenant.id).toBe('acme');
    expect((await tenancy.registry.domains('acme')).map((d) => [d.domain, d.primary])).toEqual([['acme.example.com', true], ['shop.acme.com', false]]);
    expect(await tableDigests(db.pool, acme.schema)).toEqual(before);
    expect(await leftovers(db.pool, names.sharedSchema, 'acme', acme.schema)).toEqual({ schema: true, registry: true, domains: 2 });
  });

  it('runs the migrations newer than the archive after loading its rows', async () => {
    const { tenancy, names } = await setup();
    const bytes = await archiveOf(tenancy, 'acme');
    const newer = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [CATALOG, SEED, SKU] } });
    const restored = await newer.restore(sourceOf(bytes), { id: 'acme-next' });
    expect(restored.applied).toEqual(['003_sku']);
    expect(restored.tenant.migrationVersion).toBe('003_sku');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE sku = 'SKU-' || id)::int AS ok FROM "${restored.tenant.schema}".products`);
    expect(rows).toEqual([{ n: 429, ok: 429 }]);
    expect(await newer.migrate.tenants({ only: ['acme-next'] })).toMatchObject({ total: 0 });
  });

  it('refuses an archive with a migration the app lacks or has edited, naming it, and leaves nothing', async () => {
    const { tenancy, names, schemaOf } = await setup();
    const bytes = await archiveOf(tenancy, 'acme');
    const older = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [CATALOG] } });
    const unknown = await rejection(older.restore(sourceOf(bytes), { id: 'acme-old' }));
    expect(unknown).toBeInstanceOf(BackupMigrationsError);
    expect(unknown).toMatchObject({ code: 'TENANTRY_BACKUP_MIGRATIONS', httpStatus: 409, migration: '002_seed', problem: 'unknown' });
    expect((unknown as Error).message).toContain('"002_seed"');
    expect(await leftovers(db.pool, names.sharedSchema, 'acme-old', schemaOf('acme-old'))).toEqual({ schema: false, registry: false, domains: 0 });

    const edited = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [CATALOG, { ...SEED, checksum: 'edited' }] } });
    expect(await rejection(edited.restore(sourceOf(bytes), { id: 'acme-old' }))).toMatchObject({ migration: '002_seed', problem: 'changed' });
    expect(await leftovers(db.pool, names.sharedSchema, 'acme-old', schemaOf('acme-old'))).toEqual({ schema: false, registry: false, domains: 0 });
    const allowed = await edited.restore(sourceOf(bytes), { id: 'acme-old', allowChanged: true });
    expect(allowed.rows).toBe(429 + 3 + 3);
  });

  it('refuses a truncated or corrupted archive with BackupArchiveError and leaves nothing behind', async () => {
    const { tenancy, names, schemaOf } = await setup();
    const bytes = await archiveOf(tenancy, 'acme');
    const stored = await archiveOf(tenancy, 'acme', 0);
    const cases: [string, Buffer][] = [
      ['truncated', bytes.subarray(0, Math.floor(bytes.length * 0.7))],
      ['truncated before the trailer', bytes.subarray(0, bytes.length - 9)],
      ['a corrupted byte', Buffer.from(bytes.map((byte, index) => (index === Math.floor(bytes.length / 2) ? byte ^ 0x55 : byte)))],
      ['a corrupted row byte, stored', Buffer.from(stored.map((byte, index) => (index === Math.floor(stored.length * 0.6) ? byte ^ 0x01 : byte)))],
      ['not an archive', Buffer.from('hello, this is not an archive at all')],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [label, archive] of cases) {
      const error = await rejection(tenancy.restore(sourceOf(archive), { id: 'acme-bad' }));
      expect(error, label).toBeInstanceOf(BackupArchiveError);
      expect(error, label).toMatchObject({ code: 'TENANTRY_BACKUP_ARCHIVE', httpStatus: 422 });
      expect(await leftovers(db.pool, names.sharedSchema, 'acme-bad', schemaOf('acme-bad')), label).toEqual({ schema: false, registry: false, domains: 0 });
    }
  });

  it('stops at an aborted signal and leaves nothing', async () => {
    const { tenancy, names, schemaOf } = await setup();
    const bytes = await archiveOf(tenancy, 'acme');
    const controller = new AbortController();
    const restoring = tenancy.restore(sourceOf(bytes, 100), {
      id: 'acme-stop',
      signal: controller.signal,
      onProgress: (p) => p.table === 'products' && controller.abort(new Error('stop')),
    });
    expect(await rejection(restoring)).toBeDefined();
    expect(await leftovers(db.pool, names.sharedSchema, 'acme-stop', schemaOf('acme-stop'))).toEqual({ schema: false, registry: false, domains: 0 });
  });

  it('gives a restored or cloned tenant its role and grants when tenant roles are on', async () => {
    const { tenancy, schemaOf } = await setup([CATALOG, SEED], { tenantRoles: { prefix: db.rolePrefix } });
    await tenancy.clone('acme', 'acme-role');
    const role = tenancy.tenantRoles!.roleOf('acme-role');
    const { rows } = await db.pool.query(
      `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_table_privilege($1, $3, 'INSERT') AS insert,
              has_schema_privilege($1, $4, 'USAGE') AS other`,
      [role, schemaOf('acme-role'), `"${schemaOf('acme-role')}".products`, schemaOf('acme')],
    );
    expect(rows).toEqual([{ usage: true, insert: true, other: false }]);
  });
});

describe('clone', () => {
  it('copies a tenant under a new id, and refuses a taken id or an unknown source, leaving nothing', async () => {
    const { tenancy, acme, names, schemaOf } = await setup();
    const clone = await tenancy.clone('acme', 'acme-staging', { name: 'Acme (staging)', domains: ['staging.acme.com'] });
    expect(clone.tenant).toMatchObject({ id: 'acme-staging', name: 'Acme (staging)' });
    expect(await tableDigests(db.pool, schemaOf('acme-staging'))).toEqual(await tableDigests(db.pool, acme.schema));
    expect((await tenancy.registry.domains('acme-staging')).map((d) => d.domain)).toEqual(['staging.acme.com']);

    expect(await rejection(tenancy.clone('acme', 'acme-staging'))).toBeInstanceOf(TenantExistsError);
    expect(await rejection(tenancy.clone('ghost', 'ghost-copy'))).toBeInstanceOf(TenantNotFoundError);
    expect(await leftovers(db.pool, names.sharedSchema, 'ghost-copy', schemaOf('ghost-copy'))).toEqual({ schema: false, registry: false, domains: 0 });
    // A domain of another tenant: refused whole.
    expect(await rejection(tenancy.clone('acme', 'acme-dup', { domains: ['acme.example.com'] }))).toBeInstanceOf(TenantExistsError);
    expect(await leftovers(db.pool, names.sharedSchema, 'acme-dup', schemaOf('acme-dup'))).toEqual({ schema: false, registry: false, domains: 0 });
  });
});

describe('shared backup', () => {
  it("archives the app's shared tables without tenantry's own, and restore refuses it as a tenant", async () => {
    const names = uniqueNames('bks');
    const tenancy = createTenancy({
      pool: db.pool,
      ...names,
      migrations: { shared: [{ name: '001_plans', checksum: '1', up: (c) => c.query(`CREATE TABLE plans (id text PRIMARY KEY); INSERT INTO plans VALUES ('free'), ('pro')`) }] },
    });
    await tenancy.migrate.shared();
    const out = collector();
    const summary = await tenancy.backupShared(out.stream);
    expect(summary.manifest).toMatchObject({ kind: 'shared', schema: names.sharedSchema });
    expect(summary.tables).toMatchObject([{ table: 'plans', rows: 2 }]);
    expect(await rejection(tenancy.restore(sourceOf(await out.bytes())))).toBeInstanceOf(BackupArchiveError);
  });
});
