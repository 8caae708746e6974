/**
 * The start-up check of the role the app connects as, and of tenant roles.
 *
 * @module
 */
import type { CheckContext, CheckResult } from './startup-check.js';
import { skipped, warnedIf } from './startup-check.js';

const NAME = 'login role';

interface LoginRow {
  name: string;
  superuser: boolean;
  bypassrls: boolean;
  groups_exist: boolean;
  can_switch: boolean;
}

/**
 * Warns when the pool connects as a superuser or a role with BYPASSRLS (each is one `RESET ROLE`
 * away from every tenant's rows), and, with tenant roles on, when their group roles are missing
 * (run `migrate.shared()`) or the login role cannot `SET ROLE` to tenants (grant it the login group).
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await loginRoleCheck(context); // { name: 'login role', status: 'warned', warnings: ['The app connects as "postgres", a superuser: …'] }
 * ```
 */
export async function loginRoleCheck({ pool, roles }: CheckContext): Promise<CheckResult> {
  if (pool === undefined) return skipped(NAME, 'no pool: the tenancy keeps its registry in memory');
  const { rows } = await pool.query<LoginRow>(
    `SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
            ($1::text IS NULL OR (to_regrole($1) IS NOT NULL AND to_regrole($2) IS NOT NULL)) AS groups_exist,
            ($1::text IS NULL OR r.rolsuper OR (to_regrole($2) IS NOT NULL AND pg_has_role(r.oid, to_regrole($2), 'MEMBER'))) AS can_switch
       FROM pg_roles r WHERE r.rolname = current_user`,
    [roles?.tenantGroup ?? null, roles?.loginGroup ?? null],
  );
  const login = rows[0];
  if (login === undefined) return skipped(NAME, 'the current role is not visible in pg_roles');
  const warnings: string[] = [];
  const production = 'fine for development; in production connect as a role that is not (docs/security.md)';
  if (login.superuser) warnings.push(`The app connects as "${login.name}", a superuser: ${production}.`);
  else if (login.bypassrls) warnings.push(`The app connects as "${login.name}", which has BYPASSRLS: ${production}.`);
  if (roles !== undefined && !login.groups_exist) {
    warnings.push(`Tenant roles are on but the roles "${roles.tenantGroup}" and "${roles.loginGroup}" do not exist: run tenancy.migrate.shared() (tenantry migrate --shared).`);
  } else if (roles !== undefined && !login.can_switch) {
    warnings.push(`"${login.name}" cannot switch to tenant roles: GRANT "${roles.loginGroup}" TO "${login.name}" (docs/security.md).`);
  }
  return warnedIf(NAME, warnings);
}
