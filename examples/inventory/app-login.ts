/**
 * The login role the app connects as under the row-level strategy (`npm run demo -- --strategy
 * rls`). Row-level security does not apply to superusers (nor to BYPASSRLS roles), so the app
 * must not connect as the tables' owner: it connects as this plain role, which may switch to each
 * business's role (the login group) and read the plans and the registry in the shared scope.
 * Migrations and the registry's writes keep the owner's pool (`createInventory`'s `admin`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../src/identifiers.js';

/**
 * A login role's name and password.
 *
 * @example
 * ```ts
 * const login: AppLogin = newAppLogin('inventory_');
 * ```
 */
export interface AppLogin {
  readonly name: string;
  readonly password: string;
}

/**
 * The app's login role: `<rolePrefix>app`, with a fresh random password.
 *
 * @example
 * ```ts
 * newAppLogin('inventory_').name; // 'inventory_app'
 * ```
 */
export function newAppLogin(rolePrefix: string): AppLogin {
  return { name: `${rolePrefix}app`, password: randomBytes(18).toString('base64url') };
}

/**
 * `url` (the owner's) with the login role's name and password.
 *
 * @example
 * ```ts
 * loginUrl('postgres://postgres@127.0.0.1/inventory', newAppLogin('inventory_'));
 * ```
 */
export function loginUrl(url: string, login: AppLogin): string {
  const at = new URL(url);
  at.username = login.name;
  at.password = login.password;
  return at.toString();
}

/**
 * Creates (or updates) the login role on the owner's pool, once the shared migrations ran: its
 * password, membership of the login group, and SELECT on the plans and the registry tables it
 * reads in the shared scope.
 *
 * @example
 * ```ts
 * await grantAppLogin(ownerPool, newAppLogin('inventory_'), inventory.tenancy.tenantRoles!.loginGroup);
 * ```
 */
export async function grantAppLogin(owner: pg.Pool, login: AppLogin, loginGroup: string): Promise<void> {
  const role = quoteIdent(login.name);
  const exists = await owner.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [login.name]);
  if (exists.rowCount === 0) await owner.query(`CREATE ROLE ${role} LOGIN`);
  await owner.query(`ALTER ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ${quoteLiteral(login.password)}`);
  await owner.query(`GRANT ${quoteIdent(loginGroup)} TO ${role}`);
  await owner.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
  await owner.query(`GRANT SELECT ON plans, tenantry_tenants, tenantry_domains, tenantry_migrations, tenantry_tenant_tables TO ${role}`);
}
