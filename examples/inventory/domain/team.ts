/**
 * Managing a business's team, for its owners: removing a member, changing a member's role,
 * regenerating the invite code. Every change runs in a transaction that locks the business's
 * settings row, so two owners acting at once cannot leave the business without an owner.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Inventory } from '../inventory.js';
import { InventoryError, notFound } from './errors.js';
import { type Role, requireOwner, ROLES } from './roles.js';
import type { Session } from './sessions.js';
import { toUser, type User, USER_COLUMNS } from './users.js';
import { Fields, objectBody } from './validate.js';

/** Who acts: the session's user. */
type Actor = Session['user'];

/**
 * Removes a member of the active business (their sessions end with them). Owners only; nobody
 * removes themselves, so a business always keeps the owner who acts.
 *
 * @example
 * ```ts
 * await removeMember(inventory, session.user, 7);
 * ```
 */
export async function removeMember(inventory: Inventory, actor: Actor, userId: number): Promise<void> {
  requireOwner(actor, 'remove team members');
  if (userId === actor.id) throw new InventoryError(409, 'cannot_remove_yourself', 'You cannot remove yourself: another owner can');
  await inventory.db.transaction().execute(async (trx) => {
    await trx.selectFrom('settings').select('id').forUpdate().execute();
    const target = await trx.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
    if (target === undefined) throw notFound('user', userId);
    if (target.role === 'owner') await keepAnOwner(trx, userId);
    await trx.deleteFrom('users').where('id', '=', userId).execute();
  });
}

/**
 * Changes a member's role: `{ role: 'owner' | 'staff' }`. Owners only; the last owner cannot
 * become staff.
 *
 * @example
 * ```ts
 * await changeRole(inventory, session.user, 7, { role: 'owner' });
 * ```
 */
export async function changeRole(inventory: Inventory, actor: Actor, userId: number, body: unknown): Promise<User> {
  requireOwner(actor, 'change roles');
  const fields = new Fields(objectBody(body, ['role']));
  const role: Role = fields.oneOf('role', ROLES);
  fields.done();
  return inventory.db.transaction().execute(async (trx) => {
    await trx.selectFrom('settings').select('id').forUpdate().execute();
    const target = await trx.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
    if (target === undefined) throw notFound('user', userId);
    if (target.role === 'owner' && role !== 'owner') await keepAnOwner(trx, userId);
    const row = await trx.updateTable('users').set({ role }).where('id', '=', userId).returning(USER_COLUMNS).executeTakeFirstOrThrow();
    return toUser(row);
  });
}

/**
 * Replaces the active business's invite code with a new random one (48 bits, 12 hex digits); the
 * old one stops working at once. Owners only.
 *
 * @example
 * ```ts
 * const code = await regenerateInviteCode(inventory, session.user); // 'A1B2C3D4E5F6'
 * ```
 */
export async function regenerateInviteCode(inventory: Inventory, actor: Actor): Promise<string> {
  requireOwner(actor, 'regenerate the invite code');
  const code = randomBytes(6).toString('hex').toUpperCase();
  const row = await inventory.db.updateTable('settings').set({ invite_code: code }).returning('invite_code').executeTakeFirst();
  if (row === undefined) throw new InventoryError(409, 'no_settings', 'This business has no settings row: run its migrations');
  return row.invite_code;
}

/** Throws a 409 `last_owner` when `userId` is the business's only owner. */
async function keepAnOwner(trx: Pick<Inventory['db'], 'selectFrom'>, userId: number): Promise<void> {
  const others = await trx
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('role', '=', 'owner')
    .where('id', '<>', userId)
    .executeTakeFirstOrThrow();
  if (Number(others.count) === 0) throw new InventoryError(409, 'last_owner', 'A business needs an owner: make someone else an owner first');
}
