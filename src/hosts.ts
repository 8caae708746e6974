/**
 * Host header normalisation for the resolvers.
 *
 * @module
 */
import { isIP, isIPv4 } from 'node:net';
import { InvalidDomainError } from './errors.js';
import { normalizeDomain } from './domains.js';
import { boundedMemo } from './util/bounded-memo.js';

/**
 * A normalised host: lower case, no port, no trailing dot; IPv6 literals without brackets.
 *
 * @example
 * ```ts
 * parseHost('ACME.example.com.:3000'); // { hostname: 'acme.example.com', ip: false }
 * parseHost('[::1]:3000');             // { hostname: '::1', ip: true }
 * ```
 */
export interface ParsedHost {
  readonly hostname: string;
  /** An IP address: it has no subdomain and is never a tenant's domain. */
  readonly ip: boolean;
}

/**
 * Parses a Host (or X-Forwarded-Host) value. Throws {@link InvalidDomainError} (HTTP 400) for a
 * value that is not a host name or IP address with an optional port.
 *
 * @example
 * ```ts
 * parseHost('acme.localhost:3000').hostname; // 'acme.localhost'
 * parseHost('evil host');                    // throws InvalidDomainError
 * ```
 */
export function parseHost(value: string): ParsedHost {
  return parsedHost(value);
}

/**
 * A request's Host header is parsed once, not on every request: up to 1,024 valid hosts are kept
 * (an invalid one throws every time and is never kept).
 */
const parsedHost = boundedMemo(1024, (value) => Object.freeze(parseNewHost(value)));

function parseNewHost(value: string): ParsedHost {
  const raw = value.trim();
  if (raw.startsWith('[')) {
    const end = raw.indexOf(']');
    const address = end === -1 ? '' : raw.slice(1, end);
    if (isIP(address) !== 6 || !validPort(raw.slice(end + 1))) throw new InvalidDomainError(value, 'not a valid IPv6 host');
    return { hostname: address.toLowerCase(), ip: true };
  }
  const colon = raw.indexOf(':');
  const name = colon === -1 ? raw : raw.slice(0, colon);
  if (colon !== -1 && !validPort(raw.slice(colon))) throw new InvalidDomainError(value, 'the port must be 1 to 5 digits');
  // An IPv4 address stays one with a trailing dot (`127.0.0.1.`), as URL parsers read it.
  const address = name.endsWith('.') ? name.slice(0, -1) : name;
  if (/^[0-9.]+$/.test(address) && isIPv4(address)) return { hostname: address, ip: true };
  return { hostname: normalizeDomain(name), ip: false };
}

function validPort(rest: string): boolean {
  return rest === '' || /^:[0-9]{1,5}$/.test(rest);
}
