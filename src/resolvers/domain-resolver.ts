/**
 * The tenant is whoever registered the request's host as a custom domain.
 *
 * @module
 */
import { parseHost } from '../hosts.js';
import type { TenantResolver } from './resolver.js';

/**
 * Resolves custom domains (`shop.acme.com`) through the registry's domains table, with the
 * tenancy's lookup cache (unknown domains are cached briefly too, so random hosts cannot
 * hammer the database).
 *
 * @example
 * ```ts
 * await tenancy.registry.addDomain('acme', 'shop.acme.com');
 * const resolver = chainResolvers(domainResolver(), subdomainResolver({ baseDomain: 'example.com' }));
 * ```
 */
export function domainResolver(): TenantResolver {
  return async (request, { tenancy }) => {
    if (request.host === undefined) return null;
    const host = parseHost(request.host);
    if (host.ip) return null;
    const tenant = await tenancy.lookupDomain(host.hostname);
    return tenant?.id ?? null;
  };
}
