/**
 * Post/Redirect/Get for failed forms. A form post that fails does not answer with the page:
 * it keeps what was typed, the issues and the status here for a minute, under a random id sent
 * in the `inventory_flash` cookie (HttpOnly, SameSite=Lax, scoped like the session cookie), and
 * redirects (303) to the form's page, which shows them once. A reload then shows the page again
 * instead of posting the form again.
 *
 * The flashes live in this process's memory, like the log-in throttle: enough for the example's
 * single process. Several processes behind a load balancer would keep them in the database (a
 * table with the same columns) or in a signed cookie. Passwords and CSRF tokens are never kept
 * (`failedForm` drops them first), each value is cut to {@link FLASH_VALUE_MAX} characters and
 * the store holds at most {@link FLASH_CAPACITY} flashes.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { FormState } from '../views/layout.js';
import { type CookieScope, cookieValues } from './session-cookie.js';

export const FLASH_COOKIE = 'inventory_flash';

/** How long a flash waits for its page (the redirect follows at once). */
export const FLASH_TTL_SECONDS = 60;

/** The most flashes kept; the oldest go first. */
export const FLASH_CAPACITY = 5_000;

/** The longest value kept (the longest field the domain accepts is far shorter). */
export const FLASH_VALUE_MAX = 1_000;

/** A failed form on its way to its page. */
export interface Flash {
  /** Which form of the page failed (`signup`, `edit`, `movement`…). */
  readonly form: string;
  /** The status the failure had (400, 401, 409…); the page answers with it. */
  readonly status: number;
  readonly state: FormState;
}

/**
 * The flashes of one app. `owner` is the business id, or `` for the platform: a flash is only
 * shown where it was made.
 *
 * @example
 * ```ts
 * const flashes = new FormFlashes();
 * res.append('Set-Cookie', flashes.put('acme', { form: 'login', status: 401, state }, scope));
 * const flash = flashes.take(req.headers.cookie, 'acme'); // once
 * ```
 */
export class FormFlashes {
  readonly #entries = new Map<string, { owner: string; flash: Flash; expiresAt: number }>();

  /** Keeps a flash and returns the Set-Cookie value that points to it. */
  put(owner: string, flash: Flash, scope: CookieScope): string {
    const now = Date.now();
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size < FLASH_CAPACITY) break;
      this.#entries.delete(id);
    }
    const id = randomBytes(18).toString('base64url');
    const values = Object.fromEntries(Object.entries(flash.state.values).map(([key, value]) => [key, value.slice(0, FLASH_VALUE_MAX)]));
    this.#entries.set(id, { owner, flash: { ...flash, state: { ...flash.state, values } }, expiresAt: now + FLASH_TTL_SECONDS * 1000 });
    return serialize(id, FLASH_TTL_SECONDS, scope);
  }

  /** The flash a Cookie header points to for `owner`, removed from the store; `undefined` if none. */
  take(cookieHeader: string | undefined, owner: string): Flash | undefined {
    for (const id of cookieValues(cookieHeader, FLASH_COOKIE)) {
      const entry = this.#entries.get(id);
      if (entry === undefined || entry.owner !== owner) continue;
      this.#entries.delete(id);
      if (entry.expiresAt > Date.now()) return entry.flash;
    }
    return undefined;
  }
}

/** Whether a Cookie header carries a flash cookie (to clear it once read). */
export function hasFlashCookie(cookieHeader: string | undefined): boolean {
  return cookieValues(cookieHeader, FLASH_COOKIE).length > 0;
}

/** The Set-Cookie value that removes the flash cookie of a scope. */
export function clearedFlashCookie(scope: CookieScope): string {
  return serialize('', 0, scope);
}

function serialize(value: string, maxAge: number, scope: CookieScope): string {
  const parts = [`${FLASH_COOKIE}=${value}`, `Path=${scope.basePath || '/'}`, `Max-Age=${maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (scope.secure) parts.push('Secure');
  return parts.join('; ');
}
