/**
 * `tenantPlugin`: a Kysely plugin that writes the active tenant's schema into every query.
 *
 * @module
 */
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  RawNode,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { InvalidConfigError, NoTenantError } from '../errors.js';
import { QUALIFIED_MARK } from '../pg/search-path.js';
import type { Tenancy } from '../tenancy.js';
import { TemporaryTables } from './temporary-tables.js';
import { type TableRules, TenantTransformer } from './tenant-transformer.js';

/**
 * Options of {@link tenantPlugin}. A name may be in one list only.
 *
 * @example
 * ```ts
 * tenantPlugin(tenancy, {
 *   sharedTables: ['plans', 'tenantry_tenants'],
 *   temporaryTables: ['import_rows'], // created with raw SQL: always pg_temp.import_rows
 *   searchPathTables: ['app_migration_lock'], // a Migrator's migrationLockTableName
 * });
 * ```
 */
export interface TenantPluginOptions {
  /** Tables that live in the shared schema: never qualified with a tenant's schema. */
  readonly sharedTables?: readonly string[];
  /**
   * Temporary tables created some other way than the schema builder's `temporary()` (raw SQL,
   * another run): always named `pg_temp.<name>`. Tables created with `temporary()` need no
   * listing: the run that created one knows it.
   */
  readonly temporaryTables?: readonly string[];
  /**
   * Tables that are neither the tenant's nor shared: never qualified by this plugin, so a
   * schema written after it (by a `WithSchemaPlugin` added with `withPlugin`, as Kysely's
   * `Migrator` adds one for `migrationTableSchema`) decides where they are, else the
   * connection's search_path. A statement naming one unqualified is never marked for the shared
   * search_path. Kysely's Migrator tables (`kysely_migration`, `kysely_migration_lock`) are
   * always included, unless listed in `sharedTables` or `temporaryTables`; add the names you
   * give its `migrationTableName` and `migrationLockTableName`.
   */
  readonly searchPathTables?: readonly string[];
  /**
   * The search_path tenantPool gives a statement in which this plugin qualified every table and
   * found no raw SQL:
   *
   * - `'tenant'` (default): the tenant's schema, then the shared schema, as for any other
   *   statement. Functions, types and trigger bodies named without a schema resolve in the
   *   tenant's schema. A connection that last served another tenant switches its path (in the
   *   statement's own round trip, but the server does the work).
   * - `'shared'`: the shared schema alone, which such a statement needs, whatever tenant it is
   *   for: a connection serving many tenants in turn switches its path only around raw SQL. The
   *   statement ends with a comment that tells tenantPool so. The price: a function, type or
   *   trigger body of the tenant's schema that names things without a schema does not find them
   *   (PostgreSQL reports them missing, or finds the shared schema's namesake), as with Kysely's
   *   `withSchema` on a plain pool. Put this plugin last among Kysely's plugins.
   */
  readonly qualifiedPath?: 'tenant' | 'shared';
}

/** The statements a trailing comment can end: the ones Kysely gives `endModifiers`. */
const MARKABLE = new Set(['SelectQueryNode', 'InsertQueryNode', 'UpdateQueryNode', 'DeleteQueryNode', 'MergeQueryNode']);

const QUALIFIED = RawNode.createWithSql(QUALIFIED_MARK);

/** Ends a statement with the comment that asks tenantPool for the shared search_path. */
function markQualified(node: RootOperationNode): RootOperationNode {
  if (!MARKABLE.has(node.kind)) return node;
  const marked = node as RootOperationNode & { readonly endModifiers?: readonly unknown[] };
  return { ...marked, endModifiers: [...(marked.endModifiers ?? []), QUALIFIED] } as RootOperationNode;
}

/** Refuses a name given to two lists of table kinds: it would be one kind or the other by accident. */
function checkLists(lists: Readonly<Record<string, readonly string[] | undefined>>): void {
  const seen = new Map<string, string>();
  for (const [option, names] of Object.entries(lists)) {
    for (const name of names ?? []) {
      const first = seen.get(name);
      if (first !== undefined && first !== option) {
        throw new InvalidConfigError(`tenantPlugin got ${JSON.stringify(name)} in both ${first} and ${option}; a table is one or the other`);
      }
      seen.set(name, option);
    }
  }
}

/**
 * A Kysely plugin that qualifies every reference to a tenant table with the active tenant's
 * schema when the query runs: selects, joins, subqueries, CTE bodies (not CTE names), inserts,
 * updates, deletes, `returning`, `on conflict`, aliases, `with recursive`. Shared tables,
 * search-path tables, and tables the query (or `withSchema`) already qualifies, are left alone.
 * A temporary table is created as written and named `pg_temp.<name>` for the rest of the run
 * that created it. A query that names a tenant table with no tenant active throws
 * `NoTenantError`; one that names no tenant table runs anywhere.
 *
 * Raw `sql` fragments are not rewritten: run Kysely over `tenantPool` too, whose search_path
 * covers them. Put this plugin last: a plugin sees the query as the plugins before it left it,
 * and cannot know what a plugin after it will do (`withSchema` runs before every plugin; a
 * `WithSchemaPlugin` added with `withPlugin` runs after this one, so list the tables it is for
 * in `searchPathTables`).
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import { tenantPool } from 'tenantry/pg';
 * import { tenantPlugin } from 'tenantry/kysely';
 *
 * interface Database { products: { id: number; name: string }; totals: { month: string; sum: number } }
 * const db = new Kysely<Database>({
 *   dialect: new PostgresDialect({ pool: tenantPool(tenancy, pool) }),
 *   plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
 * });
 * await tenancy.run('acme', () => db.selectFrom('products').selectAll().execute());
 * // select * from "tenant_acme"."products"
 *
 * await tenancy.run('acme', () => db.withSchema('reports').selectFrom('totals').selectAll().execute());
 * // select * from "reports"."totals": an explicit schema stays
 *
 * // One pool serving many tenants in turn: built statements need no search_path change.
 * tenantPlugin(tenancy, { sharedTables: ['plans'], qualifiedPath: 'shared' });
 * // select * from "tenant_acme"."products", then the comment `tenantry: qualified`
 * ```
 */
export function tenantPlugin(tenancy: Tenancy, options: TenantPluginOptions = {}): KyselyPlugin {
  if (typeof tenancy?.scope !== 'function') {
    throw new InvalidConfigError(`tenantPlugin expects a tenancy from createTenancy(), instead got a '${typeof tenancy}'`);
  }
  checkLists({ sharedTables: options.sharedTables, temporaryTables: options.temporaryTables, searchPathTables: options.searchPathTables });
  const shared = new Set(options.sharedTables ?? []);
  const temporaryNames = new Set(options.temporaryTables ?? []);
  const migratorTables = [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE].filter((name) => !shared.has(name) && !temporaryNames.has(name));
  const searchPath = new Set([...migratorTables, ...(options.searchPathTables ?? [])]);
  const temporary = new TemporaryTables(temporaryNames);
  const qualifiedPath = options.qualifiedPath ?? 'tenant';
  if (qualifiedPath !== 'tenant' && qualifiedPath !== 'shared') {
    throw new InvalidConfigError(`tenantPlugin qualifiedPath must be 'tenant' or 'shared', got ${JSON.stringify(qualifiedPath)}`);
  }
  const rules: TableRules = {
    scope: () => tenancy.scope(),
    schemaOf: (scope) => {
      if (scope?.kind !== 'tenant') throw new NoTenantError('A Kysely query of a tenant table');
      return scope.tenant.schema;
    },
    shared,
    searchPath,
    temporary,
  };
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      // Row-level tenants share the tables: the policies filter them, nothing is qualified.
      if (tenancy.strategy === 'rls') return args.node;
      const transformer = new TenantTransformer(rules);
      const node = transformer.transformNode(args.node, args.queryId);
      if (transformer.changedTemporary) temporary.remember(transformer.scope, transformer.createdTemporary, transformer.droppedTemporary);
      return qualifiedPath === 'shared' && !transformer.needsTenantPath ? markQualified(node) : node;
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result;
    },
  };
}
