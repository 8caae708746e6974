/**
 * Domain names as the registry stores them.
 *
 * @module
 */
import { InvalidDomainError } from './errors.js';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Normalises a domain for storage and lookup: lower case, no trailing dot. Throws
 * {@link InvalidDomainError} (HTTP 400) for anything that is not a plain host name
 * (ports, paths, spaces, empty labels, over 253 bytes). Internationalised names must be
 * given in their punycode (`xn--`) form; other non-ASCII names are refused.
 *
 * @example
 * ```ts
 * normalizeDomain('Shop.Acme.COM.'); // 'shop.acme.com'
 * normalizeDomain('acme.com:8080');  // throws InvalidDomainError
 * ```
 */
export function normalizeDomain(domain: unknown): string {
  if (typeof domain !== 'string') throw new InvalidDomainError(domain, 'expected a string');
  const lowered = domain.trim().toLowerCase();
  const name = lowered.endsWith('.') ? lowered.slice(0, -1) : lowered;
  if (name.length === 0) throw new InvalidDomainError(domain, 'must not be empty');
  if (name.length > 253) throw new InvalidDomainError(domain, 'must be at most 253 characters');
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) {
      throw new InvalidDomainError(domain, 'each dot-separated label must be 1 to 63 of a-z, 0-9 and "-", not starting or ending with "-"');
    }
  }
  return name;
}
