/**
 * Log-in sessions, kept in the business's own schema. The cookie carries a random token; the
 * table keeps only its SHA-256, with the user, a CSRF token for the HTML forms and an expiry.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Inventory } from '../inventory.js';
import type { User } from './users.js';

/** How long a session lasts (7 days; the cookie's Max-Age is the same). */
export const SESSION_TTL_SECONDS = 7 * 24 * 60 * 60;

/** A live session of the active business. */
export interface Session {
  /** The user, with their role as it is now (read with the session on every request). */
  readonly user: Pick<User, 'id' | 'email' | 'name' | 'role'>;
  /** Put in every form of a logged-in page; POSTs without it are refused. */
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

/** The token format: 32 random bytes in base64url. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Starts a session for a user of the active business and returns the token for its cookie.
 * Expired sessions of the business are cleaned up on the way.
 *
 * @example
 * ```ts
 * const { token } = await startSession(inventory, user);
 * ```
 */
export async function startSession(inventory: Inventory, user: Session['user']): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const session: Session = {
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    csrfToken: randomBytes(24).toString('base64url'),
    expiresAt: new Date(Date.now() + SESSION_TTL_SECONDS * 1000),
  };
  await inventory.db.deleteFrom('sessions').where('expires_at', '<', new Date()).execute();
  await inventory.db
    .insertInto('sessions')
    .values({ token_hash: hashToken(token), user_id: user.id, csrf_token: session.csrfToken, expires_at: session.expiresAt })
    .execute();
  return { token, session };
}

/**
 * The live session a token belongs to in the active business, or `undefined` (unknown,
 * expired, or its user deleted).
 *
 * @example
 * ```ts
 * const session = await findSession(inventory, token);
 * ```
 */
export async function findSession(inventory: Inventory, token: string): Promise<Session | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const row = await inventory.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.role', 'sessions.csrf_token', 'sessions.expires_at'])
    .where('sessions.token_hash', '=', hashToken(token))
    .where('sessions.expires_at', '>', new Date())
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { user: { id: row.id, email: row.email, name: row.name, role: row.role }, csrfToken: row.csrf_token, expiresAt: row.expires_at };
}

/** Ends a session (log-out). Unknown tokens are ignored. */
export async function endSession(inventory: Inventory, token: string): Promise<void> {
  if (!TOKEN_PATTERN.test(token)) return;
  await inventory.db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
