/**
 * The session cookie: `inventory_session=<business id>.<token>`; HttpOnly, SameSite=Lax,
 * host-only (no Domain attribute, so `acme.localhost`'s cookie is never sent to
 * `globex.localhost` or to the platform), and for path routing limited to `/t/<id>`.
 *
 * The business id in the value lets the app refuse, with a clear answer, a cookie that reached
 * the wrong business (a header-routed API client that mixes up its cookie jar). The token is
 * looked up in the business's own schema anyway, where another business's token never exists.
 *
 * @module
 */
import { SESSION_TTL_SECONDS } from '../domain/sessions.js';

export const SESSION_COOKIE = 'inventory_session';

/** Where a request's session cookie stands for the business it addresses. */
export type SessionCookie =
  | { readonly kind: 'none' }
  | { readonly kind: 'other-business'; readonly businessId: string }
  | { readonly kind: 'token'; readonly token: string };

/**
 * Finds the session cookie for `businessId` in a Cookie header. Several cookies of that name
 * can arrive (one per path); the one of this business wins.
 *
 * @example
 * ```ts
 * readSessionCookie('inventory_session=acme.abc…', 'acme');   // { kind: 'token', token: 'abc…' }
 * readSessionCookie('inventory_session=acme.abc…', 'globex'); // { kind: 'other-business', businessId: 'acme' }
 * ```
 */
export function readSessionCookie(header: string | undefined, businessId: string): SessionCookie {
  let other: string | undefined;
  for (const value of cookieValues(header, SESSION_COOKIE)) {
    const dot = value.indexOf('.');
    if (dot <= 0) continue;
    const owner = value.slice(0, dot);
    if (owner === businessId) return { kind: 'token', token: value.slice(dot + 1) };
    other ??= owner;
  }
  return other === undefined ? { kind: 'none' } : { kind: 'other-business', businessId: other };
}

/** Options of the Set-Cookie headers. */
export interface CookieScope {
  /** `/t/acme` for path routing, `` otherwise. */
  readonly basePath: string;
  readonly secure: boolean;
}

/**
 * The Set-Cookie value that starts a session.
 *
 * @example
 * ```ts
 * sessionCookie('acme', token, { basePath: '', secure: false });
 * // 'inventory_session=acme.<token>; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax'
 * ```
 */
export function sessionCookie(businessId: string, token: string, scope: CookieScope): string {
  return serialize(`${businessId}.${token}`, SESSION_TTL_SECONDS, scope);
}

/** The Set-Cookie value that removes the session cookie (log-out, or a stale cookie). */
export function clearedSessionCookie(scope: CookieScope): string {
  return serialize('', 0, scope);
}

function serialize(value: string, maxAge: number, scope: CookieScope): string {
  const parts = [`${SESSION_COOKIE}=${value}`, `Path=${scope.basePath || '/'}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (scope.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The values of every cookie called `name` in a Cookie header. */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    values.push(pair.slice(eq + 1).trim());
  }
  return values;
}
