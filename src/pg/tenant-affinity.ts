/**
 * Tenant-affine connections: each tenant has a home among a pool's connections, so each
 * backend sees only its share of the tenants and keeps their catalog entries warm; a connection
 * that has served too many distinct tenants is retired, so backend memory stays bounded.
 *
 * pg-pool has no hook to choose which idle connection serves which waiter: this module steers
 * its two choices (the waiter `_pulseQueue` serves next, and the idle connection it gives that
 * waiter) and marks a connection to retire through the set pg-pool's own `maxLifetimeSeconds`
 * uses. With another pg-pool whose internals differ, it stays off and the pool behaves as before.
 *
 * @module
 */
import type pg from 'pg';
import { InvalidConfigError } from '../errors.js';
import { poolDecisionChannel, type PoolDecisionEvent } from '../diagnostics.js';
import type { RawClient } from './connection-state.js';

/**
 * How tenantPool assigns connections to tenants (session mode only): `true` for the defaults,
 * `false` for pg-pool's own order, or the bounds.
 *
 * @example
 * ```ts
 * tenantPool(tenancy, pool, { affinity: { maxTenantsPerConnection: 200 } });
 * ```
 */
export interface AffinityOptions {
  /**
   * A connection that has served this many distinct tenants is closed after its current use,
   * and the pool opens a fresh one when it needs it (default 2,000). A backend keeps the catalog
   * entries of every table it has read, with its indexes, for good (about 51 KB per tenant that
   * read two tables with seven indexes on PostgreSQL 15, `bench/backend-memory.ts`): this bounds its memory.
   */
  readonly maxTenantsPerConnection?: number;
}

/**
 * What {@link TenantPool.affinity} reports.
 *
 * @example
 * ```ts
 * const { homeCheckouts, borrowedCheckouts } = db.affinity;
 * console.log(`home rate ${(homeCheckouts / (homeCheckouts + borrowedCheckouts)).toFixed(2)}`);
 * ```
 */
export interface AffinityStatistics {
  /** Whether the pool steers connections to tenants (false in transaction mode, or when turned off). */
  readonly enabled: boolean;
  /** Checkouts a tenant's home connection served. */
  readonly homeCheckouts: number;
  /** Checkouts another connection served, because the home was busy or not open. */
  readonly borrowedCheckouts: number;
  /** Connections closed after serving `maxTenantsPerConnection` distinct tenants. */
  readonly retiredConnections: number;
  /** How many distinct tenants each open connection has served. */
  readonly tenantsPerConnection: readonly number[];
}

/** What a waiter in pg-pool's queue wants: the tenant, and its home and runner-up as of an epoch. */
interface Want {
  readonly key: string;
  readonly hash: number;
  home: Member | undefined;
  runnerUp: Member | undefined;
  epoch: number;
}

/** One open connection of the pool. */
interface Member {
  readonly raw: RawClient;
  readonly seed: number;
  readonly served: Set<string>;
}

interface IdleItem {
  readonly client: unknown;
}

/**
 * A waiter in pg-pool's queue (its pending item), with what this module keeps on it: symbol
 * properties set once when it is queued, so every item has the same shape and a lookup is a
 * property read (a WeakMap per waiter cost microseconds per checkout under saturation).
 */
interface Waiter {
  [WANT]: Want | undefined;
  [SKIPS]: number;
}
const WANT = Symbol('tenantry.affinity.want');
const SKIPS = Symbol('tenantry.affinity.skips');

/** The parts of pg-pool 3 this module steers. */
interface PoolInternals {
  _idle: IdleItem[] & { pop(): IdleItem | undefined };
  _pendingQueue: Waiter[];
  _expired: WeakSet<object>;
  /** The open connections (pg-pool reassigns this array: read it, never keep it). */
  _clients?: readonly RawClient[];
}

/** Waiters looked at, from the head of the queue, for one whose home just became idle. */
const WAITER_WINDOW = 32;
/** How many times a waiter may be passed over for one whose home is idle. */
const MAX_SKIPS = 16;
const DEFAULT_MAX_TENANTS = 2000;
/** How many tenants' wants a pool's affinity remembers before it starts over. */
const REMEMBERED_WANTS = 20_000;

/**
 * The affinity of one pg.Pool, shared by every tenantPool wrapping it.
 *
 * @example
 * ```ts
 * declare const callback: (error: Error | undefined, client: unknown, done: () => void) => void;
 * const affinity = PoolAffinity.of(pool, { maxTenantsPerConnection: 400 });
 * affinity?.connecting(affinity.want('tenant_acme'), () => pool.connect((error, client, release) => release()));
 * ```
 */
export class PoolAffinity {
  readonly #members = new Map<RawClient, Member>();
  #list: Member[] = [];
  #epoch = 0;
  #maxTenants: number;
  /** The tenant whose checkout is calling `pool.connect` right now. */
  #connecting: Want | undefined;
  /** The want of the waiter pg-pool shifted last: the idle connection it pops goes to it. */
  #shifted: Want | undefined;
  /** The wants made so far, by tenant key: their hash and home are computed once, not per checkout. */
  readonly #wants = new Map<string, Want>();
  #home = 0;
  #borrowed = 0;
  #retired = 0;

  private constructor(pool: pg.Pool, internals: PoolInternals, maxTenants: number) {
    this.#maxTenants = maxTenants;
    pool.on('connect', (raw: RawClient) => this.#join(raw));
    pool.on('remove', (raw: RawClient) => this.#leave(raw));
    pool.on('release', (_error: unknown, raw: RawClient) => {
      const member = this.#members.get(raw);
      if (member === undefined || member.served.size < this.#maxTenants) return;
      internals._expired.add(raw);
      this.#retired += 1;
      if (poolDecisionChannel.hasSubscribers) this.#publish('retired', null, member);
    });
    for (const raw of internals._clients ?? []) this.#join(raw);
    this.#steer(internals);
  }

  /**
   * The affinity of `pool`, installed at the first call; `undefined` when pg-pool's internals
   * are not the ones this module knows. A second call may lower `maxTenantsPerConnection`.
   */
  static of(pool: pg.Pool, options: AffinityOptions): PoolAffinity | undefined {
    const maxTenants = options.maxTenantsPerConnection ?? DEFAULT_MAX_TENANTS;
    if (!Number.isInteger(maxTenants) || maxTenants < 1) {
      throw new InvalidConfigError(`tenantPool affinity.maxTenantsPerConnection must be a positive integer, got ${JSON.stringify(maxTenants)}`);
    }
    const installed = installedOn.get(pool);
    if (installed !== undefined) {
      installed.#maxTenants = Math.min(installed.#maxTenants, maxTenants);
      return installed;
    }
    const internals = pool as unknown as Partial<PoolInternals>;
    if (!Array.isArray(internals._idle) || !Array.isArray(internals._pendingQueue) || !(internals._expired instanceof WeakSet)) return undefined;
    const affinity = new PoolAffinity(pool, internals as PoolInternals, maxTenants);
    installedOn.set(pool, affinity);
    return affinity;
  }

  /**
   * What a checkout of `key`'s tenant wants: its home. The same object for every checkout of the
   * tenant (a home computed once per epoch serves them all), handed to
   * {@link PoolAffinity.connecting} and {@link PoolAffinity.checkedOut}.
   */
  want(key: string): Want {
    let want = this.#wants.get(key);
    if (want === undefined) {
      if (this.#wants.size >= REMEMBERED_WANTS) this.#wants.clear();
      want = { key, hash: hashOf(key), home: undefined, runnerUp: undefined, epoch: -1 };
      this.#wants.set(key, want);
    }
    return want;
  }

  /** Calls `connect` (which calls `pool.connect`) with the waiter it queues wanting `want`'s home. */
  connecting(want: Want, connect: () => void): void {
    this.#connecting = want;
    try {
      connect();
    } finally {
      this.#connecting = undefined;
    }
  }

  /** Counts a checkout of `raw` for the tenant of `want`: served at home, or borrowed. */
  checkedOut(raw: RawClient, want: Want, tenantId: string): void {
    const member = this.#members.get(raw) ?? this.#join(raw);
    member.served.add(want.key);
    const home = this.#homeOf(want);
    const decision = home === member ? 'home' : 'borrowed';
    if (decision === 'home') this.#home += 1;
    else this.#borrowed += 1;
    if (poolDecisionChannel.hasSubscribers) this.#publish(decision, tenantId, member);
  }

  /** The counters, for {@link AffinityStatistics}. */
  statistics(): AffinityStatistics {
    return {
      enabled: true,
      homeCheckouts: this.#home,
      borrowedCheckouts: this.#borrowed,
      retiredConnections: this.#retired,
      tenantsPerConnection: this.#list.map((member) => member.served.size),
    };
  }

  #join(raw: RawClient): Member {
    const existing = this.#members.get(raw);
    if (existing !== undefined) return existing;
    const member: Member = { raw, seed: (Math.random() * 0x100000000) >>> 0, served: new Set() };
    this.#members.set(raw, member);
    this.#list = [...this.#list, member];
    this.#epoch += 1;
    return member;
  }

  #leave(raw: RawClient): void {
    if (!this.#members.delete(raw)) return;
    this.#list = this.#list.filter((member) => member.raw !== raw);
    this.#epoch += 1;
  }

  /**
   * The open connections with the highest and second-highest scores for the tenant (rendezvous
   * hashing: few tenants move when a connection joins or leaves).
   */
  #homeOf(want: Want): Member | undefined {
    if (want.epoch === this.#epoch) return want.home;
    let best: Member | undefined;
    let second: Member | undefined;
    let bestScore = -1;
    let secondScore = -1;
    for (const member of this.#list) {
      const score = mix(want.hash ^ member.seed);
      if (score > bestScore) {
        second = best;
        secondScore = bestScore;
        bestScore = score;
        best = member;
      } else if (score > secondScore) {
        secondScore = score;
        second = member;
      }
    }
    want.home = best;
    want.runnerUp = second;
    want.epoch = this.#epoch;
    return best;
  }

  /** Where `member` (the home, else the runner-up) of `want` sits among the idle connections, or -1. */
  #idleIndex(member: Member | undefined, idle: readonly IdleItem[]): number {
    if (member === undefined) return -1;
    for (let index = idle.length - 1; index >= 0; index--) if (idle[index]!.client === member.raw) return index;
    return -1;
  }

  #homeIdle(want: Want | undefined, idle: readonly IdleItem[]): number {
    return want === undefined ? -1 : this.#idleIndex(this.#homeOf(want), idle);
  }

  #runnerUpIdle(want: Want | undefined, idle: readonly IdleItem[]): number {
    if (want === undefined) return -1;
    this.#homeOf(want);
    return this.#idleIndex(want.runnerUp, idle);
  }

  /**
   * The idle connection that scores highest for the tenant: its home when idle, else the same
   * runner-up every time, so a tenant whose home is busy spreads over few backends, not all.
   */
  #bestIdle(want: Want, idle: readonly IdleItem[]): number {
    let best = -1;
    let bestScore = -1;
    for (let index = 0; index < idle.length; index++) {
      const member = this.#members.get(idle[index]!.client as RawClient);
      if (member === undefined) continue;
      const score = mix(want.hash ^ member.seed);
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    return best;
  }

  /** Replaces the queue's `push` and `shift` and the idle list's `pop` on this pool's own arrays. */
  #steer(internals: PoolInternals): void {
    const queue = internals._pendingQueue;
    const idle = internals._idle;
    const push = queue.push;
    const shift = queue.shift;
    const pop = idle.pop;
    const tag = (item: Waiter): void => {
      item[WANT] = this.#connecting;
      item[SKIPS] = 0;
    };
    queue.push = (item: Waiter, ...more: Waiter[]): number => {
      tag(item);
      if (more.length === 0) return push.call(queue, item);
      more.forEach(tag);
      return push.call(queue, item, ...more);
    };
    queue.shift = (): Waiter | undefined => {
      const chosen = queue.length > 1 && idle.length > 0 ? this.#waiterForIdle(queue, idle) : 0;
      const item = chosen === 0 ? shift.call(queue) : queue.splice(chosen, 1)[0];
      this.#shifted = item?.[WANT];
      return item;
    };
    idle.pop = (): IdleItem | undefined => {
      const want = this.#shifted;
      this.#shifted = undefined;
      const index = idle.length > 1 && want !== undefined ? this.#bestIdle(want, idle) : -1;
      return index === -1 || index === idle.length - 1 ? pop.call(idle) : idle.splice(index, 1)[0];
    };
  }

  /**
   * The index of the waiter to serve: the head when its home is idle; else the first waiter
   * whose home is, else the first whose runner-up is, so that few tenants spread over every
   * backend; else the head. A waiter passed over MAX_SKIPS times is passed over no more.
   */
  #waiterForIdle(queue: readonly Waiter[], idle: readonly IdleItem[]): number {
    if (this.#homeIdle(queue[0]![WANT], idle) !== -1) return 0;
    const end = Math.min(queue.length, WAITER_WINDOW);
    let passable = 1;
    while (passable < end && (queue[passable - 1]![SKIPS] ?? 0) < MAX_SKIPS) passable++;
    let chosen = 0;
    for (let index = 1; index < passable && chosen === 0; index++) if (this.#homeIdle(queue[index]![WANT], idle) !== -1) chosen = index;
    for (let index = 0; index < passable && chosen === 0; index++) if (this.#runnerUpIdle(queue[index]![WANT], idle) !== -1) chosen = index;
    for (let passed = 0; passed < chosen; passed++) queue[passed]![SKIPS] = (queue[passed]![SKIPS] ?? 0) + 1;
    return chosen;
  }

  #publish(decision: PoolDecisionEvent['decision'], tenantId: string | null, member: Member): void {
    const processID = (member.raw as unknown as { processID?: number }).processID ?? null;
    poolDecisionChannel.publish({ decision, tenantId, processID, tenantsServed: member.served.size } satisfies PoolDecisionEvent);
  }
}

const installedOn = new WeakMap<pg.Pool, PoolAffinity>();

/** FNV-1a over the key's UTF-16 units. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A 32-bit finalizer (murmur3's), so nearby inputs score unrelated. */
function mix(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
