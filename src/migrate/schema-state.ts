/**
 * Where one schema stands against a migration set, read from its `tenantry_migrations` table
 * without changing anything.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent } from '../identifiers.js';
import type { Migration } from './migration.js';
import { MIGRATIONS_TABLE } from './schema-migrator.js';

/**
 * A schema compared with a migration set.
 *
 * @example
 * ```ts
 * const state: SchemaState = { applied: ['001_items'], pending: ['002_sku'], changed: [] };
 * ```
 */
export interface SchemaState {
  /** Recorded in the schema, in name order (also those no longer in the set). */
  readonly applied: readonly string[];
  /** In the set and not recorded: a migration run would apply them, in this order. */
  readonly pending: readonly string[];
  /** Recorded with another checksum: edited after they ran (a run stops unless --allow-changed). */
  readonly changed: readonly string[];
}

/**
 * Compares a schema's recorded migrations with a set. A schema (or a tracking table) that does
 * not exist yet has everything pending.
 *
 * @example
 * ```ts
 * declare const source: import('./migration.js').MigrationSource;
 * const state = await readSchemaState(pool, 'tenant_acme', await source.load());
 * state.pending; // ['003_backfill_sku']
 * ```
 */
export async function readSchemaState(db: Queryable, schema: string, migrations: readonly Migration[]): Promise<SchemaState> {
  const table = `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`;
  const { rows: found } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  const recorded = new Map<string, string>();
  if (found[0]?.present === true) {
    const { rows } = await db.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${table}`);
    for (const row of rows) recorded.set(row.name, row.checksum);
  }
  return compareMigrations(migrations, recorded);
}

/**
 * Compares a set with recorded `name → checksum` pairs.
 *
 * @example
 * ```ts
 * declare const a: import('./migration.js').Migration; // 001_a
 * declare const b: import('./migration.js').Migration; // 002_b
 * compareMigrations([a, b], new Map([[a.name, a.checksum]])); // { applied: ['001_a'], pending: ['002_b'], changed: [] }
 * ```
 */
export function compareMigrations(migrations: readonly Migration[], recorded: ReadonlyMap<string, string>): SchemaState {
  const pending: string[] = [];
  const changed: string[] = [];
  for (const migration of migrations) {
    const checksum = recorded.get(migration.name);
    if (checksum === undefined) pending.push(migration.name);
    else if (checksum !== migration.checksum) changed.push(migration.name);
  }
  const applied = [...recorded.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { applied, pending, changed };
}

/** Schemas per statement of {@link readSchemaStates}. */
const STATES_CHUNK = 500;

/**
 * {@link readSchemaState} for many schemas in two queries per 500 schemas: which of them have a
 * tracking table, then all their rows at once.
 *
 * @example
 * ```ts
 * declare const source: import('./migration.js').MigrationSource;
 * const states = await readSchemaStates(pool, ['tenant_acme', 'tenant_globex'], await source.load());
 * states.get('tenant_acme')?.pending; // ['003_backfill_sku']
 * ```
 */
export async function readSchemaStates(db: Queryable, schemas: readonly string[], migrations: readonly Migration[]): Promise<Map<string, SchemaState>> {
  const recorded = new Map<string, Map<string, string>>(schemas.map((schema) => [schema, new Map()]));
  for (let start = 0; start < schemas.length; start += STATES_CHUNK) {
    const { rows: tracked } = await db.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND n.nspname = ANY($2::text[])`,
      [MIGRATIONS_TABLE, schemas.slice(start, start + STATES_CHUNK)],
    );
    if (tracked.length === 0) continue;
    const union = tracked
      .map(({ schema }, index) => `SELECT $${index + 1}::text AS schema, name, checksum FROM ${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`)
      .join(' UNION ALL ');
    const { rows } = await db.query<{ schema: string; name: string; checksum: string }>(union, tracked.map(({ schema }) => schema));
    for (const row of rows) recorded.get(row.schema)?.set(row.name, row.checksum);
  }
  return new Map([...recorded].map(([schema, names]) => [schema, compareMigrations(migrations, names)]));
}
