/**
 * The tables of a schema as a backup copies them: their copyable columns, in foreign-key order.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import type { BackupTable } from './backup-manifest.js';

/**
 * Reads the tables of `schema` (plain tables and partitions; not partitioned parents, whose
 * rows are in their partitions, nor views or foreign tables) with their columns (no generated
 * or dropped column) and the tables their foreign keys reference, in dependency order.
 *
 * @example
 * ```ts
 * const tables = await schemaTables(pool, 'tenant_acme', (name) => name !== 'tenantry_migrations');
 * tables.map((table) => table.name); // ['categories', 'products']
 * ```
 */
export async function schemaTables(db: Queryable, schema: string, include: (name: string) => boolean): Promise<readonly BackupTable[]> {
  const { rows } = await db.query<{ name: string; columns: string[] | null; depends_on: string[] | null }>(
    `SELECT c.relname AS name,
            (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
            (SELECT array_agg(DISTINCT r.relname::text) FROM pg_constraint f JOIN pg_class r ON r.oid = f.confrelid
              WHERE f.conrelid = c.oid AND f.contype = 'f' AND r.relnamespace = c.relnamespace AND r.oid <> c.oid) AS depends_on
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r'
      ORDER BY c.relname COLLATE "C"`,
    [schema],
  );
  const tables = rows
    .filter((row) => include(row.name) && row.columns !== null && row.columns.length > 0)
    .map((row) => ({ name: row.name, columns: row.columns!, dependsOn: (row.depends_on ?? []).sort() }));
  return dependencyOrder(tables);
}

/**
 * Orders tables so that each comes after the other tables it references (by name among equals). The
 * tables of a reference cycle follow the others, by name.
 *
 * @example
 * ```ts
 * dependencyOrder([
 *   { name: 'products', columns: ['id'], dependsOn: ['categories'] },
 *   { name: 'categories', columns: ['id'], dependsOn: [] },
 * ]).map((table) => table.name); // ['categories', 'products']
 * ```
 */
export function dependencyOrder(tables: readonly BackupTable[]): readonly BackupTable[] {
  const names = new Set(tables.map((table) => table.name));
  const placed = new Set<string>();
  const ordered: BackupTable[] = [];
  let remaining = [...tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  while (remaining.length > 0) {
    const ready = remaining.filter((table) => table.dependsOn.every((name) => name === table.name || placed.has(name) || !names.has(name)));
    const next = ready.length > 0 ? ready : remaining;
    for (const table of next) {
      ordered.push(table);
      placed.add(table.name);
    }
    remaining = remaining.filter((table) => !placed.has(table.name));
  }
  return ordered;
}
