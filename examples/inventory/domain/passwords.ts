/**
 * Password hashing with node:crypto's scrypt, compared with timingSafeEqual.
 *
 * @module
 */
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds per hash). */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/**
 * Hashes a password: `scrypt$N$r$p$salt$key` (salt and key in base64url). The parameters are
 * stored with the hash, so raising the cost later still verifies old hashes.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * Checks a password against a stored hash in constant time. A malformed hash is `false`.
 *
 * @example
 * ```ts
 * if (!(await verifyPassword(input, user.password_hash))) throw unauthenticated('login_failed', 'Wrong email or password');
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const actual = await derive(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/**
 * Spends the time of one verification on a password that matches no account, so a login
 * attempt for an unknown email takes as long as one with a wrong password.
 *
 * @example
 * ```ts
 * if (user === undefined) { await burnVerification(password); throw loginFailed(); }
 * ```
 */
export async function burnVerification(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
}

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }, bytes = KEY_BYTES): Promise<Buffer> {
  // NFKC: the same password typed on two keyboards (composed or decomposed accents) is the same password.
  const input = password.normalize('NFKC');
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolve, reject) => scrypt(input, salt, bytes, options, (error, key) => (error ? reject(error) : resolve(key))));
}
