/**
 * Kysely's own Migrator over the documented wiring (PostgresDialect on tenantPool, tenantPlugin),
 * against PostgreSQL: its two tables go where `migrationTableSchema` says (the Migrator qualifies
 * them with a WithSchemaPlugin it adds after tenantPlugin); the migrations' own tables go to the
 * tenant (or, in runShared, to the shared schema); a second run finds everything done.
 */
import { Kysely, type Migration, Migrator, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenancy, Tenant } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const database = useTestDatabase();

let tenancy: Tenancy;
let tenants: Tenant[];
let raw: pg.Pool;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Migrator takes Kysely<any>
const dbs: Kysely<any>[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Migrator takes Kysely<any>
function kysely(qualifiedPath: 'tenant' | 'shared'): Kysely<any> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Migrator takes Kysely<any>
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, raw) as unknown as PostgresPool }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans', 'catalog'], qualifiedPath })],
  });
  dbs.push(db);
  return db;
}

const TENANT_MIGRATIONS: Record<string, Migration> = {
  '001_widgets': {
    up: async (db) => {
      await db.schema.createTable('widgets').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('label', 'text').execute();
      await db.insertInto('widgets').values({ label: 'first' }).execute();
    },
  },
  '002_widgets_index': {
    up: async (db) => {
      await db.schema.createIndex('widgets_label').on('widgets').column('label').execute();
    },
  },
};

const SHARED_MIGRATIONS: Record<string, Migration> = {
  '001_catalog': {
    up: async (db) => {
      await db.schema.createTable('catalog').addColumn('code', 'text', (c) => c.primaryKey()).execute();
      await db.insertInto('catalog').values({ code: 'a' }).execute();
    },
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Migrator takes Kysely<any>
function migrator(db: Kysely<any>, migrations: Record<string, Migration>, migrationTableSchema?: string): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }) });
}

/** Where the Migrator's and the migrations' tables are. */
async function tablesNamed(...names: string[]): Promise<string[]> {
  const { rows } = await database.pool.query<{ at: string }>(
    "SELECT schemaname || '.' || tablename AS at FROM pg_tables WHERE tablename = ANY($1) ORDER BY 1",
    [names],
  );
  return rows.map((row) => row.at);
}

async function dropAll(): Promise<void> {
  for (const tenant of tenants) await database.pool.query(`DROP TABLE IF EXISTS "${tenant.schema}".widgets, "${tenant.schema}".kysely_migration, "${tenant.schema}".kysely_migration_lock`);
  await database.pool.query(`DROP TABLE IF EXISTS "${tenancy.sharedSchema}".catalog, "${tenancy.sharedSchema}".kysely_migration, "${tenancy.sharedSchema}".kysely_migration_lock`);
  await database.pool.query('DROP SCHEMA IF EXISTS meta_0, meta_1, shared_meta CASCADE');
}

beforeAll(async () => {
  const made = await tenantsWithMarkers(database.pool, 2);
  tenancy = made.tenancy;
  tenants = await Promise.all(made.ids.map(async (id) => (await tenancy.registry.get(id))!));
  raw = new pg.Pool({ connectionString: database.url, max: 2 });
});

afterAll(async () => {
  await raw?.end();
});

describe.each(['tenant', 'shared'] as const)("Kysely's Migrator under tenantPlugin (qualifiedPath %s)", (qualifiedPath) => {
  beforeAll(dropAll);

  it('keeps its tables in migrationTableSchema and creates the tenant tables in each tenant, twice over', async () => {
    const db = kysely(qualifiedPath);
    for (const round of [1, 2]) {
      for (const [index, tenant] of tenants.entries()) {
        const { error, results } = await tenancy.runTenant(tenant, () => migrator(db, TENANT_MIGRATIONS, `meta_${index}`).migrateToLatest());
        expect(error).toBeUndefined();
        expect(results?.map((result) => [result.migrationName, result.status])).toEqual(
          round === 1 ? [['001_widgets', 'Success'], ['002_widgets_index', 'Success']] : [],
        );
      }
    }
    expect(await tablesNamed('kysely_migration', 'kysely_migration_lock')).toEqual([
      'meta_0.kysely_migration',
      'meta_0.kysely_migration_lock',
      'meta_1.kysely_migration',
      'meta_1.kysely_migration_lock',
    ]);
    expect(await tablesNamed('widgets')).toEqual(tenants.map((tenant) => `${tenant.schema}.widgets`).sort());
    for (const tenant of tenants) {
      const { rows } = await database.pool.query(`SELECT label FROM "${tenant.schema}".widgets`);
      expect(rows).toEqual([{ label: 'first' }]);
    }
    const { rows: applied } = await database.pool.query('SELECT name FROM meta_1.kysely_migration ORDER BY name');
    expect(applied).toEqual([{ name: '001_widgets' }, { name: '002_widgets_index' }]);
  });

  it("keeps its tables in each tenant's own schema when migrationTableSchema names it", async () => {
    await dropAll();
    const db = kysely(qualifiedPath);
    for (const round of [1, 2]) {
      for (const tenant of tenants) {
        const { error, results } = await tenancy.runTenant(tenant, () => migrator(db, TENANT_MIGRATIONS, tenancy.require().schema).migrateToLatest());
        expect(error).toBeUndefined();
        expect(results).toHaveLength(round === 1 ? 2 : 0);
      }
    }
    expect(await tablesNamed('kysely_migration', 'widgets')).toEqual(tenants.flatMap((tenant) => [`${tenant.schema}.kysely_migration`, `${tenant.schema}.widgets`]).sort());
  });

  it('migrates shared tables in tenancy.runShared', async () => {
    await dropAll();
    const db = kysely(qualifiedPath);
    for (const round of [1, 2]) {
      const { error, results } = await tenancy.runShared(() => migrator(db, SHARED_MIGRATIONS, 'shared_meta').migrateToLatest());
      expect(error).toBeUndefined();
      expect(results).toHaveLength(round === 1 ? 1 : 0);
    }
    expect(await tablesNamed('catalog', 'kysely_migration', 'kysely_migration_lock')).toEqual([
      `${tenancy.sharedSchema}.catalog`,
      'shared_meta.kysely_migration',
      'shared_meta.kysely_migration_lock',
    ]);
  });
});
