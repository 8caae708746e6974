/**
 * Host header normalisation for the resolvers.
 *
 * @module
 */
import { isIP, isIPv4 } from 'node:net';
import { InvalidDomainError } from './errors.js';
import { normalizeDomain } from './domains.js';

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
  const known = parsedHosts.get(value);
  if (known !== undefined) return known;
  const parsed = Object.freeze(parseNewHost(value));
  if (parsedHosts.size >= PARSED_HOSTS_MAX) parsedHosts.clear();
  parsedHosts.set(value, parsed);
  return parsed;
}

/**
 * Hosts parsed lately: a request's Host header is parsed once, not on every request. Only
 * valid hosts are kept (an invalid one throws before it is stored), and the map is emptied when
 * full, so random hosts cost memory only up to the bound.
 */
const parsedHosts = new Map<string, ParsedHost>();
const PARSED_HOSTS_MAX = 1024;

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
