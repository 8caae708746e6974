/**
 * Citus reference tables for the shared tables that tenant tables reference.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { InvalidConfigError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';

/**
 * Makes shared tables Citus reference tables (`create_reference_table`: a copy on every worker),
 * so a tenant table in a distributed schema may have a foreign key to them; Citus refuses such a
 * key to a table of the coordinator alone. Call it in a shared migration, after the tables are
 * created: each name is resolved through the migration's search_path (the shared schema). A table
 * that is a reference table already is left alone, so the call may be repeated. On PostgreSQL
 * without the citus extension it does nothing. Returns the tables it made reference tables.
 *
 * @example
 * ```ts
 * // migrations/shared/002_reference_tables.ts
 * import { createReferenceTables, type Queryable } from 'tenantry';
 *
 * export const up = (client: Queryable) => createReferenceTables(client, ['plans', 'currencies']);
 * ```
 */
export async function createReferenceTables(client: Queryable, tables: readonly string[]): Promise<string[]> {
  for (const table of tables) {
    if (typeof table !== 'string' || table === '') throw new InvalidConfigError(`createReferenceTables takes table names, got ${JSON.stringify(table)}`);
  }
  const { rows } = await client.query<{ citus: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus");
  if (rows[0]?.citus !== true) return [];
  const made: string[] = [];
  for (const table of tables) {
    const found = await client.query<{ id: string | null; reference: boolean }>(
      `SELECT to_regclass($1)::oid::text AS id,
              EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass($1) AND partmethod = 'n' AND repmodel = 't') AS reference`,
      [quoteIdent(table)],
    );
    const { id, reference } = found.rows[0]!;
    if (id === null) throw new InvalidConfigError(`createReferenceTables: no table ${JSON.stringify(table)} in the search_path (create it first, in the shared schema)`);
    if (reference) continue;
    await client.query('SELECT create_reference_table($1::oid::regclass)', [id]);
    made.push(table);
  }
  return made;
}
