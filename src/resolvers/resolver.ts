/**
 * What a resolver reads and returns.
 *
 * @module
 */
import type { Tenancy } from '../tenancy.js';

/**
 * A request as the resolvers see it, whatever the framework.
 *
 * @example
 * ```ts
 * const request: TenantRequest = { host: 'acme.example.com', path: '/products', method: 'GET', headers: {} };
 * ```
 */
export interface TenantRequest {
  /**
   * The host the request names, with its port: the Host header, or the host of an absolute-form
   * target (`GET http://acme.example.com/x`), or X-Forwarded-Host when the adapter trusts the proxy.
   */
  readonly host: string | undefined;
  /** The path, without the query string. */
  readonly path: string;
  readonly method: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/**
 * A match: the tenant id, and for a path prefix the path the app should see.
 *
 * @example
 * ```ts
 * const match: TenantMatch = { tenantId: 'acme', path: '/products' };
 * ```
 */
export interface TenantMatch {
  readonly tenantId: string;
  /** The request path with the tenant's prefix removed (path resolvers only). */
  readonly path?: string;
}

/** What resolvers are handed besides the request. */
export interface ResolverContext {
  readonly tenancy: Tenancy;
}

/**
 * Finds the tenant of a request: a tenant id, a match, or `null` when this resolver does not
 * apply. Throw a `TenancyError` (e.g. `InvalidTenantIdError`) for input that is plainly bad.
 *
 * @example
 * ```ts
 * // your own rule in a few lines: the tenant named by a `tenant` cookie
 * const fromCookie: TenantResolver = (request) => {
 *   const cookie = String(request.headers.cookie ?? '');
 *   return /(?:^|;\s*)tenant=([a-z0-9-]+)/.exec(cookie)?.[1] ?? null;
 * };
 * ```
 */
export type TenantResolver = (
  request: TenantRequest,
  context: ResolverContext,
) => string | TenantMatch | null | Promise<string | TenantMatch | null>;

/** The first value of a header, or undefined. */
export function headerValue(request: TenantRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : value?.[0];
}
