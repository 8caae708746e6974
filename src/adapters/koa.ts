/**
 * `tenantry/koa`: the Koa middleware.
 *
 * @module
 */
import type { Context, Middleware, Next } from 'koa';
import type { TenancyError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import { isPromise } from '../util/maybe-promise.js';
import { continueBound, emitterBinder } from './bind-emitter.js';
import { type AdapterOptions, type Identified, identifyRequest } from './identify-request.js';
import { PROBLEM_CONTENT_TYPE, problemHeaders, problemOf } from './problem.js';

/**
 * Options of the Koa middleware.
 *
 * @example
 * ```ts
 * tenancyMiddleware(tenancy, { required: false });
 * ```
 */
export interface KoaTenancyOptions extends AdapterOptions<Context> {
  /** Answers a refused request yourself (default: an `application/problem+json` body). */
  readonly onRefused?: (error: TenancyError, ctx: Context) => void | Promise<void>;
}

/**
 * Koa middleware: finds the request's tenant, sets `ctx.state.tenant` (`null` in the shared
 * scope), and runs the downstream middleware inside its context. A path prefix found by
 * `pathResolver` is removed from `ctx.path`. Invalid id → 400, unknown → 404, suspended → 403,
 * as `application/problem+json`.
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { tenancyMiddleware } from 'tenantry/koa';
 *
 * const app = new Koa();
 * app.use(tenancyMiddleware(tenancy));
 * app.use(async (ctx) => { ctx.body = (await db.query('select * from products')).rows; });
 * ```
 */
export function tenancyMiddleware(tenancy: Tenancy, options: KoaTenancyOptions = {}): Middleware {
  if (typeof tenancy?.resolveRequest !== 'function') {
    throw new TypeError(`tenancyMiddleware expects a tenancy from createTenancy(), instead got a '${typeof tenancy}'`);
  }
  const bindRequest = emitterBinder(tenancy);
  const apply = (outcome: Identified, ctx: Context, next: Next): unknown => {
    if (outcome.kind === 'refused') {
      if (options.onRefused) return options.onRefused(outcome.error, ctx);
      ctx.status = outcome.error.httpStatus;
      ctx.set(problemHeaders(outcome.error));
      ctx.type = `${PROBLEM_CONTENT_TYPE}; charset=utf-8`;
      ctx.body = JSON.stringify(problemOf(outcome.error));
      return undefined;
    }
    if (outcome.kind === 'shared') {
      ctx.state.tenant = null;
      return tenancy.runShared(() => continueBound(bindRequest, ctx.req, next));
    }
    ctx.state.tenant = outcome.tenant;
    if (outcome.path !== undefined) ctx.path = outcome.path;
    return tenancy.runTenant(outcome.tenant, continueBound, bindRequest, ctx.req, next);
  };
  // Not an async function: a request for a cached tenant goes on with no promise of its own
  // (koa-compose turns what a middleware returns, or throws, into one).
  return (ctx: Context, next: Next) => {
    const outcome = identifyRequest(tenancy, ctx.req, ctx.req.url, options, ctx);
    return isPromise(outcome) ? outcome.then((settled) => apply(settled, ctx, next)) : apply(outcome, ctx, next);
  };
}
