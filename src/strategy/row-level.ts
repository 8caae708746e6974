/**
 * The row-level strategy (`createTenancy({ strategy: 'rls' })`): tenants share tables that carry
 * a tenant column, and PostgreSQL's row-level security keeps each tenant to its rows. The scope
 * is a setting, `tenantry.tenant_id`, which tenantPool sets with the search_path in the same
 * exchange as the query; the policies compare the tenant column with it, and an unset or empty
 * setting matches no row.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent } from '../identifiers.js';
import type { Migration } from '../migrate/migration.js';
import { digestOf } from '../migrate/migration.js';
import { sqlMigration, TENANTS_TABLE } from '../registry/registry-migrations.js';
import type { MigrationMark, Provisioner } from '../provision/provisioner.js';
import type { PoolLike } from '../db.js';
import { createTenantRole, dropTenantRole, ensureGroupRoles } from '../provision/tenant-role-grants.js';
import { TENANT_ROLES_TABLE, type TenantRoleNames } from './tenant-roles.js';

export type { TenancyStrategy } from './tenancy-strategy.js';

/**
 * The setting the row-level policies read: the active tenant's id, `''` in the shared scope.
 *
 * @example
 * ```ts
 * await client.query(`select current_setting('${TENANT_SETTING}', true)`);
 * ```
 */
export const TENANT_SETTING = 'tenantry.tenant_id';

/** The name of the policy `tenantry_tenant_table` puts on a table. */
export const TENANT_POLICY = 'tenantry_tenant';

/** The function, in the shared schema, that makes a table tenant-scoped. */
export const TENANT_TABLE_FUNCTION = 'tenantry_tenant_table';

/** The registry table listing the tenant-scoped tables and their tenant columns. */
export const TENANT_TABLES_TABLE = 'tenantry_tenant_tables';

export { TENANT_ROLES_TABLE } from './tenant-roles.js';

/** The restrictive policy that, with tenant roles, ties rows to the role a query runs as. */
export const TENANT_ROLE_POLICY = 'tenantry_tenant_role';

/**
 * The restrictive INSERT policy that keeps the rows of tenants moved into schemas of their own
 * out of the shared tables (a write of a process that still had them as row-level tenants).
 */
export const PLACED_POLICY = 'tenantry_schema_placed';

/** The function, in the shared schema, that lists the tenants moved into schemas of their own. */
export const PLACED_FUNCTION = 'tenantry_schema_placed_tenants';

/** The function, in the shared schema, that deletes one tenant's rows from every tenant-scoped table. */
export const DELETE_ROWS_FUNCTION = 'tenantry_delete_tenant_rows';

/** The tenant of the role a query runs as (NULL for any other role), as policy text in a format() string. */
function roleTenant(s: string): string {
  return `(SELECT r.tenant_id FROM ${s.replaceAll("'", "''")}.${TENANT_ROLES_TABLE} r WHERE r.role_name = current_user)`;
}

/**
 * The statement that makes `tenantry_tenant_table`; `fence` holds statements run after its
 * policies (empty in the row-level migration; the schema-placed tenants' fence since 0203).
 */
function tenantTableFunctionSql(s: string, create: string, fence: string): string {
  // The policy expression: the active tenant, or NULL (no row) when the setting is unset or empty.
  const active = `nullif(current_setting(''${TENANT_SETTING}'', true), '''')`;
  return `${create} ${s}.${TENANT_TABLE_FUNCTION}(target regclass, tenant_column name DEFAULT 'tenant_id')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = target AND attname = tenant_column AND NOT attisdropped) THEN
    -- Rows already in the table get no tenant (NOT NULL below then asks for a backfill first).
    EXECUTE format('ALTER TABLE %s ADD COLUMN %I text', target, tenant_column);
  END IF;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT current_setting(%L)', target, tenant_column, '${TENANT_SETTING}');
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', target, tenant_column);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format('DROP POLICY IF EXISTS ${TENANT_POLICY} ON %s', target);
  EXECUTE format('CREATE POLICY ${TENANT_POLICY} ON %s USING (%I = ${active}) WITH CHECK (%I = ${active})', target, tenant_column, tenant_column);
  EXECUTE format('DROP POLICY IF EXISTS ${TENANT_ROLE_POLICY} ON %s', target);
  IF to_regclass('${s}.${TENANT_ROLES_TABLE}') IS NOT NULL THEN
    EXECUTE format('CREATE POLICY ${TENANT_ROLE_POLICY} ON %s AS RESTRICTIVE USING (%I = ${roleTenant(s)}) WITH CHECK (%I = ${roleTenant(s)})', target, tenant_column, tenant_column);
  END IF;
${fence}  INSERT INTO ${s}.${TENANT_TABLES_TABLE} (table_oid, table_name, tenant_column) VALUES (target, target::text, tenant_column)
    ON CONFLICT (table_oid) DO UPDATE SET table_name = excluded.table_name, tenant_column = excluded.tenant_column;
END
$fn$;
`;
}

/** The statements of the row-level migration, with `$schema` standing for the quoted shared schema. */
function rowLevelSql(s: string): string {
  return `
CREATE TABLE ${s}.${TENANT_TABLES_TABLE} (
  table_oid oid PRIMARY KEY,
  table_name text NOT NULL,
  tenant_column name NOT NULL
);

${tenantTableFunctionSql(s, 'CREATE FUNCTION', '')}
CREATE FUNCTION ${s}.${DELETE_ROWS_FUNCTION}(tenant text)
RETURNS TABLE (table_name text, deleted bigint) LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
  entry record;
  count bigint;
BEGIN
  IF tenant IS NULL OR tenant = '' THEN
    RAISE EXCEPTION 'tenantry: a tenant id is required';
  END IF;
  PERFORM set_config('${TENANT_SETTING}', tenant, true);
  FOR entry IN SELECT t.table_oid::regclass AS target, t.tenant_column FROM ${s}.${TENANT_TABLES_TABLE} t
                 JOIN pg_class c ON c.oid = t.table_oid ORDER BY t.table_oid DESC LOOP
    EXECUTE format('DELETE FROM %s WHERE %I = $1', entry.target, entry.tenant_column) USING tenant;
    GET DIAGNOSTICS count = ROW_COUNT;
    table_name := entry.target::text;
    deleted := count;
    RETURN NEXT;
  END LOOP;
END
$fn$;
`;
}

/**
 * The shared migration the row-level strategy adds after the registry's: the table that lists
 * tenant-scoped tables, `tenantry_tenant_table(table, column)` that makes a table tenant-scoped
 * (adds the column with the active tenant as its default, ENABLE and FORCE ROW LEVEL SECURITY,
 * one policy for reads and writes) and `tenantry_delete_tenant_rows(id)`.
 *
 * @example
 * ```ts
 * rowLevelMigration('public').name; // 'tenantry:0201_row_level'
 * ```
 */
export const rowLevelMigration: (schema: string) => Migration = sqlMigration('tenantry:0201_row_level', rowLevelSql);

/** The statements of the schema-placed migration: the fence's function, and the fence on every tenant-scoped table. */
function schemaPlacedSql(s: string): string {
  const literal = s.replaceAll("'", "''");
  const fence = `  EXECUTE format('DROP POLICY IF EXISTS ${PLACED_POLICY} ON %s', target);
  EXECUTE format('CREATE POLICY ${PLACED_POLICY} ON %s AS RESTRICTIVE FOR INSERT WITH CHECK (%I <> ALL (CAST((SELECT ${literal}.${PLACED_FUNCTION}()) AS text[])))', target, tenant_column);
`;
  return `
CREATE INDEX ${TENANTS_TABLE}_schema_placed ON ${s}.${TENANTS_TABLE} (id) WHERE strategy = 'schema';

CREATE FUNCTION ${s}.${PLACED_FUNCTION}()
RETURNS text[] LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
  SELECT coalesce(array_agg(id), '{}') FROM ${s}.${TENANTS_TABLE} WHERE strategy = 'schema'
$fn$;

${tenantTableFunctionSql(s, 'CREATE OR REPLACE FUNCTION', fence)}
SELECT ${s}.${TENANT_TABLE_FUNCTION}(c.oid::regclass, t.tenant_column) FROM ${s}.${TENANT_TABLES_TABLE} t JOIN pg_class c ON c.oid = t.table_oid;
`;
}

/**
 * The shared migration that lets a row-level tenancy hold tenants in schemas of their own
 * (`tenancy.move(id, { strategy: 'schema' })`): `tenantry_schema_placed_tenants()`, which lists
 * them (as the registry's owner, once per statement), and on every tenant-scoped table (also
 * those made later) a restrictive INSERT policy, `tenantry_schema_placed`, that refuses their
 * rows: a process whose cache still had such a tenant in the shared tables gets an error (42501),
 * never an acknowledged row nobody reads.
 *
 * @example
 * ```ts
 * schemaPlacedMigration('public').name; // 'tenantry:0203_schema_placed'
 * ```
 */
export const schemaPlacedMigration: (schema: string) => Migration = sqlMigration('tenantry:0203_schema_placed', schemaPlacedSql);

/** The statements of the row-level roles migration: the role table, and the restrictive policy on tables made before it. */
function rowLevelRolesSql(s: string): string {
  return `
CREATE TABLE ${s}.${TENANT_ROLES_TABLE} (
  role_name name PRIMARY KEY,
  tenant_id text NOT NULL UNIQUE
);
SELECT ${s}.${TENANT_TABLE_FUNCTION}(table_oid::regclass, tenant_column) FROM ${s}.${TENANT_TABLES_TABLE};
`;
}

/**
 * The shared migration the row-level strategy adds with tenant roles: a table naming each tenant
 * role's tenant, readable by the tenant group, and on every tenant-scoped table (also those made
 * later) a restrictive policy that keeps a query to the rows of the tenant whose role it runs
 * as, whatever the `tenantry.tenant_id` setting says.
 *
 * @example
 * ```ts
 * declare const roles: import('./tenant-roles.js').TenantRoleNames;
 * rowLevelRolesMigration('public', roles).name; // 'tenantry:0202_row_level_roles'
 * ```
 */
export function rowLevelRolesMigration(schema: string, roles: TenantRoleNames): Migration {
  const migration = sqlMigration('tenantry:0202_row_level_roles', rowLevelRolesSql)(schema);
  return {
    ...migration,
    up: async (client) => {
      await ensureGroupRoles(client, roles);
      await migration.up(client);
    },
  };
}

/**
 * The tenant-scoped tables of the shared schema (those `tenantry_tenant_table` made), each with
 * its tenant column.
 *
 * @example
 * ```ts
 * declare const pool: import('../db.js').Queryable;
 * await tenantTablesOf(pool, 'public'); // Map { 'products' => 'tenant_id', … }
 * ```
 */
export async function tenantTablesOf(db: Queryable, sharedSchema: string): Promise<ReadonlyMap<string, string>> {
  const { rows } = await db.query<{ name: string; tenant_column: string }>(
    `SELECT c.relname AS name, t.tenant_column FROM ${quoteIdent(sharedSchema)}.${TENANT_TABLES_TABLE} t
       JOIN pg_class c ON c.oid = t.table_oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1`,
    [sharedSchema],
  );
  return new Map(rows.map((row) => [row.name, row.tenant_column]));
}

/**
 * What deleting a tenant removed from one tenant-scoped table.
 *
 * @example
 * ```ts
 * const removed: DeletedRows = { table: 'products', deleted: 120 };
 * ```
 */
export interface DeletedRows {
  readonly table: string;
  readonly deleted: number;
}

/**
 * Deletes one tenant's rows from every tenant-scoped table, children first, on a client inside
 * an open transaction, and says how many from each.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await deleteTenantRows(client, 'public', 'acme'); // [{ table: 'products', deleted: 120 }, …]
 * ```
 */
export async function deleteTenantRows(client: Queryable, sharedSchema: string, tenantId: string): Promise<readonly DeletedRows[]> {
  const { rows } = await client.query<{ table_name: string; deleted: string }>(
    `SELECT table_name, deleted FROM ${quoteIdent(sharedSchema)}.${DELETE_ROWS_FUNCTION}($1)`,
    [tenantId],
  );
  return rows.map((row) => ({ table: row.table_name, deleted: Number(row.deleted) }));
}

/**
 * The provisioner of the row-level strategy: creating a tenant is its registry row alone (no
 * DDL), and with tenant roles its role and the row naming its tenant; removing it deletes its
 * rows from every tenant-scoped table (and the schema of its own, when it was moved into one),
 * and its role, in the registry's transaction.
 *
 * @example
 * ```ts
 * const provisioner = createRowLevelProvisioner({ pool, sharedSchema: 'public' });
 * ```
 */
export function createRowLevelProvisioner(options: { readonly pool: PoolLike; readonly sharedSchema: string; readonly roles?: TenantRoleNames | undefined }): Provisioner {
  const { pool, sharedSchema, roles } = options;
  const mark: MigrationMark = { version: null, digest: digestOf([]) };
  const rolesTable = `${quoteIdent(sharedSchema)}.${TENANT_ROLES_TABLE}`;
  return {
    pool,
    sharedSchema,
    async plan() {
      return { ...mark, migrations: [] };
    },
    async provision(client, tenant) {
      if (roles !== undefined) {
        await createTenantRole(client, roles, tenant.id);
        await client.query(`INSERT INTO ${rolesTable} (role_name, tenant_id) VALUES ($1, $2)`, [roles.roleOf(tenant.id), tenant.id]);
      }
      return mark;
    },
    async dropSchema() {},
    async remove(client, tenant) {
      await deleteTenantRows(client, sharedSchema, tenant.id);
      // A tenant moved into a schema of its own (tenancy.move(id, { strategy: 'schema' })) has its rows there.
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(tenant.schema)} CASCADE`);
      if (roles !== undefined) {
        await client.query(`DELETE FROM ${rolesTable} WHERE tenant_id = $1`, [tenant.id]);
        await dropTenantRole(client, roles, tenant, { schemaDropped: true });
      }
    },
    roles,
  };
}
