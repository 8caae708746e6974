/**
 * A business's own users: sign-up (with the business's invite code), log-in, the team list.
 * Users live in the business's schema, so the same email can work at two businesses with two
 * passwords, and neither business can see the other's accounts.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { Inventory } from '../inventory.js';
import { conflict, InventoryError, pgError, SQLSTATE, unauthenticated } from './errors.js';
import { burnVerification, hashPassword, verifyPassword } from './passwords.js';
import type { Role } from './roles.js';
import { Fields, objectBody } from './validate.js';

/** A user as the app shows it (never with the password hash). */
export interface User {
  readonly id: number;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: Date;
}

/** What creating a user takes. */
export interface NewUser {
  readonly name: string;
  readonly email: string;
  readonly password: string;
}

/** The password rule: 10 to 200 characters (the upper bound keeps hashing cheap). */
export const PASSWORD_RULE = { min: 10, max: 200 } as const;

/**
 * Reads and checks the fields of a new user (`name`, `email`, `password`) on `fields`.
 *
 * @example
 * ```ts
 * const fields = new Fields(objectBody(body, ['name', 'email', 'password']));
 * const user = readNewUser(fields);
 * fields.done();
 * ```
 */
export function readNewUser(fields: Fields, keys = { name: 'name', email: 'email', password: 'password' }): NewUser {
  return {
    name: fields.text(keys.name, { max: 100 }),
    email: fields.email(keys.email),
    password: fields.secret(keys.password, PASSWORD_RULE),
  };
}

/**
 * Creates a user in the active business, as `staff` unless told otherwise. A taken email is a 409.
 *
 * @example
 * ```ts
 * await tenancy.run('acme', () => createUser(inventory, { name: 'Ada', email: 'ada@acme.test', password: '…' }, 'owner'));
 * ```
 */
export async function createUser(inventory: Inventory, input: NewUser, role: Role = 'staff'): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  try {
    const row = await inventory.db
      .insertInto('users')
      .values({ name: input.name, email: input.email, password_hash: passwordHash, role })
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
    return toUser(row);
  } catch (error) {
    if (pgError(error)?.code === SQLSTATE.uniqueViolation) {
      throw conflict('email_taken', 'This business already has a user with that email', { email: 'is already registered here' });
    }
    throw error;
  }
}

/**
 * Signs a colleague up to the active business as staff: `{ name, email, password, inviteCode }`.
 * The invite code (on the Team page) proves that someone of the business let them in.
 *
 * @example
 * ```ts
 * const user = await signUp(inventory, { name: 'Ada', email: 'ada@acme.test', password: 'long enough!', inviteCode: 'C0FFEE123456' });
 * ```
 */
export async function signUp(inventory: Inventory, body: unknown): Promise<User> {
  const fields = new Fields(objectBody(body, ['name', 'email', 'password', 'inviteCode']));
  const user = readNewUser(fields);
  const code = fields.text('inviteCode', { max: 40 }).toUpperCase();
  fields.done();
  const expected = await inviteCode(inventory);
  if (expected === undefined || !sameSecret(code, expected)) {
    throw new InventoryError(403, 'wrong_invite_code', 'That invite code is not this business’s: ask a colleague for the one on the Team page', {
      issues: { inviteCode: 'is not this business’s invite code' },
    });
  }
  return createUser(inventory, user);
}

/**
 * Checks an email and password against the active business's users: the user, or a 401 that
 * does not say which of the two was wrong. Unknown emails take as long as wrong passwords.
 * Too many failures for the account or from the client's address: a 429 before any hashing
 * (see login-throttle.ts).
 *
 * @example
 * ```ts
 * const user = await logIn(inventory, { email: 'owner@acme.test', password: '…' }, { address: '203.0.113.7' });
 * ```
 */
export async function logIn(inventory: Inventory, body: unknown, client: { readonly address: string }): Promise<User> {
  const fields = new Fields(objectBody(body, ['email', 'password']));
  const email = fields.email('email');
  const password = fields.secret('password', { min: 1, max: PASSWORD_RULE.max });
  fields.done();
  const attempt = inventory.loginThrottle.begin({ account: `${inventory.tenancy.require().id} ${email}`, address: client.address });
  const row = await inventory.db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('email', '=', email)
    .executeTakeFirst();
  if (row === undefined) {
    await burnVerification(password);
  } else if (await verifyPassword(password, row.password_hash)) {
    attempt.succeeded();
    return toUser(row);
  }
  throw unauthenticated('login_failed', 'Wrong email or password');
}

/** The active business's users, oldest first. */
export async function listUsers(inventory: Inventory): Promise<User[]> {
  const rows = await inventory.db.selectFrom('users').select(USER_COLUMNS).orderBy('id').execute();
  return rows.map(toUser);
}

/** The active business's invite code (`undefined` if its settings row is missing). */
export async function inviteCode(inventory: Inventory): Promise<string | undefined> {
  const row = await inventory.db.selectFrom('settings').select('invite_code').executeTakeFirst();
  return row?.invite_code;
}

/** Compares two secrets in constant time (for equal lengths; a length mismatch is simply false). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The columns of a {@link User}. */
export const USER_COLUMNS = ['id', 'email', 'name', 'role', 'created_at'] as const;

/** A users row as the app shows it. */
export function toUser(row: { id: number; email: string; name: string; role: Role; created_at: Date }): User {
  return { id: row.id, email: row.email, name: row.name, role: row.role, createdAt: row.created_at };
}
