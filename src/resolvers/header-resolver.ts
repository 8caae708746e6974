/**
 * The tenant is named by a header, e.g. `x-tenant-id: acme`.
 *
 * @module
 */
import { InvalidConfigError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import { headerValue, type TenantResolver } from './resolver.js';

/**
 * Options of {@link headerResolver}.
 *
 * @example
 * ```ts
 * headerResolver({ name: 'x-tenant-id' });
 * ```
 */
export interface HeaderResolverOptions {
  /** The header (default `x-tenant-id`). */
  readonly name?: string;
}

/**
 * Resolves the tenant from a header. Anyone can send any header: pair it with authentication
 * and the adapter's `authorize(request, tenant)` hook. A missing header: no match; a value
 * that is not a valid tenant id: `InvalidTenantIdError` (400).
 *
 * @example
 * ```ts
 * import { tenancyMiddleware } from 'tenantry/express';
 * app.use(tenancyMiddleware(tenancy, {
 *   resolver: headerResolver(),
 *   authorize: (_request, tenant, req) => req.user?.tenantIds.includes(tenant.id) ?? false,
 * }));
 * ```
 */
export function headerResolver(options: HeaderResolverOptions = {}): TenantResolver {
  const name = (options.name ?? 'x-tenant-id').toLowerCase();
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new InvalidConfigError(`Not a valid header name: ${JSON.stringify(options.name)}`);
  return (request) => {
    const value = headerValue(request, name)?.trim();
    if (value === undefined || value === '') return null;
    assertTenantId(value);
    return value;
  };
}
