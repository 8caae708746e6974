/**
 * Request affinity that keeps pg-pool's accounting: a connection a run gives back stays with
 * that run until the event loop's next turn, yet counts as released (a use towards `maxUses`, a
 * `release` event, an idle connection) and, when the run takes it again, as acquired.
 *
 * @module
 */
import type { TenantScope } from '../context.js';
import type { ConnectionState, RawClient } from './connection-state.js';
import { connectionReusable, releaseConnection } from './release.js';

/** A raw pooled connection and what its session has. */
export interface Connection {
  readonly raw: RawClient;
  readonly state: ConnectionState;
}

/** pg-pool's per-client use counter, which its `_release` increments and compares with `maxUses`. */
interface UseCounted {
  _poolUseCount?: number;
}

/** What the holder reports: a connection given back to its run, or taken again by it. */
export type AffinityEvent = 'release' | 'acquire';

/**
 * What pg.Pool's `release` event carries as its error: `null` after `pool.query` (the query's
 * callback error), `undefined` after a checked-out client's `release()`.
 */
export type ReleasedBy = null | undefined;

/**
 * The connections runs hold between their queries: at most one per run (the scope object of one
 * `tenancy.run`), all given back to pg-pool by one `setImmediate` per event-loop turn.
 *
 * Holding a connection does what pg-pool's release would (count the use, report `release`),
 * taking it again what its checkout would (report `acquire`); the real release at the turn's
 * end then neither counts nor reports the use twice. A connection whose next use would reach
 * `maxUses` is released for real, so pg-pool retires it as it would without affinity.
 *
 * @example
 * ```ts
 * declare const scope: import('../context.js').TenantScope;
 * declare const connection: Connection;
 * declare function emit(event: AffinityEvent, raw: import('./connection-state.js').RawClient): void;
 * const held = new HeldConnections(() => pool.options.maxUses ?? Infinity, (event, raw) => emit(event, raw));
 * held.hold(scope, connection, null); // after a query: counted as released, kept for the run
 * const again = held.take(scope);    // the run's next query: counted as acquired
 * ```
 */
export class HeldConnections {
  readonly #held = new Map<TenantScope, Connection>();
  /** Connections whose release pg-pool is about to report a second time. */
  readonly #reported = new WeakSet<RawClient>();
  readonly #maxUses: () => number;
  readonly #report: (event: AffinityEvent, raw: RawClient, releasedBy?: ReleasedBy) => void;
  #sweep: NodeJS.Immediate | undefined;

  constructor(maxUses: () => number, report: (event: AffinityEvent, raw: RawClient, releasedBy?: ReleasedBy) => void) {
    this.#maxUses = maxUses;
    this.#report = report;
  }

  /** How many connections runs hold now: idle for pg.Pool's counters. */
  get size(): number {
    return this.#held.size;
  }

  /** Gives a clean connection back: held for the run when it may serve it again, else released. */
  hold(scope: TenantScope, connection: Connection, releasedBy: ReleasedBy): void {
    const counted = connection.raw as unknown as UseCounted;
    const uses = (counted._poolUseCount ?? 0) + 1;
    if (this.#held.has(scope) || uses >= this.#maxUses() || !connectionReusable(connection.raw, connection.state)) {
      releaseConnection(connection.raw, connection.state, undefined);
      return;
    }
    counted._poolUseCount = uses;
    this.#report('release', connection.raw, releasedBy);
    this.#held.set(scope, connection);
    this.#sweep ??= setImmediate(this.releaseAll);
  }

  /** The connection `scope`'s run holds, taken again (reported as acquired), if it can serve. */
  take(scope: TenantScope): Connection | undefined {
    const connection = this.#held.get(scope);
    if (connection === undefined) return undefined;
    this.#held.delete(scope);
    if (!connectionReusable(connection.raw, connection.state)) {
      this.#giveBack(connection);
      return undefined;
    }
    this.#report('acquire', connection.raw);
    return connection;
  }

  /**
   * Whether pg-pool's `release` event for `raw` repeats one already reported when it was held;
   * answers once per real release.
   */
  repeatsRelease(raw: RawClient): boolean {
    return this.#reported.delete(raw);
  }

  /** Gives every held connection back to pg-pool (at the turn's end, and when the pool ends). */
  readonly releaseAll = (): void => {
    if (this.#sweep !== undefined) clearImmediate(this.#sweep);
    this.#sweep = undefined;
    const connections = [...this.#held.values()];
    this.#held.clear();
    for (const connection of connections) this.#giveBack(connection);
  };

  /** The real release of a held connection, whose use was counted and reported when it was held. */
  #giveBack(connection: Connection): void {
    const counted = connection.raw as unknown as UseCounted;
    counted._poolUseCount = (counted._poolUseCount ?? 1) - 1;
    this.#reported.add(connection.raw);
    releaseConnection(connection.raw, connection.state, undefined);
  }
}
