/**
 * Keeps the tenant context in a request's event listeners.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import type { TenantScope } from '../context.js';
import type { Tenancy } from '../tenancy.js';
import { runInScope } from '../tenancy-internals.js';

/**
 * Makes an emitter's listeners run in the scope active when it was bound.
 *
 * @example
 * ```ts
 * const bindRequest: BindEmitter = emitterBinder(tenancy);
 * tenancy.runTenant(tenant, () => bindRequest(req));
 * ```
 */
export type BindEmitter = (emitter: EventEmitter) => void;

type Slots = Record<symbol, unknown>;

/** One binder per tenancy, so that every adapter of a tenancy (nested apps) shares its slots. */
const binders = new WeakMap<Tenancy, BindEmitter>();

/**
 * The function that binds a request's listeners to the scope active when it is called (one per
 * tenancy). Body parsers read the request stream and call `next()` from its `data`/`end`
 * listeners, whose async context is the HTTP parser's, not the middleware's: without the binding
 * the handler after a body parser would see no tenant.
 *
 * Binding stores the scope on the emitter and gives it an `emit` made once per tenancy: no
 * closure per request. An event emitted where the scope is already active (as most of a request's
 * own events are), or one with no listener, is emitted directly; any other runs in the scope.
 * Bound again by the same tenancy (nested apps), the emitter takes the newer scope; bound by two
 * tenancies, each puts its own scope in its own context around the listeners.
 *
 * @example
 * ```ts
 * const bindRequest = emitterBinder(tenancy); // once
 * tenancy.runTenant(tenant, () => {
 *   bindRequest(req); // per request
 *   next();
 * });
 * ```
 */
export function emitterBinder(tenancy: Tenancy): BindEmitter {
  let binder = binders.get(tenancy);
  if (binder === undefined) {
    binder = newBinder(tenancy);
    binders.set(tenancy, binder);
  }
  return binder;
}

function newBinder(tenancy: Tenancy): BindEmitter {
  const run = runInScope.get(tenancy);
  if (run === undefined) {
    // A tenancy of another copy of tenantry: its public `bind`, one closure per request.
    return (emitter) => {
      emitter.emit = tenancy.bind(emitter.emit.bind(emitter)) as EventEmitter['emit'];
    };
  }
  // Slots of this binder's own: another binder's `emit` never reads them, so two never call each other in a loop.
  const scopeSlot = Symbol('tenantry.scope');
  const innerSlot = Symbol('tenantry.emit');
  function emit(this: EventEmitter & Slots, ...args: Parameters<EventEmitter['emit']>): boolean {
    const scope = this[scopeSlot] as TenantScope | undefined;
    const inner = this[innerSlot] as EventEmitter['emit'];
    // Already in the scope, or no listener to run in it: no context switch (each one allocates).
    if (tenancy.scope() === scope || this.listenerCount(args[0]) === 0) return Reflect.apply(inner, this, args);
    return run!(scope, Reflect.apply, inner, this, args);
  }
  return (emitter) => {
    const slots = emitter as EventEmitter & Slots;
    slots[scopeSlot] = tenancy.scope();
    if (slots[innerSlot] !== undefined) return; // bound before: the newer scope is all that changes
    slots[innerSlot] = emitter.emit;
    emitter.emit = emit;
  };
}

/**
 * Binds `emitter`'s listeners to the scope active now (see {@link emitterBinder}), then calls
 * `next`: how each adapter goes on with a request inside the scope it entered. Takes its inputs
 * as arguments, so `runTenant` needs no closure per request.
 *
 * @example
 * ```ts
 * declare const bindRequest: BindEmitter; // emitterBinder(tenancy), once per app
 * tenancy.runTenant(tenant, continueBound, bindRequest, req, next);
 * ```
 */
export function continueBound<R>(bind: BindEmitter, emitter: EventEmitter, next: () => R): R {
  bind(emitter);
  return next();
}
