/**
 * Tenant roles: a NOLOGIN PostgreSQL role per tenant, so the database itself refuses what the
 * client's scoping missed. Names and options; the SQL that creates and grants them is in
 * `provision/tenant-role-grants.ts`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { InvalidConfigError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { Migration, MigrationSource } from '../migrate/migration.js';

const MAX_IDENTIFIER_BYTES = 63;

/**
 * With tenant roles under the row-level strategy: the shared table naming each tenant role's
 * tenant, which the tenant group may read (its restrictive policy does).
 *
 * @example
 * ```ts
 * const table = `public.${TENANT_ROLES_TABLE}`; // 'public.tenantry_tenant_roles'
 * ```
 */
export const TENANT_ROLES_TABLE = 'tenantry_tenant_roles';
const PREFIX = /^[a-z][a-z0-9_]{0,29}$/;

/**
 * Options of `createTenancy({ tenantRoles })`.
 *
 * @example
 * ```ts
 * createTenancy({ pool, tenantRoles: { prefix: 'shop_eu_' } }); // roles shop_eu_acme, shop_eu_tenant_group…
 * ```
 */
export interface TenantRolesOptions {
  /**
   * Starts every role name tenantry creates (default `tenantry_`). Role names are cluster-wide:
   * give each database that holds tenants on one server a prefix of its own.
   */
  readonly prefix?: string;
  /**
   * The shared tables tenant roles may use (select, insert, update, delete): `'all'` (the
   * default: every table of the shared schema except tenantry's own) or a list of names.
   */
  readonly sharedTables?: 'all' | readonly string[];
  /**
   * Create each tenant's role WITH LOGIN (default `false`: NOLOGIN). For Citus: the coordinator
   * opens its connections to the workers as the current role, the tenant's after `SET ROLE`, so
   * that role must be allowed to log in there. The roles get no password; let the workers'
   * `pg_hba.conf` admit them from the coordinator only (and no other server admit them at all).
   * Roles that exist already keep their attribute. docs/scaling.md, "Past one server: Citus".
   */
  readonly login?: boolean;
}

/**
 * The role names of a tenancy with tenant roles on. `tenancy.tenantRoles` holds one.
 *
 * - `roleOf(id)`: the tenant's NOLOGIN role; USAGE on its own schema and DML on its tables only.
 * - `tenantGroup`: granted to every tenant role; holds the privileges on the shared tables.
 * - `loginGroup`: every tenant role is granted to it (NOINHERIT); grant it to the app's login
 *   role so that role can `SET ROLE` to any tenant without holding their privileges itself.
 *
 * @example
 * ```ts
 * const roles = tenantRoleNames({ prefix: 'app_' })!; // undefined only for `false` or `undefined`
 * roles.roleOf('acme'); // 'app_acme'
 * roles.loginGroup;     // 'app_login_group'
 * ```
 */
export interface TenantRoleNames {
  readonly prefix: string;
  readonly tenantGroup: string;
  readonly loginGroup: string;
  readonly sharedTables: 'all' | readonly string[];
  /** Whether tenant roles are created WITH LOGIN (see {@link TenantRolesOptions.login}). */
  readonly login: boolean;
  /** The name of a tenant's own role. */
  roleOf(tenantId: string): string;
}

/**
 * The role names for a `tenantRoles` option, or `undefined` when roles are off.
 *
 * Tenant ids never contain `_`, and both group names do, so no tenant's role can be a group.
 * A role name that would pass 63 bytes is cut and ends with `_` and a hash of the id, which no
 * uncut name can (uncut names have no `_` after the prefix).
 *
 * @example
 * ```ts
 * tenantRoleNames(true)?.roleOf('acme');  // 'tenantry_acme'
 * tenantRoleNames(false);                 // undefined
 * ```
 */
export function tenantRoleNames(option: boolean | TenantRolesOptions | undefined): TenantRoleNames | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new InvalidConfigError(`tenantRoles must be true, false or { prefix, sharedTables }, got ${JSON.stringify(option)}`);
  }
  const prefix = option === true ? 'tenantry_' : (option.prefix ?? 'tenantry_');
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new InvalidConfigError(
      `tenantRoles.prefix must be 1 to 30 of a-z, 0-9 and "_", starting with a letter, got ${JSON.stringify(prefix)}`,
    );
  }
  const sharedTables = option === true ? 'all' : (option.sharedTables ?? 'all');
  if (sharedTables !== 'all' && !(Array.isArray(sharedTables) && sharedTables.every((name) => typeof name === 'string' && name.length > 0))) {
    throw new InvalidConfigError(`tenantRoles.sharedTables must be 'all' or a list of table names, got ${JSON.stringify(sharedTables)}`);
  }
  const login = option === true ? false : (option.login ?? false);
  if (typeof login !== 'boolean') throw new InvalidConfigError(`tenantRoles.login must be true or false, got ${JSON.stringify(login)}`);
  const names = new Map<string, string>();
  return Object.freeze({
    login,
    prefix,
    tenantGroup: `${prefix}tenant_group`,
    loginGroup: `${prefix}login_group`,
    sharedTables: sharedTables === 'all' ? 'all' : Object.freeze([...sharedTables]),
    roleOf(tenantId: string): string {
      let name = names.get(tenantId);
      if (name === undefined) {
        name = roleName(prefix, tenantId);
        names.set(tenantId, name);
      }
      return name;
    },
  });
}

function roleName(prefix: string, tenantId: string): string {
  assertTenantId(tenantId);
  const name = prefix + tenantId;
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES) return name;
  const hash = createHash('sha256').update(tenantId).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`;
}

/**
 * The tenant migrations with tenant roles on: the app's, then a marker migration named after the
 * role prefix. It does nothing itself; it changes the set's digest, so turning tenant roles on
 * (or changing the prefix) makes every existing tenant pending, and `migrate.tenants()` then
 * creates each tenant's role and grants (they follow every run that applied something).
 *
 * @example
 * ```ts
 * const source = withRoleMarker(folderMigrations('./migrations/tenant'), tenantRoleNames(true));
 * ```
 */
export function withRoleMarker(source: MigrationSource, roles: TenantRoleNames | undefined): MigrationSource {
  if (roles === undefined) return source;
  const marker: Migration = Object.freeze({
    name: `tenantry:tenant-roles:${roles.prefix}`,
    checksum: '1',
    up: async () => undefined,
  });
  return { load: async () => [...(await source.load()), marker] };
}
