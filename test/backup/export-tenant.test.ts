import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTenancy, InvalidConfigError, TenantNotFoundError } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { rejection } from '../helpers/thrown.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { CATALOG, SEED, fillTenant } from './backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);
const folders: string[] = [];
afterAll(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

async function setup() {
  const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('ex'), migrations: { tenant: [CATALOG, SEED] } });
  await tenancy.migrate.shared();
  const acme = await tenancy.registry.create({ id: 'acme', name: 'Acme', domains: ['acme.example.com'] });
  await fillTenant(db.pool, acme.schema);
  const folder = await mkdtemp(join(tmpdir(), 'tenantry-export-'));
  folders.push(folder);
  return { tenancy, acme, folder };
}

describe('exportTenant', () => {
  it('writes one JSON array per table with every value as the database has it, and tenant.json', async () => {
    const { tenancy, acme, folder } = await setup();
    const summary = await tenancy.exportTenant('acme', folder);
    expect(summary.tables).toEqual([
      { table: 'categories', file: 'categories.json', rows: 3 },
      { table: 'nodes', file: 'nodes.json', rows: 3 },
      { table: 'products', file: 'products.json', rows: 429 },
    ]);
    expect((await readdir(folder)).sort()).toEqual(['categories.json', 'nodes.json', 'products.json', 'tenant.json']);
    const products = JSON.parse(await readFile(join(folder, 'products.json'), 'utf8')) as Record<string, unknown>[];
    const { rows } = await db.pool.query(`SELECT row_to_json(p) AS row FROM (SELECT id, category_id, name, price, tags, data, note, revision FROM "${acme.schema}".products) p ORDER BY id`);
    expect(products.sort((a, b) => Number(a.id) - Number(b.id))).toEqual(rows.map((row: { row: unknown }) => row.row));
    expect(products.map((p) => p.note)).toContain('tab\there\nnew line \\ backslash');
    expect(products.map((p) => p.note)).toContain('ünïcødé ✓ 🚀');
    const record = JSON.parse(await readFile(join(folder, 'tenant.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ id: 'acme', name: 'Acme', domains: [{ domain: 'acme.example.com', primary: true }], format: 'json' });
  });

  it('writes CSV with a header line, and refuses an unknown tenant or format', async () => {
    const { tenancy, acme, folder } = await setup();
    const summary = await tenancy.exportTenant('acme', folder, { format: 'csv' });
    expect(summary.tables.map((t) => [t.file, t.rows])).toEqual([['categories.csv', 3], ['nodes.csv', 3], ['products.csv', 429]]);
    const nodes = await readFile(join(folder, 'nodes.csv'), 'utf8');
    expect(nodes.split('\n')[0]).toBe('id,parent_id,label');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${acme.schema}".nodes`);
    expect(nodes.trim().split('\n')).toHaveLength(rows[0].n + 1);
    expect(await rejection(tenancy.exportTenant('ghost', folder))).toBeInstanceOf(TenantNotFoundError);
    expect(await rejection(tenancy.exportTenant('acme', folder, { format: 'xml' as 'csv' }))).toBeInstanceOf(InvalidConfigError);
  });
});
