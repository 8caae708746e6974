/**
 * Tries resolvers in order.
 *
 * @module
 */
import { InvalidConfigError } from '../errors.js';
import { isPromise } from '../util/maybe-promise.js';
import type { ResolverContext, TenantRequest, TenantResolver } from './resolver.js';

/**
 * Combines resolvers: the first that matches wins. An error from one (bad input) stops the chain.
 *
 * @example
 * ```ts
 * chainResolvers(subdomainResolver({ baseDomain: 'example.com' }), domainResolver(), pathResolver(), headerResolver());
 * ```
 */
export function chainResolvers(...resolvers: readonly TenantResolver[]): TenantResolver {
  resolvers.forEach((resolver, index) => {
    if (typeof resolver !== 'function') {
      throw new InvalidConfigError(`chainResolvers expects functions, instead got a '${typeof resolver}' at position ${index}`);
    }
  });
  const from = (index: number, request: TenantRequest, context: ResolverContext): ReturnType<TenantResolver> => {
    for (let i = index; i < resolvers.length; i += 1) {
      const match = resolvers[i]!(request, context);
      if (isPromise(match)) return match.then((found) => found ?? from(i + 1, request, context));
      if (match !== null && match !== undefined) return match;
    }
    return null;
  };
  return (request, context) => from(0, request, context);
}
