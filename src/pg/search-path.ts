/**
 * The search_path of a scope.
 *
 * @module
 */
import type { TenantScope } from '../context.js';
import { quoteIdent } from '../identifiers.js';

/**
 * The search_path a scope runs with: the tenant's schema then the shared schema (so shared
 * tables still resolve), or the shared schema alone in the explicit shared scope; then
 * `pg_temp`, named last so that a temporary table left on a pooled connection (by any tenant)
 * never shadows a tenant or shared table (unnamed, PostgreSQL searches pg_temp first). Names are
 * quoted; the result is written into SQL only as a whole quoted list. `scopeSettingOf` computes
 * it once per tenant object.
 *
 * @example
 * ```ts
 * searchPathOf({ kind: 'tenant', tenant: acme }, 'public'); // '"tenant_acme", "public", pg_temp'
 * ```
 */
export function searchPathOf(scope: TenantScope, sharedSchema: string): string {
  if (scope.kind !== 'tenant') return sharedPathOf(sharedSchema);
  return `${quoteIdent(scope.tenant.schema)}, ${quoteIdent(sharedSchema)}, pg_temp`;
}

/** The path of the shared scope for each shared schema name (an app has one or two), computed once. */
const sharedPaths = new Map<string, string>();

/**
 * The search_path of the shared scope: the shared schema, then `pg_temp`.
 *
 * @example
 * ```ts
 * sharedPathOf('public'); // '"public", pg_temp'
 * ```
 */
export function sharedPathOf(sharedSchema: string): string {
  let path = sharedPaths.get(sharedSchema);
  if (path === undefined) {
    path = `${quoteIdent(sharedSchema)}, pg_temp`;
    sharedPaths.set(sharedSchema, path);
  }
  return path;
}

/**
 * The comment `tenantPlugin` (with `qualifiedPath: 'shared'`) ends a statement with once it has
 * qualified every table in it and found no raw SQL. With tenant roles on, tenantPool runs such a
 * statement with the shared search_path (and the tenant's role): what the statement names is
 * already qualified, and the role keeps whatever it names without a schema (a trigger, a
 * function) out of other tenants' schemas. Without tenant roles the mark is ignored.
 *
 * @internal
 * @example
 * ```ts
 * const marked = `select * from "tenant_acme"."products" ${QUALIFIED_MARK}`;
 * ```
 */
export const QUALIFIED_MARK = '/* tenantry: qualified */';

/**
 * Whether two search_path values name the same schemas in the same order, however each is
 * quoted (PostgreSQL reports `SET search_path TO "a", "b"` as `a, b`). A value that cannot be
 * read is never the same as anything.
 *
 * @example
 * ```ts
 * samePath('"tenant_acme", "public"', 'tenant_acme, public'); // true
 * ```
 */
export function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  const left = schemaNames(a);
  const right = schemaNames(b);
  return left !== undefined && right !== undefined && left.length === right.length && left.every((name, i) => name === right[i]);
}

/** The schema names of a search_path value (quoted names unescaped, unquoted ones lower-cased), or `undefined`. */
function schemaNames(value: string): string[] | undefined {
  const names: string[] = [];
  const item = /\s*(?:"((?:[^"]|"")*)"|([^\s",]+))\s*(,|$)/y;
  while (item.lastIndex < value.length) {
    const match = item.exec(value);
    if (match === null) return undefined;
    names.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2]!.toLowerCase());
    if (match[3] === '') return names;
    if (item.lastIndex === value.length) return undefined; // a trailing comma
  }
  return names;
}

/** Names a scope in error messages. */
export function describeScope(scope: TenantScope | undefined): string {
  if (scope === undefined) return 'no tenant';
  return scope.kind === 'tenant' ? `tenant "${scope.tenant.id}"` : 'the shared scope';
}

/** Whether two scopes are the same tenant (or both shared). */
export function sameScope(a: TenantScope, b: TenantScope): boolean {
  if (a.kind === 'shared' || b.kind === 'shared') return a.kind === b.kind;
  return a.tenant.id === b.tenant.id && a.tenant.schema === b.tenant.schema;
}
