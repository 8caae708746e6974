/**
 * Owner and staff. Owners manage the team (remove members, change roles, regenerate the invite
 * code), delete products and send the low-stock digest; staff do everything else. The business's
 * first user (who signed it up) is an owner; colleagues join as staff.
 *
 * @module
 */
import { InventoryError } from './errors.js';

/** A user's role in their business. */
export type Role = 'owner' | 'staff';

/** The roles, most powerful first. */
export const ROLES: readonly Role[] = ['owner', 'staff'];

/**
 * Throws a 403 `owner_only` unless the user is an owner of the business.
 *
 * @example
 * ```ts
 * requireOwner(session.user, 'delete products');
 * ```
 */
export function requireOwner(user: { readonly role: Role }, action: string): void {
  if (user.role !== 'owner') throw new InventoryError(403, 'owner_only', `Only an owner of this business may ${action}`);
}
