import { describe, expect, it } from 'vitest';
import { createTenancy, MigrationFailedError, type MigrationRecord, type TenantRegistry } from '../../src/index.js';
import type { PoolLike } from '../../src/db.js';
import { FleetRecords } from '../../src/migrate/fleet-records.js';
import { quoteIdent } from '../../src/identifiers.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, toleratePoolTeardown, tracked, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

/** A migration that notes, in a table of its own, the synchronous_commit its transaction runs with. */
const noteCommitSetting = (table: string): string => `export async function up(client) {
  const { rows } = await client.query("SELECT current_setting('synchronous_commit') AS setting");
  await client.query('CREATE TABLE ${table} (setting text NOT NULL)');
  await client.query('INSERT INTO ${table} VALUES ($1)', [rows[0].setting]);
}
`;

async function settingIn(schema: string, table: string): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ setting: string }>(`SELECT setting FROM ${quoteIdent(schema)}.${quoteIdent(table)}`);
  return rows[0]?.setting;
}

describe('fleet runs: asynchronous commits, registry records in batches', () => {
  it('commits each tenant of migrate.tenants() without waiting for the disk; a lone migrate.tenant() and provisioning keep the server setting', async () => {
    const folder = await migrationFolder({ '001_created.mjs': noteCommitSetting('at_create') });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('fleetsync'), migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });
    const globex = await tenancy.registry.create({ id: 'globex' });
    expect(await settingIn(acme.schema, 'at_create')).toBe('on');

    await folder.write('002_fleet.mjs', noteCommitSetting('in_fleet'));
    const report = await tenancy.migrate.tenants({ concurrency: 2 });
    expect(report.failed).toEqual([]);
    expect(report.migrated.map((result) => result.tenantId).sort()).toEqual(['acme', 'globex']);
    expect(await settingIn(acme.schema, 'in_fleet')).toBe('off');
    expect(await settingIn(globex.schema, 'in_fleet')).toBe('off');
    // The registry knows both are up to date: a second run has nothing to do.
    expect((await tenancy.migrate.tenants()).total).toBe(0);
    expect((await tenancy.registry.get('globex'))?.migrationVersion).toBe('002_fleet');

    await folder.write('003_alone.mjs', noteCommitSetting('alone'));
    await tenancy.migrate.tenant('acme');
    expect(await settingIn(acme.schema, 'alone')).toBe('on');
  });

  it('reports tenants whose registry record failed as failed, with migrations committed, and a re-run records them', async () => {
    const names = uniqueNames('fleetrec');
    const folder = await migrationFolder({ '001_items.sql': 'CREATE TABLE items (id int PRIMARY KEY);' });
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await tenancy.registry.create({ id: 'globex' });
    const tenants = `${quoteIdent(names.sharedSchema)}.tenantry_tenants`;
    await db.pool.query(`
      CREATE FUNCTION ${quoteIdent(names.sharedSchema)}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the registry is read-only today'; END $$;
      CREATE TRIGGER refuse BEFORE UPDATE OF migration_digest ON ${tenants} FOR EACH ROW EXECUTE FUNCTION ${quoteIdent(names.sharedSchema)}.refuse()`);

    await folder.write('002_note.sql', 'ALTER TABLE items ADD COLUMN note text;');
    const report = await tenancy.migrate.tenants();
    expect(report.migrated).toEqual([]);
    expect(report.failed.map((error) => error.tenantId).sort()).toEqual(['acme', 'globex']);
    expect(report.failed[0]).toBeInstanceOf(MigrationFailedError);
    expect(report.failed[0]!.message).toContain('the registry is read-only today');
    // The migration itself committed.
    expect((await tracked(db.pool, acme.schema)).map((row) => row.name)).toEqual(['001_items', '002_note']);

    await db.pool.query(`DROP TRIGGER refuse ON ${tenants}`);
    const again = await tenancy.migrate.tenants();
    expect(again.failed).toEqual([]);
    expect(again.migrated.map((result) => [result.tenantId, result.applied]).sort()).toEqual([
      ['acme', []],
      ['globex', []],
    ]);
    expect((await tenancy.migrate.tenants()).total).toBe(0);
  });
});

describe('FleetRecords', () => {
  /** A pool and a registry that log what is done to them, in order. */
  function fakes(failWrites = 0): { log: string[]; pool: (name: string) => PoolLike; registry: TenantRegistry } {
    const log: string[] = [];
    let failing = failWrites;
    const pool = (name: string): PoolLike =>
      ({
        query: async (text: string) => {
          log.push(`${name}: ${text}`);
          return { rows: [], rowCount: 1 };
        },
      }) as unknown as PoolLike;
    const registry = {
      recordMigrations: async (records: readonly MigrationRecord[]) => {
        if (failing > 0) {
          failing -= 1;
          throw new Error('registry down');
        }
        log.push(`record ${records.map((record) => record.id).join(',')}`);
      },
    } as unknown as TenantRegistry;
    return { log, pool, registry };
  }
  const record = (id: string): MigrationRecord => ({ id, version: '002_note', digest: 'd' });

  it('writes full batches as they fill and the rest at the end, each after flushing the servers it records', async () => {
    const { log, pool, registry } = fakes();
    const main = pool('main');
    const other = pool('other');
    const records = new FleetRecords(registry, 2);
    await records.add(main, record('a'));
    expect(log).toEqual([]);
    await records.add(other, record('b'));
    await records.add(main, record('c'));
    expect(await records.finish()).toEqual(new Map());
    expect(log).toEqual([
      'main: SELECT pg_catalog.txid_current()',
      'other: SELECT pg_catalog.txid_current()',
      'record a,b',
      'main: SELECT pg_catalog.txid_current()',
      'record c',
    ]);
  });

  it('returns the tenants of a batch the registry refused, with its error, and records the others', async () => {
    const { log, pool, registry } = fakes(1);
    const main = pool('main');
    const records = new FleetRecords(registry, 2);
    for (const id of ['a', 'b', 'c']) await records.add(main, record(id));
    const unrecorded = await records.finish();
    expect([...unrecorded.keys()]).toEqual(['a', 'b']);
    expect((unrecorded.get('a') as Error).message).toBe('registry down');
    expect(log.filter((line) => line.startsWith('record'))).toEqual(['record c']);
  });

  it('falls back to one recordMigration per tenant for a registry without recordMigrations', async () => {
    const seen: string[] = [];
    const registry = { recordMigration: async (id: string) => void seen.push(id) } as unknown as TenantRegistry;
    const records = new FleetRecords(registry);
    const pool = { query: async () => ({ rows: [] }) } as unknown as PoolLike;
    await records.add(pool, record('a'));
    await records.add(pool, record('b'));
    await records.finish();
    expect(seen).toEqual(['a', 'b']);
  });
});
