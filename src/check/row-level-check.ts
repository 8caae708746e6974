/**
 * The start-up check of the row-level strategy: the login role is subject to row-level
 * security, and every tenant-scoped table has its policy, enforced also for its owner.
 *
 * @module
 */
import { RowSecurityBypassedError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { TENANT_POLICY, TENANT_TABLES_TABLE } from '../strategy/row-level.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { skipped, warnedIf } from './startup-check.js';

const NAME = 'row-level security';

interface TableRow {
  table_name: string;
  enabled: boolean;
  forced: boolean;
  has_policy: boolean;
  indexed: boolean;
}

/**
 * Under `strategy: 'rls'`: throws `RowSecurityBypassedError` when the app connects as a
 * superuser or a BYPASSRLS role (row-level security would not apply to any query); warns about
 * each tenant-scoped table whose policy is gone or whose row-level security is off or not
 * forced, whose tenant column leads no index, and about each shared table with a `tenant_id`
 * column that was never made tenant-scoped (the registry's own tables aside).
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await rowLevelCheck(context); // { name: 'row-level security', status: 'warned', warnings: ['"products" has no tenantry_tenant policy: …'] }
 * ```
 */
export async function rowLevelCheck({ pool, sharedSchema, strategy }: CheckContext): Promise<CheckResult> {
  if (strategy !== 'rls') return skipped(NAME, 'the tenancy keeps a schema per tenant');
  if (pool === undefined) return skipped(NAME, 'no pool: the tenancy keeps its registry in memory');
  const login = (await pool.query<{ name: string; superuser: boolean; bypassrls: boolean }>(
    'SELECT rolname AS name, rolsuper AS superuser, rolbypassrls AS bypassrls FROM pg_roles WHERE rolname = current_user',
  )).rows[0];
  if (login?.superuser === true || login?.bypassrls === true) {
    const what = login.superuser ? 'a superuser' : 'a role with BYPASSRLS';
    throw new RowSecurityBypassedError(
      `The app connects as "${login.name}", ${what}: row-level security does not apply to it, so every query would see every tenant's rows. ` +
        'Connect as a role that is neither (CREATE ROLE app LOGIN; grant it your tables), and keep the superuser for migrations (docs/rls.md).',
    );
  }
  const schema = quoteIdent(sharedSchema);
  const { rows } = await pool.query<TableRow>(
    `SELECT c.oid::regclass::text AS table_name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
            EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $1) AS has_policy,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum) AS indexed
       FROM ${schema}.${TENANT_TABLES_TABLE} t
       JOIN pg_class c ON c.oid = t.table_oid
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = t.tenant_column AND NOT a.attisdropped
      ORDER BY 1`,
    [TENANT_POLICY],
  );
  const warnings: string[] = [];
  const fix = 'run tenantry_tenant_table() on it again in a shared migration (docs/rls.md)';
  for (const table of rows) {
    if (!table.has_policy) warnings.push(`"${table.table_name}" has no ${TENANT_POLICY} policy: every row is hidden or, for its owner, visible; ${fix}.`);
    if (!table.enabled) warnings.push(`"${table.table_name}" has row-level security turned off: every tenant sees every row; ${fix}.`);
    else if (!table.forced) warnings.push(`"${table.table_name}" does not force row-level security: its owner sees every tenant's rows; ${fix}.`);
    if (!table.indexed) warnings.push(`"${table.table_name}": no index starts with its tenant column: lead the primary key and the indexes with it (docs/rls.md).`);
  }
  const unscoped = await pool.query<{ table_name: string }>(
    `SELECT c.oid::regclass::text AS table_name
       FROM pg_class c
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
      WHERE c.relnamespace = to_regnamespace($1) AND c.relkind IN ('r', 'p') AND NOT starts_with(c.relname, 'tenantry_')
        AND NOT EXISTS (SELECT 1 FROM ${schema}.${TENANT_TABLES_TABLE} t WHERE t.table_oid = c.oid)
      ORDER BY 1`,
    [sharedSchema],
  );
  for (const { table_name } of unscoped.rows) {
    warnings.push(`"${table_name}" has a tenant_id column but is not tenant-scoped: every tenant sees every row; SELECT tenantry_tenant_table('${table_name}') in a shared migration (docs/rls.md).`);
  }
  return warnedIf(NAME, warnings);
}
