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
  const prefix = normalizePrefix(options.prefix);
  return (request) => {
    const split = splitTenantPath(prefix, request.path);
    if (split === null) return null;
    let tenantId: string;
    try {
      tenantId = decodeURIComponent(split.segment);
    } catch {
      tenantId = split.segment;
    }
    assertTenantId(tenantId);
    return { tenantId, path: split.rest };
  };
}

/** Normalises a path prefix option: `/t/` → `/t`, `/` → ``; refuses anything but plain segments. */
export function normalizePrefix(prefix: string | undefined): string {
  const normalized = (prefix ?? '/t').replace(/\/+$/, '');
  if (normalized !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(normalized)) {
    throw new InvalidConfigError(`A path prefix must look like "/t" or "/tenants", got ${JSON.stringify(prefix)}`);
  }
  return normalized;
}

/**
 * Splits `/<prefix>/<segment>/rest` into the tenant segment and the rest (`/` when nothing
 * follows), or `null` when the path is not under the prefix.
 *
 * @example
 * ```ts
 * splitTenantPath('/t', '/t/acme/products'); // { segment: 'acme', rest: '/products' }
 * ```
 */
export function splitTenantPath(prefix: string, path: string): { segment: string; rest: string } | null {
  if (prefix !== '' && !path.startsWith(`${prefix}/`)) return null;
  const after = path.slice(prefix.length + 1);
  if (after === '') return null;
  const slash = after.indexOf('/');
  return slash === -1 ? { segment: after, rest: '/' } : { segment: after.slice(0, slash), rest: after.slice(slash) };
}
