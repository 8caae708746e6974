/**
 * `tenantPlugin`: a Kysely plugin that writes the active tenant's schema into every query.
 *
 * @module
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { InvalidConfigError, NoTenantError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import { TenantTransformer } from './tenant-transformer.js';

/**
 * Options of {@link tenantPlugin}.
 *
 * @example
 * ```ts
 * tenantPlugin(tenancy, { sharedTables: ['plans', 'tenantry_tenants'] });
 * ```
 */
export interface TenantPluginOptions {
  /** Tables that live in the shared schema: never qualified with a tenant's schema. */
  readonly sharedTables?: readonly string[];
}

/**
 * A Kysely plugin that qualifies every reference to a tenant table with the active tenant's
 * schema when the query runs: selects, joins, subqueries, CTE bodies (not CTE names), inserts,
 * updates, deletes, `returning`, `on conflict`, aliases, `with recursive`. Shared tables, and
 * tables the query already qualifies, are left alone. A query that names a tenant table with no
 * tenant active throws `NoTenantError`; one that names only shared tables runs anywhere.
 *
 * Raw `sql` fragments are not rewritten: run Kysely over `tenantPool` too, whose search_path
 * covers them.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import { tenantPool } from 'tenantry/pg';
 * import { tenantPlugin } from 'tenantry/kysely';
 *
 * const db = new Kysely<Database>({
 *   dialect: new PostgresDialect({ pool: tenantPool(tenancy, pool) }),
 *   plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
 * });
 * await tenancy.run('acme', () => db.selectFrom('products').selectAll().execute());
 * // select * from "tenant_acme"."products"
 * ```
 */
export function tenantPlugin(tenancy: Tenancy, options: TenantPluginOptions = {}): KyselyPlugin {
  if (typeof tenancy?.scope !== 'function') {
    throw new InvalidConfigError(`tenantPlugin expects a tenancy from createTenancy(), instead got a '${typeof tenancy}'`);
  }
  const shared = new Set(options.sharedTables ?? []);
  const schemaOfScope = (): string => {
    const scope = tenancy.scope();
    if (scope?.kind !== 'tenant') throw new NoTenantError('A Kysely query of a tenant table');
    return scope.tenant.schema;
  };
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      let schema: string | undefined;
      const transformer = new TenantTransformer(() => (schema ??= schemaOfScope()), shared);
      return transformer.transformNode(args.node, args.queryId);
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result;
    },
  };
}
