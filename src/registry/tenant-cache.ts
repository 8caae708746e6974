/**
 * The lookup cache in front of the registry: LRU with a TTL, and a shorter TTL for misses so
 * random subdomains cannot hammer the database. A tenant in use is reloaded in the background
 * before it expires, so its requests never wait for the registry.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type { Tenant } from '../types.js';

/**
 * Options of the lookup cache (`createTenancy({ cache })`).
 *
 * @example
 * ```ts
 * createTenancy({ pool, cache: { ttl: 60_000, negativeTtl: 5_000, max: 50_000 } });
 * ```
 */
export interface TenantCacheOptions {
  /**
   * How long a found tenant is kept, in ms (default 30 000). A tenant looked up in the last
   * quarter of its TTL is reloaded in the background meanwhile, so one in use never expires.
   */
  readonly ttl?: number;
  /** How long "no such tenant or domain" is kept, in ms (default 2 000). */
  readonly negativeTtl?: number;
  /** At most this many tenants, and as many misses, by id and again by domain (default 10 000). */
  readonly max?: number;
  /** Listen for registry changes of other processes (PostgreSQL LISTEN/NOTIFY; default true). */
  readonly listen?: boolean;
}

/**
 * A found tenant, when a lookup should start reloading it, and when it expires (`performance.now()`
 * times: a wall clock set back would keep entries past their TTL).
 */
type Entry = { readonly tenant: Tenant; readonly refreshAt: number; readonly expiresAt: number };

/** Looks a key (an id, or a domain) up in the registry. */
type Load = (key: string) => Promise<Tenant | undefined>;

/** The share of the TTL after which a looked-up entry is reloaded in the background. */
const REFRESH_AFTER = 0.75;

/** After a failed reload, how long (at most) until a lookup tries again, in ms. */
const RETRY_AFTER = 1_000;

/**
 * The lookups of one kind of key (tenant ids, or domains): found tenants, misses, and the
 * registry lookups in flight.
 */
class Lookups {
  /**
   * Read with `peek`, which leaves recency alone: a tenant in use is set again by its reload
   * every three quarters of a TTL, so the ones not in use are the first to go. Found tenants
   * carry their own expiry, checked with the clock read a hit makes anyway (an LRU TTL would
   * read a clock of its own and arm a timer for it about once a millisecond).
   */
  readonly found: LRUCache<string, Entry>;
  /** Misses live apart, so a flood of random names cannot push real tenants out. */
  readonly misses: LRUCache<string, true>;
  readonly loading = new Map<string, Promise<Tenant | undefined>>();

  constructor(max: number, negativeTtl: number) {
    this.found = new LRUCache<string, Entry>({ max });
    this.misses = new LRUCache<string, true>({ max, ttl: negativeTtl });
  }

  clear(): void {
    this.loading.clear();
    this.found.clear();
    this.misses.clear();
  }
}

/**
 * Caches registry lookups by id and by domain, with in-flight lookups shared, reloading entries
 * in use before they expire.
 *
 * @example
 * ```ts
 * declare const registry: import('./registry.js').TenantRegistry;
 * const cache = new TenantCache({ ttl: 30_000 });
 * await cache.byId('acme', (id) => registry.get(id));
 * cache.invalidate('acme');
 * ```
 */
export class TenantCache {
  readonly #ids: Lookups;
  readonly #domains: Lookups;
  readonly #ttl: number;
  readonly #refreshAfter: number;
  readonly #retryAfter: number;
  #generation = 0;

  constructor(options: TenantCacheOptions = {}) {
    const max = options.max ?? 10_000;
    const negativeTtl = options.negativeTtl ?? 2_000;
    this.#ids = new Lookups(max, negativeTtl);
    this.#domains = new Lookups(max, negativeTtl);
    this.#ttl = options.ttl ?? 30_000;
    this.#refreshAfter = this.#ttl * REFRESH_AFTER;
    this.#retryAfter = Math.min(RETRY_AFTER, this.#ttl / 8);
  }

  byId(id: string, load: Load): Promise<Tenant | undefined> {
    return this.#get(this.#ids, id, load);
  }

  byDomain(domain: string, load: Load): Promise<Tenant | undefined> {
    return this.#get(this.#domains, domain, load);
  }

  /**
   * The cached answer for an id, without waiting: the tenant, `null` for a cached miss,
   * `undefined` when nothing is cached. A tenant due for reloading is reloaded in the background
   * with `loadById`.
   */
  peekId(id: string, loadById: Load): Tenant | null | undefined {
    const cached = this.#hit(this.#ids, id, loadById);
    if (cached !== undefined) return cached;
    return this.#ids.misses.has(id) ? null : undefined;
  }

  /** Forgets a tenant (by id and by its domains) and every cached miss. */
  invalidate(tenantId: string): void {
    this.#generation += 1;
    for (const lookups of [this.#ids, this.#domains]) {
      lookups.loading.clear();
      lookups.misses.clear();
      for (const [key, entry] of lookups.found.entries()) {
        if (entry.tenant.id === tenantId || (lookups === this.#ids && key === tenantId)) lookups.found.delete(key);
      }
    }
  }

  clear(): void {
    this.#generation += 1;
    this.#ids.clear();
    this.#domains.clear();
  }

  async #get(lookups: Lookups, key: string, load: Load): Promise<Tenant | undefined> {
    const cached = this.#hit(lookups, key, load);
    if (cached !== undefined) return cached;
    if (lookups.misses.has(key)) return undefined;
    return this.#load(lookups, key, load);
  }

  /**
   * The cached tenant of `key` unless it has expired (an expired one is dropped). One due for
   * reloading is reloaded in the background; after a failed reload the entry keeps serving until
   * its TTL, and lookups try again a little later, not on every hit.
   */
  #hit(lookups: Lookups, key: string, load: Load): Tenant | undefined {
    const entry = lookups.found.peek(key);
    if (entry === undefined) return undefined;
    const now = performance.now();
    if (now >= entry.expiresAt) {
      lookups.found.delete(key);
      return undefined;
    }
    if (now >= entry.refreshAt && !lookups.loading.has(key)) {
      this.#load(lookups, key, load).catch(() => {
        if (lookups.found.peek(key) === entry) lookups.found.set(key, { ...entry, refreshAt: performance.now() + this.#retryAfter });
      });
    }
    return entry.tenant;
  }

  /** One registry lookup per key at a time; its answer is cached unless the cache was invalidated meanwhile. */
  #load(lookups: Lookups, key: string, load: Load): Promise<Tenant | undefined> {
    const inFlight = lookups.loading.get(key);
    if (inFlight !== undefined) return inFlight;
    const generation = this.#generation;
    const loading = load(key)
      .then((tenant) => {
        if (generation === this.#generation) {
          if (tenant === undefined) {
            lookups.found.delete(key);
            lookups.misses.set(key, true);
          } else {
            const now = performance.now();
            lookups.found.set(key, { tenant, refreshAt: now + this.#refreshAfter, expiresAt: now + this.#ttl });
          }
        }
        return tenant;
      })
      .finally(() => {
        if (lookups.loading.get(key) === loading) lookups.loading.delete(key);
      });
    lookups.loading.set(key, loading);
    return loading;
  }
}
