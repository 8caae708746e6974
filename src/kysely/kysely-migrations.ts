/**
 * Kysely migrations (`{ up(db), down(db) }`) as a tenantry migration source.
 *
 * @module
 */
import { Kysely, PostgresDialect, type Migration as KyselyMigration, type MigrationProvider } from 'kysely';
import type { Queryable } from '../db.js';
import { InvalidConfigError } from '../errors.js';
import type { Migration, MigrationSource } from '../migrate/migration.js';
import { checksumOf, orderMigrations } from '../migrate/migration.js';

/**
 * Runs Kysely migrations through `tenancy.migrate`: each `up(db)` gets a Kysely instance on
 * the migration's own connection, inside its transaction, with the search_path already set to
 * the tenant's schema (then the shared schema), so `db.schema.createTable('products')` lands in
 * the tenant. The checksum is a hash of `up`'s source. (`down` is not run by tenantry.)
 *
 * @example
 * ```ts
 * import { FileMigrationProvider } from 'kysely';
 *
 * createTenancy({
 *   pool,
 *   migrations: {
 *     tenant: kyselyMigrations({
 *       '001_products': { up: (db) => db.schema.createTable('products').addColumn('id', 'serial', (c) => c.primaryKey()).execute() },
 *     }),
 *     // or: kyselyMigrations(new FileMigrationProvider({ fs, path, migrationFolder }))
 *   },
 * });
 * ```
 */
export function kyselyMigrations(migrations: Readonly<Record<string, KyselyMigration>> | MigrationProvider): MigrationSource {
  return {
    async load() {
      const record = isProvider(migrations) ? await migrations.getMigrations() : migrations;
      return orderMigrations(Object.entries(record).map(([name, migration]) => toMigration(name, migration)));
    },
  };
}

function isProvider(value: unknown): value is MigrationProvider {
  return typeof (value as MigrationProvider | null)?.getMigrations === 'function';
}

function toMigration(name: string, migration: KyselyMigration): Migration {
  if (typeof migration?.up !== 'function') throw new InvalidConfigError(`The Kysely migration ${JSON.stringify(name)} has no up(db)`);
  return {
    name,
    checksum: checksumOf(migration.up.toString()),
    async up(client) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own Migration type takes Kysely<any>
      const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: singleConnectionPool(client) }) });
      await migration.up(db);
    },
  };
}

/** A pool of one borrowed connection (Kysely releases it; we keep it), for a migration's transaction. */
function singleConnectionPool(client: Queryable) {
  const borrowed = {
    query: (sql: string, parameters: readonly unknown[]) => client.query(sql, [...parameters]),
    release: () => {},
  };
  return { connect: async () => borrowed, end: async () => {} } as unknown as ConstructorParameters<typeof PostgresDialect>[0]['pool'];
}
