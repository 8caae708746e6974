/**
 * Request-targets in absolute form (`GET http://globex.example.com/x HTTP/1.1`, RFC 9112 §3.2.2),
 * which name their host themselves: the server must use it and ignore the Host header.
 *
 * @module
 */
import { InvalidDomainError } from '../errors.js';
import { parseHost } from '../hosts.js';

/**
 * An absolute-form request-target split into its parts, as received (nothing is checked or
 * decoded).
 *
 * @example
 * ```ts
 * const target: AbsoluteTarget = splitAbsoluteTarget('http://globex.example.com/x?q=1')!;
 * target.origin;    // 'http://globex.example.com'
 * target.authority; // 'globex.example.com'
 * target.path;      // '/x'
 * target.query;     // '?q=1'
 * ```
 */
export interface AbsoluteTarget {
  /** The scheme, in the case it was sent: `http`, `HTTPS`. */
  readonly scheme: string;
  /** What lies between `//` and the path or query: `globex.example.com:8080`, `user@host`, `''`. */
  readonly authority: string;
  /** The scheme, `://` and the authority: what stays in front of the path when the path is replaced. */
  readonly origin: string;
  /** The path; `/` when the target has none (`http://globex.example.com?q=1`). */
  readonly path: string;
  /** The query string with its `?`, or `''`. */
  readonly query: string;
}

/** A scheme (RFC 3986 §3.1) followed by `://`. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Splits a request-target in absolute form (a scheme, `://`, an authority, then a path and query),
 * or answers `null` for any other form (`/x`, `*`). Never throws: {@link absoluteTargetHost}
 * checks the parts.
 *
 * @example
 * ```ts
 * splitAbsoluteTarget('HTTP://Globex.example.com'); // { scheme: 'HTTP', authority: 'Globex.example.com', origin: 'HTTP://Globex.example.com', path: '/', query: '' }
 * splitAbsoluteTarget('/x?q=1');                   // null
 * ```
 */
export function splitAbsoluteTarget(target: string): AbsoluteTarget | null {
  const scheme = ABSOLUTE.exec(target);
  if (scheme === null) return null;
  const start = scheme[0].length;
  let end = start;
  while (end < target.length && target.charCodeAt(end) !== 47 && target.charCodeAt(end) !== 63) end += 1;
  const query = target.indexOf('?', end);
  const path = query === -1 ? target.slice(end) : target.slice(end, query);
  return {
    scheme: target.slice(0, start - 3),
    authority: target.slice(start, end),
    origin: target.slice(0, end),
    path: path === '' ? '/' : path,
    query: query === -1 ? '' : target.slice(query),
  };
}

/**
 * The host an absolute-form target names (with its port), once it is known to be one a server
 * can use: an `http` or `https` URL whose authority is a host name or IP address with an optional
 * port, without user information. Throws {@link InvalidDomainError} (HTTP 400) otherwise.
 *
 * @example
 * ```ts
 * const target = 'http://globex.example.com:8080/x';
 * absoluteTargetHost(splitAbsoluteTarget(target)!, target);             // 'globex.example.com:8080'
 * absoluteTargetHost(splitAbsoluteTarget('http://u@acme/x')!, 'http://u@acme/x'); // throws InvalidDomainError
 * ```
 */
export function absoluteTargetHost(target: AbsoluteTarget, received: string): string {
  const scheme = target.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new InvalidDomainError(received, 'a request target in absolute form must be an http or https URL');
  }
  if (target.authority === '') throw new InvalidDomainError(received, 'the request target names no host');
  if (target.authority.includes('@')) {
    throw new InvalidDomainError(received, 'the request target must not carry user information (user@host)');
  }
  parseHost(target.authority); // the value is not needed: a bad host or port throws
  return target.authority;
}
