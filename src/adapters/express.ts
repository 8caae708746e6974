/**
 * `tenantry/express`: the Express middleware.
 *
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TenancyError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import type { Tenant } from '../types.js';
import { continueBound, emitterBinder } from './bind-emitter.js';
import { isPromise, type MaybePromise } from '../util/maybe-promise.js';
import { type AdapterOptions, type Identified, identifyRequest, withPath } from './identify-request.js';
import { PROBLEM_CONTENT_TYPE, problemHeaders, problemOf } from './problem.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's tenant, or `null` in the shared scope (set by tenantry's middleware). */
      tenant?: Tenant | null;
    }
  }
}

/**
 * Options of the Express middleware.
 *
 * @example
 * ```ts
 * tenancyMiddleware(tenancy, { onRefused: (error, req, res) => res.status(error.httpStatus).render('no-tenant') });
 * ```
 */
export interface ExpressTenancyOptions extends AdapterOptions<Request> {
  /** Answers a refused request yourself (default: an `application/problem+json` response). */
  readonly onRefused?: (error: TenancyError, req: Request, res: Response, next: NextFunction) => void;
}

/**
 * Express middleware: finds the request's tenant, sets `req.tenant`, and runs the rest of the
 * request (later middleware, body parsers, handlers, error handlers) inside its context. A path
 * prefix found by `pathResolver` is removed, so routes are written without it. Invalid id → 400,
 * unknown tenant → 404, suspended → 403, as `application/problem+json`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { tenancyMiddleware } from 'tenantry/express';
 *
 * const app = express();
 * app.use(tenancyMiddleware(tenancy));
 * app.get('/products', async (req, res) => res.json((await db.query('select * from products')).rows));
 * ```
 */
export function tenancyMiddleware(tenancy: Tenancy, options: ExpressTenancyOptions = {}): RequestHandler {
  if (typeof tenancy?.resolveRequest !== 'function') {
    throw new TypeError(`tenancyMiddleware expects a tenancy from createTenancy(), instead got a '${typeof tenancy}'`);
  }
  const bindRequest = emitterBinder(tenancy);
  const refuse = (error: TenancyError, req: Request, res: Response, next: NextFunction): void => {
    if (options.onRefused) return options.onRefused(error, req, res, next);
    res.status(error.httpStatus).set(problemHeaders(error)).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemOf(error)));
  };
  const apply = (outcome: Identified, req: Request, res: Response, next: NextFunction): void => {
    if (outcome.kind === 'tenant') {
      req.tenant = outcome.tenant;
      if (outcome.path !== undefined) req.url = withPath(req.url, outcome.path);
      return tenancy.runTenant(outcome.tenant, continueBound, bindRequest, req, next);
    }
    if (outcome.kind === 'refused') return refuse(outcome.error, req, res, next);
    req.tenant = null;
    tenancy.runShared(() => continueBound(bindRequest, req, next));
  };
  // No closure per request on the synchronous path (a cached tenant).
  return (req, res, next) => {
    let outcome: MaybePromise<Identified>;
    try {
      outcome = identifyRequest(tenancy, req, req.url, options, req);
    } catch (error) {
      return next(error);
    }
    if (isPromise(outcome)) outcome.then((settled) => apply(settled, req, res, next), next);
    else apply(outcome, req, res, next);
  };
}
