/**
 * The tenant is the subdomain: `acme.example.com` → `acme`.
 *
 * @module
 */
import { normalizeDomain } from '../domains.js';
import { InvalidConfigError } from '../errors.js';
import { parseHost } from '../hosts.js';
import { assertTenantId } from '../identifiers.js';
import { boundedMemo } from '../util/bounded-memo.js';
import type { TenantResolver } from './resolver.js';

/**
 * Options of {@link subdomainResolver}.
 *
 * @example
 * ```ts
 * subdomainResolver({ baseDomains: ['example.com', 'localhost'], ignore: ['www', 'app', 'api'] });
 * ```
 */
export interface SubdomainResolverOptions {
  /** The domain tenants are subdomains of. */
  readonly baseDomain?: string;
  /** Several base domains (e.g. the production domain and `localhost`). */
  readonly baseDomains?: readonly string[];
  /** Subdomains that are not tenants (default `www`, `app`). */
  readonly ignore?: readonly string[];
}

/**
 * Resolves the tenant from the one label in front of a base domain. The base domain itself, an
 * ignored label, a deeper name (`a.b.example.com`), another domain or an IP address: no match.
 * A label that is not a valid tenant id: `InvalidTenantIdError` (400).
 *
 * @example
 * ```ts
 * const resolver = subdomainResolver({ baseDomain: 'example.com' });
 * // Host: acme.example.com:443 → 'acme'; Host: www.example.com → null
 * ```
 */
export function subdomainResolver(options: SubdomainResolverOptions): TenantResolver {
  // The most specific base first, so `acme.eu.example.com` matches `eu.example.com` before `example.com`.
  const bases = [...(options.baseDomain === undefined ? [] : [options.baseDomain]), ...(options.baseDomains ?? [])]
    .map((domain) => normalizeDomain(domain))
    .sort((a, b) => b.length - a.length);
  if (bases.length === 0) throw new InvalidConfigError('subdomainResolver needs baseDomain or baseDomains');
  const ignore = new Set((options.ignore ?? ['www', 'app']).map((label) => label.toLowerCase()));
  // What each Host header named, so a host is looked at once, not on every request: up to 1,024
  // valid hosts are kept; a host or label that is not valid throws every time.
  const labelOfHost = boundedMemo(1024, labelOf);
  return (request) => (request.host === undefined ? null : labelOfHost(request.host));

  /** The tenant label a Host header names, or null; throws for a host or label that is not valid. */
  function labelOf(value: string): string | null {
    const host = parseHost(value);
    if (host.ip || bases.includes(host.hostname)) return null;
    for (const base of bases) {
      if (!host.hostname.endsWith(`.${base}`)) continue;
      const label = host.hostname.slice(0, -base.length - 1);
      if (label.includes('.') || ignore.has(label)) return null;
      assertTenantId(label);
      return label;
    }
    return null;
  }
}
