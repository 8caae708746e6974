/**
 * Whether `tenantry migrate` has created the registry tables yet.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent } from '../identifiers.js';
import { TENANTS_TABLE } from '../registry/registry-migrations.js';

/**
 * Tells whether the registry's tenants table exists in the shared schema, without touching it.
 *
 * @example
 * ```ts
 * if (!(await registryExists(pool, 'public'))) console.log('run tenantry migrate --shared first');
 * ```
 */
export async function registryExists(db: Queryable, sharedSchema: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    `${quoteIdent(sharedSchema)}.${quoteIdent(TENANTS_TABLE)}`,
  ]);
  return rows[0]?.present === true;
}
