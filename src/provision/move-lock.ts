/**
 * The lock that keeps two moves of one tenant apart, across processes.
 *
 * @module
 */
import type { PoolClientLike } from '../db.js';
import { InvalidConfigError, TenantMovingError } from '../errors.js';

/** A session lock on the registry's server that keeps two moves of one tenant apart. */
export interface MoveGuard {
  /** Unlocks, and settles once the lock is free (a move that awaits it lets the next one start at once). */
  release(): Promise<void>;
}

/**
 * Takes the move lock of a tenant on a registry connection, or `undefined` when another move holds it.
 *
 * @example
 * ```ts
 * const guard = await takeMoveLock(client, 'acme');
 * ```
 */
export async function takeMoveLock(client: PoolClientLike, id: string): Promise<MoveGuard | undefined> {
  const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext('tenantry:move'), hashtext($1)) AS locked`, [id]);
  if (rows[0]?.locked !== true) {
    client.release();
    return undefined;
  }
  return {
    release: () =>
      client.query(`SELECT pg_advisory_unlock(hashtext('tenantry:move'), hashtext($1))`, [id]).then(
        () => client.release(),
        (error: Error) => client.release(error),
      ),
  };
}

/**
 * The `lockTimeout` of a move's options, checked: how long it waits for writes in flight, in ms
 * (default 30,000).
 *
 * @example
 * ```ts
 * moveLockTimeout({}); // 30000
 * ```
 */
export function moveLockTimeout(options: { readonly lockTimeout?: number }): number {
  const lockTimeout = options.lockTimeout ?? 30_000;
  if (!Number.isInteger(lockTimeout) || lockTimeout < 1) throw new InvalidConfigError(`lockTimeout must be a positive integer of ms, got ${String(lockTimeout)}`);
  return lockTimeout;
}

/**
 * Takes a tenant's move lock, or throws `TenantMovingError` when another move holds it.
 *
 * @example
 * ```ts
 * declare const registry: { lockForMove(id: string): Promise<MoveGuard | undefined> };
 * const guard = await lockMove(registry, 'acme');
 * await guard.release();
 * ```
 */
export async function lockMove(registry: { lockForMove(id: string): Promise<MoveGuard | undefined> }, id: string): Promise<MoveGuard> {
  const guard = await registry.lockForMove(id);
  if (guard === undefined) throw new TenantMovingError(id);
  return guard;
}
