/**
 * Log-in throttling: at most `perAccount` failed log-ins per account (a business and an email)
 * and `perAddress` per client address within `windowSeconds`; past that, a 429 that says when to
 * try again, before any password is hashed.
 *
 * An attempt counts as a failure from the moment it starts and is taken back if it succeeds, so
 * thirty log-ins sent at once are counted before the first password check finishes. A success
 * also forgets the account's earlier failures.
 *
 * The counts live in this process's memory: enough for the example's single process, and lost
 * on restart. Several processes would share them (a table, Redis). The per-account limit also
 * lets anyone lock an account for the window by guessing wrong on purpose; the per-address limit
 * and a longer password rule are the usual answers to that trade-off.
 *
 * @module
 */
import { InventoryError } from './errors.js';

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failed log-ins per account within the window (default 5). */
  readonly perAccount?: number;
  /** Failed log-ins per client address within the window, whatever the account (default 20). */
  readonly perAddress?: number;
  /** The window (default 900: 15 minutes). */
  readonly windowSeconds?: number;
  /** The most accounts and addresses tracked; the oldest are forgotten first (default 100,000). */
  readonly maxKeys?: number;
}

/** A log-in under way: call `succeeded()` when the password was right. */
export interface LoginAttempt {
  succeeded(): void;
}

/**
 * Counts failed log-ins.
 *
 * @example
 * ```ts
 * const attempt = throttle.begin({ account: 'acme:ada@acme.test', address: '203.0.113.7' }); // or a 429
 * if (await verifyPassword(password, hash)) attempt.succeeded();
 * ```
 */
export class LoginThrottle {
  readonly #perAccount: number;
  readonly #perAddress: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  /** key → start times of the failures in the window, oldest first. */
  readonly #failures = new Map<string, number[]>();

  constructor(options: LoginThrottleOptions = {}) {
    this.#perAccount = options.perAccount ?? 5;
    this.#perAddress = options.perAddress ?? 20;
    this.#windowMs = (options.windowSeconds ?? 900) * 1000;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Starts an attempt, or throws a 429 `too_many_attempts` InventoryError with `retryAfterSeconds`. */
  begin(client: { readonly account: string; readonly address: string }): LoginAttempt {
    const now = Date.now();
    const limits = [
      [`account ${client.account}`, this.#perAccount],
      [`address ${client.address}`, this.#perAddress],
    ] as const;
    let waitMs = 0;
    for (const [key, limit] of limits) {
      const times = this.#live(key, now);
      if (times.length >= limit) waitMs = Math.max(waitMs, times[times.length - limit]! + this.#windowMs - now);
    }
    if (waitMs > 0) {
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new InventoryError(429, 'too_many_attempts', `Too many failed log-ins: try again in ${describe(retryAfterSeconds)}`, { retryAfterSeconds });
    }
    for (const [key] of limits) this.#record(key, now);
    return {
      succeeded: () => {
        this.#failures.delete(limits[0][0]);
        const times = this.#failures.get(limits[1][0]);
        const index = times?.indexOf(now) ?? -1;
        if (index !== -1) times!.splice(index, 1);
      },
    };
  }

  /** The failures of a key still in the window (older ones are dropped). */
  #live(key: string, now: number): number[] {
    const times = this.#failures.get(key);
    if (times === undefined) return [];
    while (times.length > 0 && times[0]! + this.#windowMs <= now) times.shift();
    if (times.length === 0) this.#failures.delete(key);
    return times;
  }

  #record(key: string, now: number): void {
    const times = this.#failures.get(key);
    if (times !== undefined) return void times.push(now);
    if (this.#failures.size >= this.#maxKeys) this.#failures.delete(this.#failures.keys().next().value!);
    this.#failures.set(key, [now]);
  }
}

function describe(seconds: number): string {
  return seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}
