/**
 * `tenantry/fastify`: the Fastify plugin.
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TenancyError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import './fastify-types.js';
import { normalizePrefix, splitTenantPath } from '../resolvers/path-resolver.js';
import { continueBound, emitterBinder } from './bind-emitter.js';
import { isPromise, type MaybePromise } from '../util/maybe-promise.js';
import { type AdapterOptions, type Identified, identifyRequest, withPath } from './identify-request.js';
import { PROBLEM_CONTENT_TYPE, problemHeaders, problemOf } from './problem.js';
import { splitAbsoluteTarget } from './request-target.js';

/**
 * Options of {@link fastifyTenancy}.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * const app = Fastify();
 * await app.register(fastifyTenancy, { tenancy, resolver: headerResolver(), authorize: (req, tenant) => true });
 * ```
 */
export interface FastifyTenancyOptions extends AdapterOptions<FastifyRequest> {
  readonly tenancy: Tenancy;
  /** Answers a refused request yourself (default: an `application/problem+json` body). */
  readonly onRefused?: (error: TenancyError, request: FastifyRequest, reply: FastifyReply) => unknown;
}

const plugin: FastifyPluginAsync<FastifyTenancyOptions> = async (fastify, options) => {
  const { tenancy } = options ?? {};
  if (typeof tenancy?.resolveRequest !== 'function') {
    throw new TypeError(`fastifyTenancy expects the option tenancy (from createTenancy()), instead got a '${typeof tenancy}'`);
  }
  fastify.decorateRequest('tenant', null);

  const optional: FastifyTenancyOptions = { ...options, required: false };
  const bindRequest = emitterBinder(tenancy);
  const sendProblem = (error: TenancyError, reply: FastifyReply): void => {
    if (!reply.sent) reply.code(error.httpStatus).headers(problemHeaders(error)).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemOf(error)));
  };
  const apply = (outcome: Identified, request: FastifyRequest, reply: FastifyReply, done: HookDone): void => {
    if (outcome.kind === 'tenant') {
      request.tenant = outcome.tenant;
      return tenancy.runTenant(outcome.tenant, continueBound, bindRequest, request.raw, done);
    }
    if (outcome.kind === 'shared') return tenancy.runShared(() => continueBound(bindRequest, request.raw, done));
    // Answered here, so the lifecycle does not go on (`done` is not called).
    const custom = options.onRefused?.(outcome.error, request, reply);
    if (isPromise(custom)) custom.then(() => sendProblem(outcome.error, reply), (error: Error) => done(error));
    else sendProblem(outcome.error, reply);
  };

  // One callback hook, so a request for a cached tenant goes on without waiting for a promise, and
  // with no closure made per request. The rest of the lifecycle runs from `done`, inside the
  // tenant's context: at once for a request without a body, and from the raw request's bound
  // `emit` once a body parser has read it (without the binding, the parser's `data`/`end`
  // listeners, and validation, preHandler hooks and the handler after them, would run in the
  // HTTP parser's async context).
  fastify.addHook('onRequest', (request, reply, done) => {
    const mode = request.routeOptions.config?.tenancy;
    if (mode === false) return tenancy.runShared(() => continueBound(bindRequest, request.raw, done));
    let outcome: MaybePromise<Identified>;
    try {
      const { rawHeaders, httpVersionMajor, httpVersionMinor } = request.raw;
      const raw = { method: request.method, headers: request.headers, rawHeaders, httpVersionMajor, httpVersionMinor };
      outcome = identifyRequest(tenancy, raw, request.originalUrl, mode === 'optional' ? optional : options, request);
    } catch (error) {
      return done(error as Error);
    }
    if (isPromise(outcome)) outcome.then((settled) => apply(settled, request, reply, done), (error: Error) => done(error));
    else apply(outcome, request, reply, done);
  });
};

type HookDone = (error?: Error) => void;

/**
 * The Fastify plugin (wrapped with fastify-plugin, so `request.tenant` reaches the whole app):
 * finds each request's tenant in `onRequest`, refuses bad ones before the body is read
 * (invalid id → 400, unknown → 404, suspended → 403, as `application/problem+json`), and runs
 * the rest of the request (later `onRequest` hooks, body parsing, validation, preHandler hooks,
 * the handler, `onSend`, `onResponse`) inside the tenant's context. A route opts out
 * with `config: { tenancy: false }` (public, shared scope) or `config: { tenancy: 'optional' }`.
 * For path prefixes, pair `pathResolver` with {@link tenantRewriteUrl}: Fastify matches routes
 * before any hook runs.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { fastifyTenancy } from 'tenantry/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyTenancy, { tenancy });
 * app.get('/products', async () => (await db.query('select * from products')).rows);
 * app.get('/health', { config: { tenancy: false } }, async () => 'ok');
 * ```
 */
export const fastifyTenancy = fp(plugin, { fastify: '5.x', name: 'tenantry' });

/**
 * A `rewriteUrl` for `Fastify({ rewriteUrl })` that removes a path prefix and the tenant segment
 * after it (`/t/acme/products?x=1` → `/products?x=1`; in absolute form the scheme and host stay:
 * `http://example.com/t/acme/products` → `http://example.com/products`), so routes are written
 * without them. The plugin still resolves the tenant from the original URL with
 * `pathResolver({ prefix })`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * const app = Fastify({ rewriteUrl: tenantRewriteUrl({ prefix: '/t' }) });
 * await app.register(fastifyTenancy, { tenancy, resolver: pathResolver({ prefix: '/t' }) });
 * ```
 */
export function tenantRewriteUrl(options: { readonly prefix?: string } = {}): (request: { url?: string | undefined }) => string {
  const prefix = normalizePrefix(options.prefix);
  return (request) => {
    const url = request.url ?? '/';
    const path = url.charCodeAt(0) === 47 ? url : (splitAbsoluteTarget(url)?.path ?? url);
    const query = path.indexOf('?');
    const split = splitTenantPath(prefix, query === -1 ? path : path.slice(0, query));
    return split === null ? url : withPath(url, split.rest);
  };
}
