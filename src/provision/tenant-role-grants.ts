/**
 * The SQL of tenant roles: the two group roles, a tenant's role and its privileges, the shared
 * tables' grants, and removing a tenant's role. Every name is derived from checked ids and
 * quoted; nothing here is built from request text.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import { MIGRATIONS_TABLE } from '../migrate/schema-migrator.js';
import { TENANT_ROLES_TABLE, type TenantRoleNames } from '../strategy/tenant-roles.js';

/**
 * What a tenant role may do on its own tables: read and write them. Not TRIGGER: a trigger a
 * tenant attached (to a function it made in pg_temp) would run with the rights of whoever writes
 * the table next, the owner's in a migration.
 */
const TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES';

/** The kinds of relation `sharedTables: 'all'` grants: tables, partitioned and foreign tables. */
const TABLE_KINDS = new Set(['r', 'p', 'f']);

/** What a tenant role may do on the shared tables granted to it. */
const SHARED_TABLE_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';

/**
 * `CREATE ROLE … NOLOGIN` that succeeds when the role exists already, also when another
 * transaction creates it at the same moment (role names are cluster-wide: another database may
 * hold a tenant of the same id).
 */
function createRoleSql(name: string, attributes: string): string {
  return `DO $tenantry$ BEGIN
  EXECUTE format('CREATE ROLE %I ${attributes}', ${quoteLiteral(name)});
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $tenantry$`;
}

/** The statements that create the two group roles if they are missing and put the current user in the login group. */
function groupRolesSql(roles: TenantRoleNames): string[] {
  return [
    createRoleSql(roles.tenantGroup, 'NOLOGIN'),
    createRoleSql(roles.loginGroup, 'NOLOGIN NOINHERIT'),
    `GRANT ${quoteIdent(roles.loginGroup)} TO CURRENT_USER`,
  ];
}

/**
 * Creates the two group roles if they are missing and makes the current user a member of the
 * login group, so the role that provisions (often also the app's login role) can `SET ROLE` to
 * every tenant. A login group is NOINHERIT: its members may switch to a tenant's role but do not
 * hold the tenants' privileges themselves.
 *
 * @example
 * ```ts
 * import { tenantRoleNames } from '../strategy/tenant-roles.js';
 * await ensureGroupRoles(client, tenantRoleNames(true)!);
 * ```
 */
export async function ensureGroupRoles(client: Queryable, roles: TenantRoleNames): Promise<void> {
  await client.query(groupRolesSql(roles).join(';\n'));
}

/**
 * A tenant (or a spare) whose role is granted its schema: `role` names the role when it is not
 * the tenant id's (a spare's).
 *
 * @example
 * ```ts
 * const target: RoleTarget = { id: 'acme', schema: 'tenant_acme' };
 * ```
 */
export interface RoleTarget {
  readonly id: string;
  readonly schema: string;
  readonly role?: string | undefined;
}

/**
 * Creates a tenant's role (if missing) and puts it in both groups: the tenant group (the shared
 * tables) and, as a role its members may switch to, the login group. Returns the quoted name.
 *
 * @example
 * ```ts
 * declare const roles: import('../strategy/tenant-roles.js').TenantRoleNames;
 * await createTenantRole(client, roles, 'acme'); // '"tenantry_acme"'
 * ```
 */
export async function createTenantRole(client: Queryable, roles: TenantRoleNames, tenantId: string): Promise<string> {
  const role = roles.roleOf(tenantId);
  await client.query(tenantRoleSql(roles, role).join(';\n'));
  return quoteIdent(role);
}

/** The statements that create a tenant's role (and the groups) if missing, and put it in both groups. */
function tenantRoleSql(roles: TenantRoleNames, role: string): string[] {
  const quotedRole = quoteIdent(role);
  return [
    ...groupRolesSql(roles),
    createRoleSql(role, roles.login ? 'LOGIN' : 'NOLOGIN'),
    `GRANT ${quoteIdent(roles.tenantGroup)} TO ${quotedRole}`,
    `GRANT ${quotedRole} TO ${quoteIdent(roles.loginGroup)}`,
  ];
}

/**
 * Creates a tenant's role (if missing), puts it in both groups, and grants it its own schema:
 * USAGE on the schema, DML on every table and sequence in it (read-only on tenantry's migration
 * table), and nothing else, in one round trip. Run inside the provisioning or migration
 * transaction, after the migrations (the migration table exists then), so tables a migration
 * just created are covered.
 *
 * @example
 * ```ts
 * declare const roles: import('../strategy/tenant-roles.js').TenantRoleNames;
 * await grantTenantRole(client, roles, { id: 'acme', schema: 'tenant_acme' });
 * ```
 */
export async function grantTenantRole(client: Queryable, roles: TenantRoleNames, tenant: RoleTarget): Promise<void> {
  const quotedRole = quoteIdent(tenant.role ?? roles.roleOf(tenant.id));
  const schema = quoteIdent(tenant.schema);
  const migrations = `${schema}.${quoteIdent(MIGRATIONS_TABLE)}`;
  await client.query(
    [
      ...tenantRoleSql(roles, tenant.role ?? roles.roleOf(tenant.id)),
      `GRANT USAGE ON SCHEMA ${schema} TO ${quotedRole}`,
      `GRANT ${TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA ${schema} TO ${quotedRole}`,
      `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${quotedRole}`,
      `GRANT EXECUTE ON ALL ROUTINES IN SCHEMA ${schema} TO ${quotedRole}`,
      `REVOKE ALL ON ${migrations} FROM ${quotedRole}`,
      `GRANT SELECT ON ${migrations} TO ${quotedRole}`,
    ].join(';\n'),
  );
}

/**
 * Grants the tenant group the shared schema and its shared tables (every table but tenantry's
 * own `tenantry_*` tables, and no view, or the configured list), with their sequences. Run after the shared
 * migrations, in their transaction.
 *
 * @example
 * ```ts
 * declare const roles: import('../strategy/tenant-roles.js').TenantRoleNames;
 * await grantSharedTables(client, roles, 'public');
 * ```
 */
export async function grantSharedTables(client: Queryable, roles: TenantRoleNames, sharedSchema: string): Promise<void> {
  await ensureGroupRoles(client, roles);
  const group = quoteIdent(roles.tenantGroup);
  const { rows } = await client.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      ORDER BY c.relname`,
    [sharedSchema],
  );
  const listed = roles.sharedTables === 'all' ? undefined : new Set(roles.sharedTables);
  // By default tables only: a view runs with its owner's rights, and one over tenant schemas would
  // show every tenant's rows to each. A view is granted when `sharedTables` names it.
  const tables = rows.filter(
    (row) => row.kind !== 'S' && !row.name.startsWith('tenantry_') && (listed === undefined ? TABLE_KINDS.has(row.kind) : listed.has(row.name)),
  );
  const owned = listed === undefined ? rows.filter((row) => row.kind === 'S') : await sequencesOf(client, sharedSchema, tables.map((row) => row.name));
  const schema = quoteIdent(sharedSchema);
  const statements = [`GRANT USAGE ON SCHEMA ${schema} TO ${group}`];
  for (const row of rows) {
    if (row.kind !== 'S') statements.push(`REVOKE ALL ON ${schema}.${quoteIdent(row.name)} FROM ${group}`);
  }
  for (const row of tables) statements.push(`GRANT ${SHARED_TABLE_PRIVILEGES} ON ${schema}.${quoteIdent(row.name)} TO ${group}`);
  // The row-level strategy's restrictive policy reads which tenant a role is.
  if (rows.some((row) => row.name === TENANT_ROLES_TABLE)) statements.push(`GRANT SELECT ON ${schema}.${TENANT_ROLES_TABLE} TO ${group}`);
  for (const row of owned) statements.push(`GRANT USAGE, SELECT ON SEQUENCE ${schema}.${quoteIdent(row.name)} TO ${group}`);
  await client.query(statements.join(';\n'));
}

/** The sequences owned by (serial or identity columns of) the given tables. */
async function sequencesOf(client: Queryable, schema: string, tables: readonly string[]): Promise<readonly { name: string }[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT s.relname AS name
       FROM pg_class s
       JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
       JOIN pg_class t ON t.oid = d.refobjid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE s.relkind = 'S' AND n.nspname = $1 AND t.relname = ANY($2)`,
    [schema, [...tables]],
  );
  return rows;
}

/**
 * Removes a tenant's (or a spare's) role and everything it holds in this database: with the
 * schema dropped, the role is dropped at once when nothing else depends on it, else `DROP OWNED`
 * drops what the role owns (large objects, say) and its default privileges first; with the
 * schema kept, what it owns goes to the current user first (`REASSIGN OWNED`), and the current
 * user revokes what was granted to it on the schema and its tables, sequences and routines. Then
 * the role is dropped. A role that another database still grants something to
 * (same prefix, same tenant id, another database on the server) is left in place, with nothing
 * left in this database.
 *
 * @example
 * ```ts
 * declare const roles: import('../strategy/tenant-roles.js').TenantRoleNames;
 * await dropTenantRole(client, roles, { id: 'acme', schema: 'tenant_acme' }, { schemaDropped: true });
 * ```
 */
export async function dropTenantRole(
  client: Queryable,
  roles: TenantRoleNames | undefined,
  tenant: RoleTarget,
  { schemaDropped }: { readonly schemaDropped: boolean },
): Promise<void> {
  const role = tenant.role ?? roles?.roleOf(tenant.id);
  if (role === undefined) return;
  const name = quoteLiteral(role);
  // DROP OWNED and REASSIGN OWNED need the role's privileges, which a login group member does not
  // inherit (NOINHERIT): without them, DROP OWNED runs as the role itself (SET ROLE works through
  // the membership).
  // With the schema kept, its grants to the role are revoked by their grantor, the current user:
  // DROP OWNED run as the role itself (below) revokes nothing it did not grant, and the role could
  // not be dropped while they remain.
  const reassign = schemaDropped
    ? ''
    : `BEGIN
    EXECUTE format('REASSIGN OWNED BY %I TO CURRENT_USER', ${name});
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  FOREACH revoke IN ARRAY ARRAY['SCHEMA %I', 'ALL TABLES IN SCHEMA %I', 'ALL SEQUENCES IN SCHEMA %I', 'ALL ROUTINES IN SCHEMA %I'] LOOP
    BEGIN
      EXECUTE format('REVOKE ALL ON ' || revoke || ' FROM %I', ${quoteLiteral(tenant.schema)}, ${name});
    EXCEPTION WHEN insufficient_privilege OR invalid_schema_name THEN NULL;
    END;
  END LOOP;
  `;
  // With the schema dropped the role usually holds nothing more: dropping it at once spares a
  // login that is not a superuser the DROP OWNED under SET ROLE, which Citus sends to the workers
  // over connections of the tenant's role that wait on the schema drop's locks (a distributed
  // deadlock).
  const dropFirst = schemaDropped
    ? `BEGIN
    EXECUTE format('DROP ROLE %I', ${name});
    RETURN;
  EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
  END;
  `
    : '';
  await client.query(`DO $tenantry$ DECLARE revoke text; BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${name}) THEN RETURN; END IF;
  ${dropFirst}${reassign}BEGIN
    EXECUTE format('DROP OWNED BY %I', ${name});
  EXCEPTION WHEN insufficient_privilege THEN
    EXECUTE format('SET LOCAL ROLE %I', ${name});
    EXECUTE format('DROP OWNED BY %I', ${name});
    RESET ROLE;
  END;
  BEGIN
    EXECUTE format('DROP ROLE %I', ${name});
  EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
  END;
END $tenantry$`);
}
