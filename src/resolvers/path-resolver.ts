/**
 * The tenant is the path segment after a prefix: `/t/acme/products` → `acme`, and the app sees `/products`.
 *
 * @module
 */
import { InvalidConfigError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { TenantResolver } from './resolver.js';

/**
 * Options of {@link pathResolver}.
 *
 * @example
 * ```ts
 * pathResolver({ prefix: '/t' });
 * ```
 */
export interface PathResolverOptions {
  /** The segment(s) before the tenant id (default `/t`); `/` for `/acme/products`. */
  readonly prefix?: string;
}

/**
 * Resolves `/<prefix>/<tenant>/rest` to the tenant, and tells the adapter to route the request
 * as `/rest` (`/` when nothing follows). A path outside the prefix: no match; a tenant segment
 * that is not a valid id: `InvalidTenantIdError` (400).
 *
 * @example
 * ```ts
 * const resolver = pathResolver({ prefix: '/t' });
 * // GET /t/acme/products?page=2 → { tenantId: 'acme', path: '/products' } (the adapter keeps the query string)
 * ```
 */
export function pathResolver(options: PathResolverOptions = {}): TenantResolver {
  const prefix = (options.prefix ?? '/t').replace(/\/+$/, '');
  if (prefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    throw new InvalidConfigError(`pathResolver prefix must look like "/t" or "/tenants", got ${JSON.stringify(options.prefix)}`);
  }
  return (request) => {
    const path = request.path;
    if (prefix !== '' && path !== prefix && !path.startsWith(`${prefix}/`)) return null;
    const rest = path.slice(prefix.length + 1);
    if (rest === '') return null;
    const slash = rest.indexOf('/');
    const segment = slash === -1 ? rest : rest.slice(0, slash);
    let tenantId: string;
    try {
      tenantId = decodeURIComponent(segment);
    } catch {
      tenantId = segment;
    }
    assertTenantId(tenantId);
    return { tenantId, path: slash === -1 ? '/' : rest.slice(slash) };
  };
}
