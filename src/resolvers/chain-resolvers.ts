/**
 * Tries resolvers in order.
 *
 * @module
 */
import { InvalidConfigError } from '../errors.js';
import type { TenantResolver } from './resolver.js';

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
  return async (request, context) => {
    for (const resolver of resolvers) {
      const match = await resolver(request, context);
      if (match !== null && match !== undefined) return match;
    }
    return null;
  };
}
