/**
 * Keeps the shared migrations of a row-level tenancy from changing the tenant-scoped tables while
 * some tenants keep copies of them in schemas of their own: the copies would not follow, and the
 * move back would fail or lose a column. `migrate.shared()` compares the tables' shape before and
 * after the migrations it applies, in their transaction, and rolls back with
 * `SchemaPlacedTenantsError` when it changed and such tenants exist.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { SchemaPlacedTenantsError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { TENANTS_TABLE } from '../registry/registry-migrations.js';
import { TENANT_TABLES_TABLE } from './row-level.js';

/**
 * A fingerprint of the tenant-scoped tables of the shared schema (which tables; their columns,
 * defaults, constraints, indexes and triggers), or `undefined` before the row-level migration.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const before = await tenantTablesShape(client, 'public');
 * ```
 */
export async function tenantTablesShape(client: Queryable, sharedSchema: string): Promise<string | undefined> {
  const shared = quoteIdent(sharedSchema);
  const { rows: found } = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [`${shared}.${TENANT_TABLES_TABLE}`]);
  if (found[0]?.found !== true) return undefined;
  // The catalog's text qualifies names by the search_path: the same one for both fingerprints.
  await client.query(`SET LOCAL search_path TO ${shared}`);
  const { rows } = await client.query<{ shape: string }>(
    `WITH tables AS (SELECT c.oid, c.relname FROM ${shared}.${TENANT_TABLES_TABLE} t JOIN pg_class c ON c.oid = t.table_oid)
     SELECT md5(coalesce(string_agg(part, E'\\n' ORDER BY part), '')) AS shape FROM (
       SELECT relname::text AS part FROM tables
       UNION ALL
       SELECT concat_ws(':', t.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated, a.attidentity, pg_get_expr(d.adbin, d.adrelid))
         FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
       UNION ALL
       SELECT concat_ws(':', t.relname, k.conname, pg_get_constraintdef(k.oid)) FROM tables t JOIN pg_constraint k ON k.conrelid = t.oid
       UNION ALL
       SELECT concat_ws(':', t.relname, pg_get_indexdef(i.indexrelid)) FROM tables t JOIN pg_index i ON i.indrelid = t.oid
       UNION ALL
       SELECT concat_ws(':', t.relname, pg_get_triggerdef(g.oid)) FROM tables t JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal
     ) parts`,
  );
  return rows[0]?.shape;
}

/**
 * Throws `SchemaPlacedTenantsError` (and so rolls the caller's transaction back) when the
 * tenant-scoped tables' shape differs from `before` and some tenants live in schemas of their own.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const before = await tenantTablesShape(client, 'public');
 * // … the shared migrations …
 * await refuseChangesUnderPlacedTenants(client, 'public', before, ['005_sku']);
 * ```
 */
export async function refuseChangesUnderPlacedTenants(client: Queryable, sharedSchema: string, before: string | undefined, applied: readonly string[]): Promise<void> {
  if (before === undefined || applied.length === 0) return;
  if ((await tenantTablesShape(client, sharedSchema)) === before) return;
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM ${quoteIdent(sharedSchema)}.${TENANTS_TABLE} WHERE strategy = 'schema' ORDER BY id COLLATE "C" LIMIT 20`,
  );
  if (rows.length > 0) throw new SchemaPlacedTenantsError(rows.map((row) => row.id), applied.filter((name) => !name.startsWith('tenantry:')));
}
