/**
 * A backup taken on the test server (PostgreSQL 15 in CI's first run) restored on another
 * server: an embedded PostgreSQL 18 started for this file.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { startTestServer, type TestServer } from '../../src/testing/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { CATALOG, SEED, catalogOf, collector, fillTenant, sourceOf, tableDigests } from './backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);
let other: TestServer;
let otherPool: pg.Pool;

beforeAll(async () => {
  other = await startTestServer({ order: ['embedded'] });
  otherPool = new pg.Pool({ connectionString: other.url, max: 4 });
  otherPool.on('error', () => {});
}, 180_000);

afterAll(async () => {
  await otherPool?.end();
  await other?.stop();
}, 60_000);

describe('restore on another server', () => {
  it('restores a tenant with equal rows, catalog and sequences on an embedded PostgreSQL 18', { timeout: 60_000 }, async () => {
    const names = uniqueNames('srv');
    const here = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [CATALOG, SEED] } });
    await here.migrate.shared();
    const acme = await here.registry.create({ id: 'acme', domains: ['acme.example.com'] });
    await fillTenant(db.pool, acme.schema);
    const out = collector();
    const summary = await here.backup('acme', out.stream);

    const there = createTenancy({ pool: otherPool, ...names, migrations: { tenant: [CATALOG, SEED] } });
    await there.migrate.shared();
    const { rows: version } = await otherPool.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
    expect(version[0]!.v).toBeGreaterThanOrEqual(180000);
    const restored = await there.restore(sourceOf(await out.bytes()));
    expect(restored.tenant).toMatchObject({ id: 'acme', schema: acme.schema });
    expect(restored.manifest.server.versionNum).toBe(summary.manifest.server.versionNum);
    expect((await there.registry.domains('acme')).map((d) => d.domain)).toEqual(['acme.example.com']);
    expect(await tableDigests(otherPool, acme.schema)).toEqual(await tableDigests(db.pool, acme.schema));
    // PostgreSQL 18 lists NOT NULL as constraints too (contype n); the columns' is_nullable says the same on both.
    const ignoringVersionDifferences = (catalog: Record<string, unknown>) => ({
      ...catalog,
      constraints: (catalog.constraints as { contype: string }[]).filter((constraint) => constraint.contype !== 'n'),
    });
    expect(ignoringVersionDifferences(await catalogOf(otherPool, acme.schema))).toEqual(ignoringVersionDifferences(await catalogOf(db.pool, acme.schema)));
  });
});
