/**
 * One-time codes that carry a log-in from the platform's host to a business's host. Session
 * cookies are host-only, so the platform's sign-up answer cannot set the cookie of
 * `acme.localhost`; it makes a code instead and redirects to the business's `/welcome?code=…`,
 * which redeems it and starts the session there. A code lives one minute, works once, and the
 * table keeps only its SHA-256.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Inventory } from '../inventory.js';
import { type Session, TOKEN_PATTERN } from './sessions.js';

/** How long a code can be redeemed (the redirect follows at once). */
export const HANDOFF_TTL_SECONDS = 60;

/**
 * Makes a code for a user of the active business.
 *
 * @example
 * ```ts
 * const code = await tenancy.run('acme', () => createHandoff(inventory, owner.id));
 * ```
 */
export async function createHandoff(inventory: Inventory, userId: number): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  await inventory.db.deleteFrom('session_handoffs').where('expires_at', '<', new Date()).execute();
  await inventory.db
    .insertInto('session_handoffs')
    .values({ code_hash: hashCode(code), user_id: userId, expires_at: new Date(Date.now() + HANDOFF_TTL_SECONDS * 1000) })
    .execute();
  return code;
}

/**
 * Redeems a code of the active business: the user it was made for, or `undefined` (unknown,
 * expired, already used, or made by another business). The code is gone afterwards.
 *
 * @example
 * ```ts
 * const user = await redeemHandoff(inventory, code);
 * if (user) await startSession(inventory, user);
 * ```
 */
export async function redeemHandoff(inventory: Inventory, code: string): Promise<Session['user'] | undefined> {
  if (!TOKEN_PATTERN.test(code)) return undefined;
  const used = await inventory.db
    .deleteFrom('session_handoffs')
    .where('code_hash', '=', hashCode(code))
    .returning(['user_id', 'expires_at'])
    .executeTakeFirst();
  if (used === undefined || used.expires_at <= new Date()) return undefined;
  return inventory.db.selectFrom('users').select(['id', 'email', 'name', 'role']).where('id', '=', used.user_id).executeTakeFirst();
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
