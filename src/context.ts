/**
 * The tenant context: an AsyncLocalStorage owned by one `tenancy` instance, so every
 * entry point (ESM or CJS, or a second installed copy) that is handed the instance sees
 * the same context.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ScopeEnteredEvent, scopeEnteredChannel } from './diagnostics.js';
import { NoTenantError } from './errors.js';
import type { Tenant } from './types.js';

/**
 * What the code below a `run` call is scoped to: one tenant, or the shared schema on purpose.
 *
 * @example
 * ```ts
 * const scope = tenancy.scope();
 * if (scope?.kind === 'tenant') console.log(scope.tenant.schema);
 * ```
 */
export type TenantScope = { readonly kind: 'tenant'; readonly tenant: Tenant } | { readonly kind: 'shared' };

const sharedScope: TenantScope = Object.freeze({ kind: 'shared' });

/**
 * The AsyncLocalStorage-backed tenant context. `createTenancy()` makes one; use it through
 * the `tenancy` instance (`tenancy.run`, `tenancy.current`, …).
 *
 * @example
 * ```ts
 * const context = new TenantContext();
 * context.runWith(acme, () => context.current()); // acme
 * ```
 */
export class TenantContext {
  readonly #storage = new AsyncLocalStorage<TenantScope>();

  /** Runs `fn` with `tenant` active; the outer scope comes back when `fn` returns or settles. */
  runWith<A extends unknown[], R>(tenant: Tenant, fn: (...args: A) => R, ...args: A): R {
    if (scopeEnteredChannel.hasSubscribers) scopeEnteredChannel.publish({ tenant } satisfies ScopeEnteredEvent);
    return this.#storage.run({ kind: 'tenant', tenant }, fn, ...args);
  }

  /** Runs `fn` in the explicit shared scope: no tenant, shared work allowed. */
  runShared<R>(fn: () => R): R {
    if (scopeEnteredChannel.hasSubscribers) scopeEnteredChannel.publish({ tenant: null } satisfies ScopeEnteredEvent);
    return this.#storage.run(sharedScope, fn);
  }

  /** The active scope, or `undefined` outside any `run`. */
  scope(): TenantScope | undefined {
    return this.#storage.getStore();
  }

  /** The active tenant, or `undefined` outside a tenant scope. */
  current(): Tenant | undefined {
    const scope = this.#storage.getStore();
    return scope?.kind === 'tenant' ? scope.tenant : undefined;
  }

  /** The active tenant; throws {@link NoTenantError} when there is none. */
  require(what?: string): Tenant {
    const tenant = this.current();
    if (tenant === undefined) throw new NoTenantError(what);
    return tenant;
  }

  /**
   * Binds `fn` to the scope active now, for callbacks that run after the request has moved on
   * (queues, pooled callbacks, `setImmediate` from another context).
   */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const scope = this.#storage.getStore();
    const storage = this.#storage;
    return function bound(this: unknown, ...args: A): R {
      return storage.run(scope as TenantScope, Reflect.apply, fn, this, args) as R;
    };
  }

  /**
   * Runs `fn` in a scope captured earlier with `scope()` (the very object, or none).
   *
   * @internal For tenantry's adapters.
   */
  runIn<A extends unknown[], R>(scope: TenantScope | undefined, fn: (...args: A) => R, ...args: A): R {
    return this.#storage.run(scope as TenantScope, fn, ...args);
  }
}
