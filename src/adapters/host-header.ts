/**
 * The Host header of a request, held to RFC 9112 §3.2: exactly one on HTTP/1.1.
 *
 * @module
 */
import { InvalidDomainError } from '../errors.js';
import type { TenantRequest } from '../resolvers/resolver.js';

/**
 * The fields of a Node request that tell how many Host headers it had: `headers` keeps only the
 * first (Node drops the others), `rawHeaders` keeps every name and value as received.
 *
 * @example
 * ```ts
 * const fields: HostHeaderSource = req; // an http.IncomingMessage
 * ```
 */
export interface HostHeaderSource {
  readonly headers: TenantRequest['headers'];
  /** Names and values in turn, as received; without it only `headers` is read. */
  readonly rawHeaders?: readonly string[] | undefined;
  readonly httpVersionMajor?: number | undefined;
  readonly httpVersionMinor?: number | undefined;
}

/**
 * A request's one Host header value, or `undefined` when an HTTP/1.0 (or HTTP/2) request has none.
 * Throws {@link InvalidDomainError} (HTTP 400) for a request with more than one Host header line,
 * and for an HTTP/1.1 request with none, as RFC 9112 §3.2 requires. Reads `rawHeaders` without
 * copying it.
 *
 * @example
 * ```ts
 * hostHeader(req); // 'acme.example.com'
 * hostHeader({ headers: { host: 'a.example.com' }, rawHeaders: ['Host', 'a.example.com', 'host', 'b.example.com'] }); // throws InvalidDomainError
 * ```
 */
export function hostHeader(source: HostHeaderSource): string | undefined {
  const host = source.headers.host;
  const raw = source.rawHeaders;
  if (raw === undefined) return typeof host === 'string' ? host : host?.[0];
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (isHost(raw[i]!)) count += 1;
  if (count > 1) throw new InvalidDomainError(hostValues(raw), `a request may have one Host header, and this one has ${count}`);
  if (count === 1) return typeof host === 'string' ? host : host?.[0];
  if (source.httpVersionMajor === 1 && source.httpVersionMinor === 1) throw new InvalidDomainError('', 'an HTTP/1.1 request must have a Host header');
  return undefined;
}

/** `host` in any case. The spellings clients send are compared as they are, the rare others lower-cased. */
function isHost(name: string): boolean {
  if (name.length !== 4) return false;
  if (name === 'Host' || name === 'host') return true;
  return (name.charCodeAt(0) | 0x20) === 104 && name.toLowerCase() === 'host';
}

function hostValues(raw: readonly string[]): string {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (isHost(raw[i]!)) values.push(raw[i + 1] ?? '');
  return values.join(', ');
}
