/**
 * What the HTTP layers work out about a request, the same way on every framework.
 *
 * @module
 */
import { parseHost, type Tenant } from '../../../src/index.js';
import { queryValue } from '../domain/validate.js';
import { type Inventory, PATH_PREFIX } from '../inventory.js';

/**
 * `/t/acme` when the request reached its business through the path prefix (the adapter routed
 * it without the prefix), `` otherwise. Links, redirects and the cookie's Path start with it.
 *
 * @example
 * ```ts
 * basePathOf('/t/acme/products?q=x', '/products?q=x', acme); // '/t/acme'
 * basePathOf('/products', '/products', acme);                 // ''
 * ```
 */
export function basePathOf(originalUrl: string, routedUrl: string, tenant: Tenant | null): string {
  if (tenant === null || pathOf(originalUrl) === pathOf(routedUrl)) return '';
  return `${PATH_PREFIX}/${tenant.id}`;
}

/**
 * Whether a state-changing request comes from a page of this same host. Browsers send
 * `Origin` with every POST; a request without one (curl, a server) is not a cross-site
 * forgery. `Origin: null` (sandboxed frames, some redirects) is refused.
 *
 * @example
 * ```ts
 * sameOrigin({ origin: 'http://evil.test', host: 'acme.localhost:3000' }); // false
 * ```
 */
export function sameOrigin(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const origin = first(headers.origin);
  if (origin === undefined) return true;
  const host = first(headers.host)?.toLowerCase();
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Where a business lives, seen from a request to the platform: its subdomain when the request
 * came to the platform's own host name (`localhost:3000` → `http://acme.localhost:3000/`), its
 * path otherwise (`127.0.0.1:3000` → `/t/acme/`). Only the configured base domain and the
 * request's port go into the URL, so a forged Host header cannot redirect anyone elsewhere.
 *
 * @example
 * ```ts
 * businessUrl(inventory, 'localhost:3000', 'acme', '/login'); // 'http://acme.localhost:3000/login'
 * ```
 */
export function businessUrl(inventory: Inventory, host: string | undefined, businessId: string, path = '/'): string {
  const parsed = host === undefined ? undefined : tryParseHost(host);
  if (parsed !== undefined && !parsed.ip && parsed.hostname === inventory.baseDomain) {
    const port = /:([0-9]{1,5})$/.exec(host!)?.[1];
    const scheme = inventory.secureCookies ? 'https' : 'http';
    return `${scheme}://${businessId}.${inventory.baseDomain}${port === undefined ? '' : `:${port}`}${path}`;
  }
  return `${PATH_PREFIX}/${businessId}${path}`;
}

/**
 * The platform's home page, seen from any request: `http://localhost:3000/` from
 * `ghost.localhost:3000`, `/` from the platform's own host or an IP address.
 *
 * @example
 * ```ts
 * platformUrl(inventory, 'ghost.localhost:3000'); // 'http://localhost:3000/'
 * ```
 */
export function platformUrl(inventory: Inventory, host: string | undefined): string {
  const parsed = host === undefined ? undefined : tryParseHost(host);
  if (parsed === undefined || parsed.ip || !parsed.hostname.endsWith(`.${inventory.baseDomain}`)) return '/';
  const port = /:([0-9]{1,5})$/.exec(host!)?.[1];
  return `${inventory.secureCookies ? 'https' : 'http'}://${inventory.baseDomain}${port === undefined ? '' : `:${port}`}/`;
}

/**
 * The query of another page of a product list: the request's filter and limit, and `after`
 * (none: the first page).
 *
 * @example
 * ```ts
 * pageQuery({ q: 'anvil', limit: '2', after: 'A' }, 'ACME-B'); // 'q=anvil&limit=2&after=ACME-B'
 * pageQuery({ q: 'anvil', limit: '2', after: 'A' });           // 'q=anvil&limit=2'
 * ```
 */
export function pageQuery(query: Readonly<Record<string, unknown>>, after?: string): string {
  const params = new URLSearchParams();
  for (const key of ['q', 'categoryId', 'lowStock', 'limit']) {
    const value = queryValue(query, key);
    if (value !== undefined && value !== '') params.set(key, value);
  }
  if (after !== undefined) params.set('after', after);
  return params.toString();
}

/** The first value of a header. */
export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function tryParseHost(host: string): ReturnType<typeof parseHost> | undefined {
  try {
    return parseHost(host);
  } catch {
    return undefined;
  }
}
