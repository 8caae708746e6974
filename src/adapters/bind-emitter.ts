/**
 * Keeps the tenant context in an emitter's listeners.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import type { Tenancy } from '../tenancy.js';

/**
 * Makes every listener of `emitter` run in the scope active now. Body parsers read the request
 * stream and call `next()` from its `data`/`end` listeners, whose async context is the HTTP
 * parser's, not the middleware's: without this the handler after a body parser would see no tenant.
 *
 * @example
 * ```ts
 * tenancy.runTenant(tenant, () => {
 *   bindEmitter(tenancy, req);
 *   next();
 * });
 * ```
 */
export function bindEmitter(tenancy: Tenancy, emitter: EventEmitter): void {
  emitter.emit = tenancy.bind(emitter.emit.bind(emitter)) as EventEmitter['emit'];
}

/**
 * Binds `emitter`'s listeners to the scope active now (see {@link bindEmitter}), then calls
 * `next`: how each adapter goes on with a request inside the scope it entered. Takes its inputs
 * as arguments, so `runTenant` needs no closure per request.
 *
 * @example
 * ```ts
 * tenancy.runTenant(tenant, continueBound, tenancy, req, next);
 * ```
 */
export function continueBound<R>(tenancy: Tenancy, emitter: EventEmitter, next: () => R): R {
  bindEmitter(tenancy, emitter);
  return next();
}
