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
import { readCatalogItems, signatureOf, useCatalogSettings } from '../fleet/schema-catalog.js';
import { TENANTS_TABLE } from '../registry/registry-migrations.js';
import { TENANT_TABLES_TABLE } from './row-level.js';

/**
 * A fingerprint of the tenant-scoped tables of the shared schema (which tables; their columns,
 * defaults, constraints, indexes and triggers, as drift detection describes them), or
 * `undefined` before the row-level migration. Leaves the transaction's search_path and jit
 * setting as it found them.
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
  const { rows: tables } = await client.query<{ oid: number; schema: string }>(
    `SELECT c.oid, n.nspname AS schema FROM ${shared}.${TENANT_TABLES_TABLE} t JOIN pg_class c ON c.oid = t.table_oid JOIN pg_namespace n ON n.oid = c.relnamespace`,
  );
  const { rows: settings } = await client.query<{ path: string; jit: string }>(`SELECT current_setting('search_path') AS path, current_setting('jit') AS jit`);
  await useCatalogSettings(client);
  const schemas = [...new Set(tables.map((table) => table.schema))];
  const items = await readCatalogItems(
    client,
    schemas,
    tables.map((table) => table.oid),
  );
  await client.query(`SELECT set_config('search_path', $1, true), set_config('jit', $2, true)`, [settings[0]!.path, settings[0]!.jit]);
  return signatureOf(items);
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
