/**
 * What every HTTP adapter does with a request: find its tenant, or decide how to refuse it.
 *
 * @module
 */
import { type RequestResolvedEvent, requestResolvedChannel } from '../diagnostics.js';
import { isTenancyError, type TenancyError, TenantForbiddenError, TenantRequiredError, TenantMovingError, TenantSuspendedError } from '../errors.js';
import type { TenantRequest, TenantResolver } from '../resolvers/resolver.js';
import type { RequestTenant, Tenancy } from '../tenancy.js';
import { resolveRequestNow } from '../tenancy-internals.js';
import { andThen, isPromise, type MaybePromise } from '../util/maybe-promise.js';
import type { Tenant } from '../types.js';
import { type HostHeaderSource, hostHeader } from './host-header.js';
import { absoluteTargetHost, splitAbsoluteTarget } from './request-target.js';

/**
 * Options every adapter takes.
 *
 * @example
 * ```ts
 * import { tenancyMiddleware } from 'tenantry/express';
 * app.use(tenancyMiddleware(tenancy, {
 *   resolver: chainResolvers(subdomainResolver({ baseDomain: 'example.com' }), pathResolver({ prefix: '/t' })),
 *   required: false,       // the main domain serves public pages in the shared scope
 *   trustProxy: true,      // behind a proxy that sets X-Forwarded-Host
 * }));
 * ```
 */
export interface AdapterOptions<Native = unknown> {
  /** How requests name their tenant (default: the tenancy's `resolver`). */
  readonly resolver?: TenantResolver;
  /**
   * `true` (default): a request that names no tenant is refused with 404. `false`: it runs in
   * the explicit shared scope (`tenancy.runShared`), with `tenant` set to `null`.
   */
  readonly required?: boolean;
  /**
   * Read the host from `X-Forwarded-Host` (set by your proxy): it wins over the Host header and
   * over the host of an absolute-form target. Leave off unless a proxy sets it.
   */
  readonly trustProxy?: boolean;
  /**
   * Decides whether this request may use the tenant it named (for header resolvers, check it
   * against the authenticated user). `false` → 403.
   */
  readonly authorize?: (request: TenantRequest, tenant: Tenant, native: Native) => boolean | Promise<boolean>;
  /** What a suspended tenant gets: `'forbid'` (default, 403) or `'allow'` (the app decides, `tenant.status` tells). */
  readonly suspended?: 'forbid' | 'allow';
}

/** The outcome of identifying a request. */
export type Identified =
  | { readonly kind: 'tenant'; readonly tenant: Tenant; readonly path?: string }
  | { readonly kind: 'shared' }
  | { readonly kind: 'refused'; readonly error: TenancyError };

/**
 * Resolves a request's tenant and applies the adapter options. Bad input (a bad host, target or
 * id), unknown, suspended or unauthorised tenants become `refused` with a typed error (4xx);
 * anything else (the database is down) is thrown, for the framework's own error handling.
 *
 * @example
 * ```ts
 * const outcome = await identifyRequest(tenancy, req, req.url, { required: false }, req);
 * ```
 *
 * `url` is the request-target as the framework received it (Fastify's `request.originalUrl`,
 * before `rewriteUrl`). The answer is synchronous when it can be (the resolver answers
 * synchronously, the tenant is cached, `authorize` returns a boolean), so a request for a known
 * tenant waits on no promise.
 */
export function identifyRequest<Native>(
  tenancy: Tenancy,
  raw: NodeRequestFields,
  url: string | undefined,
  options: AdapterOptions<Native>,
  native: Native,
): MaybePromise<Identified> {
  const outcome = identifyNow(tenancy, raw, url, options, native);
  if (!requestResolvedChannel.hasSubscribers) return outcome;
  return andThen(outcome, (settled) => {
    requestResolvedChannel.publish(resolvedEvent(settled, raw, url));
    return settled;
  });
}

function resolvedEvent(outcome: Identified, raw: NodeRequestFields, url: string | undefined): RequestResolvedEvent {
  const host = raw.headers.host;
  const where = { host: typeof host === 'string' ? host : undefined, path: url };
  if (outcome.kind === 'tenant') return { outcome: 'tenant', tenantId: outcome.tenant.id, ...where };
  if (outcome.kind === 'shared') return { outcome: 'shared', tenantId: null, ...where };
  return { outcome: 'refused', tenantId: null, status: outcome.error.httpStatus, code: outcome.error.code, ...where };
}

function identifyNow<Native>(
  tenancy: Tenancy,
  raw: NodeRequestFields,
  url: string | undefined,
  options: AdapterOptions<Native>,
  native: Native,
): MaybePromise<Identified> {
  try {
    const request = tenantRequestOf(raw, url, options.trustProxy === true);
    const resolve = resolveRequestNow.get(tenancy) ?? ((req, resolver) => tenancy.resolveRequest(req, resolver));
    const found = resolve(request, options.resolver);
    if (!isPromise(found)) {
      const outcome = decide(found, request, options, native);
      return isPromise(outcome) ? outcome.catch(refusal) : outcome;
    }
    return found.then((settled) => decide(settled, request, options, native)).catch(refusal);
  } catch (error) {
    return refusal(error);
  }
}

function decide<Native>(found: RequestTenant | null, request: TenantRequest, options: AdapterOptions<Native>, native: Native): MaybePromise<Identified> {
  if (found === null) {
    return options.required === false ? { kind: 'shared' } : { kind: 'refused', error: new TenantRequiredError() };
  }
  const { tenant } = found;
  if (tenant.status === 'suspended' && options.suspended !== 'allow') {
    return { kind: 'refused', error: new TenantSuspendedError(tenant.id) };
  }
  if (tenant.status === 'moving' && !READS.has(request.method.toUpperCase())) {
    return { kind: 'refused', error: new TenantMovingError(tenant.id) };
  }
  const accepted: Identified = found.path === undefined ? { kind: 'tenant', tenant } : { kind: 'tenant', tenant, path: found.path };
  if (options.authorize === undefined) return accepted;
  return andThen(options.authorize(request, tenant, native), (allowed) =>
    allowed ? accepted : { kind: 'refused', error: new TenantForbiddenError(tenant.id) },
  );
}

/** Methods that only read: a moving tenant still serves them. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Bad input, unknown, suspended or unauthorised tenants are refusals (4xx), as are a moving tenant's writes (503); anything else is thrown on. */
function refusal(error: unknown): Identified {
  if (isTenancyError(error) && ((error.httpStatus >= 400 && error.httpStatus < 500) || error.code === 'TENANTRY_TENANT_MOVING')) return { kind: 'refused', error };
  throw error;
}

/**
 * The fields of a Node request (`http.IncomingMessage`) the adapters read.
 *
 * @example
 * ```ts
 * const fields: NodeRequestFields = req;
 * ```
 */
export interface NodeRequestFields extends HostHeaderSource {
  readonly method?: string | undefined;
}

/**
 * Builds the framework-neutral request from Node's request fields and its request-target. The
 * host is, in order: the first `X-Forwarded-Host` value when the proxy is trusted, the authority
 * of a target in absolute form (`GET http://globex.example.com/x`, RFC 9112 §3.2.2), the one
 * Host header. The path is the target's, without the query. Throws `InvalidDomainError`
 * (HTTP 400) for two Host headers, none on HTTP/1.1, or an absolute-form target whose authority
 * is not a host with an optional port.
 *
 * @example
 * ```ts
 * tenantRequestOf(req, 'http://globex.example.com/x?q=1', false);
 * // { host: 'globex.example.com', path: '/x', method: 'GET', headers: req.headers }
 * ```
 */
export function tenantRequestOf(raw: NodeRequestFields, url: string | undefined, trustProxy: boolean): TenantRequest {
  const header = hostHeader(raw);
  const forwarded = trustProxy ? firstForwarded(raw.headers['x-forwarded-host']) : undefined;
  const target = url ?? '/';
  const method = raw.method ?? 'GET';
  // Origin form (`/x`, nearly every request) is not split: nothing is allocated but the result.
  const absolute = target.charCodeAt(0) === 47 ? null : splitAbsoluteTarget(target);
  if (absolute === null) return { host: forwarded ?? header, path: withoutQuery(target), method, headers: raw.headers };
  const host = absoluteTargetHost(absolute, target);
  return { host: forwarded ?? host, path: absolute.path, method, headers: raw.headers };
}

/**
 * Replaces the path of a request-target and keeps its query string, and in absolute form its
 * scheme and authority: `/t/acme/products?page=2` → `/products?page=2`,
 * `http://example.com/t/acme/products` → `http://example.com/products`.
 *
 * @example
 * ```ts
 * withPath('/t/acme/products?page=2', '/products');  // '/products?page=2'
 * withPath('http://example.com/t/acme?page=2', '/'); // 'http://example.com/?page=2'
 * ```
 */
export function withPath(url: string, path: string): string {
  const absolute = url.charCodeAt(0) === 47 ? null : splitAbsoluteTarget(url);
  if (absolute !== null) return absolute.origin + path + absolute.query;
  const query = url.indexOf('?');
  return query === -1 ? path : path + url.slice(query);
}

/** The path of an origin-form target: up to its query, or a fragment a raw client sent (no target has one, RFC 9112 §3.2). */
function withoutQuery(target: string): string {
  for (let i = 0; i < target.length; i += 1) {
    const code = target.charCodeAt(i);
    if (code === 63 || code === 35) return target.slice(0, i);
  }
  return target;
}

function firstForwarded(value: string | readonly string[] | undefined): string | undefined {
  const first = (typeof value === 'string' ? value : value?.[0])?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}
