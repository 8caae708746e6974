/**
 * The search_path of a scope.
 *
 * @module
 */
import type { TenantScope } from '../context.js';
import { quoteIdent } from '../identifiers.js';

/**
 * The search_path a scope runs with: the tenant's schema then the shared schema (so shared
 * tables still resolve), or the shared schema alone in the explicit shared scope. Names are
 * quoted; the result is written into SQL only as a whole quoted list.
 *
 * @example
 * ```ts
 * searchPathOf({ kind: 'tenant', tenant: acme }, 'public'); // '"tenant_acme", "public"'
 * ```
 */
export function searchPathOf(scope: TenantScope, sharedSchema: string): string {
  return scope.kind === 'tenant'
    ? `${quoteIdent(scope.tenant.schema)}, ${quoteIdent(sharedSchema)}`
    : quoteIdent(sharedSchema);
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
