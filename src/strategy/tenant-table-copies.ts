/**
 * A row-level tenant's own copies of the tenant-scoped tables, in a schema of its own: what
 * `tenancy.move(id, { strategy: 'schema' })` builds from the shared tables' catalog, and the rows
 * it copies between the two.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import { PLACED_POLICY, TENANT_TABLE_FUNCTION, TENANT_TABLES_TABLE, TENANT_SETTING } from './row-level.js';
import type { TenantRoleNames } from './tenant-roles.js';

/**
 * A tenant-scoped table of the shared schema, as its copies need it.
 *
 * @example
 * ```ts
 * const table: TenantTable = { oid: '16401', name: 'products', tenantColumn: 'tenant_id', columns: ['tenant_id', 'id', 'name'], identity: ['id'], parents: [] };
 * ```
 */
export interface TenantTable {
  readonly oid: string;
  readonly name: string;
  readonly tenantColumn: string;
  /** The columns a row is copied with: every column but the dropped and the generated ones. */
  readonly columns: readonly string[];
  /** The identity columns (their copies take their values from the same sequence). */
  readonly identity: readonly string[];
  /** The tenant-scoped tables its foreign keys reference (other than itself), by oid. */
  readonly parents: readonly string[];
}

/**
 * The tenant-scoped tables of the shared schema, parents before the tables whose foreign keys
 * reference them (tables in a cycle keep their creation order).
 *
 * @example
 * ```ts
 * const tables = await tenantTables(client, 'public'); // [{ name: 'products', … }, { name: 'order_lines', … }]
 * ```
 */
export async function tenantTables(client: Queryable, sharedSchema: string): Promise<readonly TenantTable[]> {
  const { rows } = await client.query<{ oid: string; name: string; tenant_column: string; columns: string[]; identity: string[]; parents: string[] }>(
    `SELECT c.oid::text AS oid, c.relname::text AS name, t.tenant_column::text AS tenant_column,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum) AS columns,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> '' ORDER BY a.attnum) AS identity,
            ARRAY(SELECT DISTINCT f.confrelid::text FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS parents
       FROM ${quoteIdent(sharedSchema)}.${TENANT_TABLES_TABLE} t
       JOIN pg_class c ON c.oid = t.table_oid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1
      ORDER BY c.oid`,
    [sharedSchema],
  );
  const tables = rows.map((row) => ({ oid: row.oid, name: row.name, tenantColumn: row.tenant_column, columns: row.columns, identity: row.identity, parents: row.parents }));
  return parentsFirst(tables);
}

/** Orders tables so that each comes after the tenant-scoped tables it references. */
function parentsFirst(tables: readonly TenantTable[]): TenantTable[] {
  const known = new Set(tables.map((table) => table.oid));
  const placed = new Set<string>();
  const ordered: TenantTable[] = [];
  let rest = [...tables];
  while (rest.length > 0) {
    const ready = rest.filter((table) => table.parents.every((parent) => !known.has(parent) || placed.has(parent)));
    // A cycle: take the oldest table of it and go on.
    const next = ready.length > 0 ? ready : [rest[0]!];
    for (const table of next) {
      placed.add(table.oid);
      ordered.push(table);
    }
    rest = rest.filter((table) => !placed.has(table.oid));
  }
  return ordered;
}

/** Table privileges a grant of a shared table may carry over to its copy. */
const PRIVILEGES = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']);

/** What {@link createTableCopies} needs to know. */
export interface CopyTarget {
  readonly sharedSchema: string;
  /** The tenant's schema, which must not exist yet. */
  readonly schema: string;
  readonly tenantId: string;
  readonly roles: TenantRoleNames | undefined;
}

/**
 * Creates the tenant's schema with a copy of each tenant-scoped table, inside the caller's
 * transaction: columns, defaults, constraints, indexes (`LIKE … INCLUDING ALL`); identity columns
 * drawing from the shared table's sequence (ids never collide, here or back in the shared
 * tables); foreign keys, pointing at the copies where the shared ones point at tenant-scoped
 * tables; the app's own policies, and ENABLE, FORCE and tenantry's policies (the
 * tenant setting, and the tenant role with tenant roles); the shared tables' grants, except the
 * tenant group's: with tenant roles only the tenant's own role gets the copies. The shared
 * tables' triggers come with `addTriggers()`, once the rows are in (they do not fire for them).
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const copies = await createTableCopies(client, await tenantTables(client, 'public'), { sharedSchema: 'public', schema: 'tenant_acme', tenantId: 'acme', roles: undefined });
 * await copies.addTriggers();
 * ```
 */
export async function createTableCopies(client: Queryable, tables: readonly TenantTable[], target: CopyTarget): Promise<{ addTriggers(): Promise<void> }> {
  const shared = quoteIdent(target.sharedSchema);
  const schema = quoteIdent(target.schema);
  await client.query(`CREATE SCHEMA ${schema}`);
  for (const table of tables) {
    const copy = `${schema}.${quoteIdent(table.name)}`;
    await client.query(`CREATE TABLE ${copy} (LIKE ${shared}.${quoteIdent(table.name)} INCLUDING ALL EXCLUDING IDENTITY)`);
    for (const column of table.identity) {
      const { rows } = await client.query<{ sequence: string }>('SELECT pg_get_serial_sequence($1, $2) AS sequence', [`${shared}.${quoteIdent(table.name)}`, column]);
      await client.query(`ALTER TABLE ${copy} ALTER COLUMN ${quoteIdent(column)} SET DEFAULT nextval(${quoteLiteral(rows[0]!.sequence)}::regclass)`);
    }
  }
  // Catalog text printed with the shared schema as the path names the shared tables unqualified;
  // run with the tenant's schema first, those names reach its copies (and the shared tables it has none of).
  await client.query(`SET LOCAL search_path TO ${shared}`);
  const { rows: definitions } = await client.query<{ statement: string; kind: string }>(
    `SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.relname, k.conname, pg_get_constraintdef(k.oid)) AS statement, 'constraint' AS kind
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      WHERE k.conrelid = ANY($1::oid[]) AND k.contype = 'f'
     UNION ALL
     SELECT pg_get_triggerdef(g.oid, true), 'trigger' FROM pg_trigger g WHERE g.tgrelid = ANY($1::oid[]) AND NOT g.tgisinternal
     UNION ALL
     SELECT format('CREATE POLICY %I ON %I AS %s FOR %s TO %s%s%s', p.policyname, p.tablename, p.permissive, p.cmd,
                   (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ') FROM unnest(p.roles) AS r),
                   ' USING (' || p.qual || ')', ' WITH CHECK (' || p.with_check || ')'), 'policy'
       FROM pg_policies p
      WHERE p.schemaname = $2 AND p.tablename = ANY($3::text[]) AND p.policyname NOT LIKE 'tenantry\\_%'`,
    [tables.map((table) => table.oid), target.sharedSchema, tables.map((table) => table.name)],
  );
  const run = async (statements: readonly { statement: string; kind: string }[]): Promise<void> => {
    await client.query(`SET LOCAL search_path TO ${schema}, ${shared}`);
    for (const { statement } of statements) await client.query(statement);
    await client.query(`SET LOCAL search_path TO ${shared}`);
  };
  await run(definitions.filter((definition) => definition.kind !== 'trigger'));
  for (const table of tables) {
    const copy = `${schema}.${quoteIdent(table.name)}`;
    await client.query(`SELECT ${shared}.${TENANT_TABLE_FUNCTION}($1::regclass, $2)`, [copy, table.tenantColumn]);
    // The copies are the tenant's own: not listed with the shared tables, and not fenced against it.
    await client.query(`DELETE FROM ${shared}.${TENANT_TABLES_TABLE} WHERE table_oid = $1::regclass`, [copy]);
    await client.query(`DROP POLICY IF EXISTS ${PLACED_POLICY} ON ${copy}`);
  }
  await grantCopies(client, tables, target);
  return { addTriggers: () => run(definitions.filter((definition) => definition.kind === 'trigger')) };
}

/** The shared tables' grants on their copies (not the tenant group's), and with tenant roles the tenant's role's. */
async function grantCopies(client: Queryable, tables: readonly TenantTable[], target: CopyTarget): Promise<void> {
  const schema = quoteIdent(target.schema);
  const { rows } = await client.query<{ name: string; grantee: string | null; privilege: string }>(
    `SELECT c.relname::text AS name, CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee)::text END AS grantee, a.privilege_type AS privilege
       FROM pg_class c, aclexplode(c.relacl) a
      WHERE c.oid = ANY($1::oid[]) AND a.grantee <> c.relowner`,
    [tables.map((table) => table.oid)],
  );
  const groups = new Set(target.roles === undefined ? [] : [target.roles.tenantGroup, target.roles.loginGroup]);
  const statements: string[] = [];
  const grantees = new Set<string>();
  for (const row of rows) {
    if (!PRIVILEGES.has(row.privilege) || (row.grantee !== null && groups.has(row.grantee))) continue;
    const grantee = row.grantee === null ? 'PUBLIC' : quoteIdent(row.grantee);
    grantees.add(grantee);
    statements.push(`GRANT ${row.privilege} ON ${schema}.${quoteIdent(row.name)} TO ${grantee}`);
  }
  if (target.roles !== undefined) {
    const role = quoteIdent(target.roles.roleOf(target.tenantId));
    grantees.add(role);
    statements.push(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  }
  for (const grantee of grantees) statements.unshift(`GRANT USAGE ON SCHEMA ${schema} TO ${grantee}`);
  if (statements.length > 0) await client.query(statements.join(';\n'));
}

/**
 * Copies one tenant's rows of each table from one schema's tables into another's, parents first,
 * in the tenant's scope (its setting, and its role with tenant roles, so the policies check every
 * row as they check the tenant's own writes). Returns the rows copied per table.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * declare const tables: readonly TenantTable[];
 * await copyTenantRows(client, tables, { from: 'public', to: 'tenant_acme', tenantId: 'acme', roles: undefined });
 * ```
 */
export async function copyTenantRows(
  client: Queryable,
  tables: readonly TenantTable[],
  move: { readonly from: string; readonly to: string; readonly tenantId: string; readonly roles: TenantRoleNames | undefined },
): Promise<readonly { readonly table: string; readonly rows: number }[]> {
  const copied: { table: string; rows: number }[] = [];
  await inTenantScope(client, move.tenantId, move.roles, async () => {
    for (const table of tables) {
      const columns = table.columns.map(quoteIdent).join(', ');
      // Into the shared tables, identity columns keep the ids the copies drew from their sequences.
      const overriding = table.identity.length > 0 ? ' OVERRIDING SYSTEM VALUE' : '';
      const { rowCount } = await client.query(
        `INSERT INTO ${quoteIdent(move.to)}.${quoteIdent(table.name)} (${columns})${overriding}
         SELECT ${columns} FROM ${quoteIdent(move.from)}.${quoteIdent(table.name)} WHERE ${quoteIdent(table.tenantColumn)} = $1`,
        [move.tenantId],
      );
      copied.push({ table: table.name, rows: rowCount ?? 0 });
    }
  });
  return copied;
}

/**
 * Deletes one tenant's rows from each of a schema's tables, children first, in the tenant's scope;
 * returns how many per table.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * declare const tables: readonly TenantTable[];
 * await deleteTenantRowsIn(client, tables, { schema: 'public', tenantId: 'acme', roles: undefined });
 * ```
 */
export async function deleteTenantRowsIn(
  client: Queryable,
  tables: readonly TenantTable[],
  target: { readonly schema: string; readonly tenantId: string; readonly roles: TenantRoleNames | undefined },
): Promise<ReadonlyMap<string, number>> {
  const deleted = new Map<string, number>();
  await inTenantScope(client, target.tenantId, target.roles, async () => {
    for (const table of [...tables].reverse()) {
      const { rowCount } = await client.query(`DELETE FROM ${quoteIdent(target.schema)}.${quoteIdent(table.name)} WHERE ${quoteIdent(table.tenantColumn)} = $1`, [target.tenantId]);
      deleted.set(table.name, rowCount ?? 0);
    }
  });
  return deleted;
}

/** Runs `fn` with the tenant's setting (for the transaction) and, with tenant roles, as its role; then back to the caller's role. */
async function inTenantScope(client: Queryable, tenantId: string, roles: TenantRoleNames | undefined, fn: () => Promise<void>): Promise<void> {
  await client.query(`SELECT set_config('${TENANT_SETTING}', $1, true)`, [tenantId]);
  if (roles !== undefined) await client.query(`SET LOCAL ROLE ${quoteIdent(roles.roleOf(tenantId))}`);
  await fn();
  if (roles !== undefined) await client.query('RESET ROLE');
}

/**
 * Locks tables against writes (EXCLUSIVE: reads go on), waiting at most `lockTimeout` ms for
 * the writes in flight, inside the caller's transaction.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await lockAgainstWrites(client, ['"public"."products"'], 30_000);
 * ```
 */
export async function lockAgainstWrites(client: Queryable, qualifiedTables: readonly string[], lockTimeout: number): Promise<void> {
  if (qualifiedTables.length === 0) return;
  await client.query(`SET LOCAL lock_timeout = ${lockTimeout}`);
  await client.query(`LOCK TABLE ${qualifiedTables.join(', ')} IN EXCLUSIVE MODE`);
  await client.query('SET LOCAL lock_timeout = 0');
}
