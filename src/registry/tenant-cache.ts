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
  /** At most this many entries (default 10 000). */
  readonly max?: number;
  /** Listen for registry changes of other processes (PostgreSQL LISTEN/NOTIFY; default true). */
  readonly listen?: boolean;
}

/** A found tenant, when (Date.now()) a lookup should start reloading it, and when it expires. */
type Entry = { readonly tenant: Tenant; readonly refreshAt: number; readonly expiresAt: number };

/** The share of the TTL after which a looked-up entry is reloaded in the background. */
const REFRESH_AFTER = 0.75;

/**
 * Caches registry lookups by id and by domain, with in-flight lookups shared, reloading entries
 * in use before they expire.
 *
 * @example
 * ```ts
 * const cache = new TenantCache({ ttl: 30_000 });
 * await cache.byId('acme', () => registry.get('acme'));
 * cache.invalidate('acme');
 * ```
 */
export class TenantCache {
  readonly #entries: LRUCache<string, Entry>;
  /** Misses live apart, so a flood of random subdomains cannot push real tenants out. */
  readonly #misses: LRUCache<string, true>;
  readonly #loading = new Map<string, Promise<Tenant | undefined>>();
  readonly #negativeTtl: number;
  readonly #ttl: number;
  readonly #refreshAfter: number;
  #generation = 0;

  constructor(options: TenantCacheOptions = {}) {
    this.#ttl = options.ttl ?? 30_000;
    // Found tenants carry their own expiry, read with the one clock read a hit makes anyway; an
    // LRU TTL would read a clock of its own and arm a timer for it about once a millisecond.
    this.#entries = new LRUCache<string, Entry>({ max: options.max ?? 10_000 });
    this.#refreshAfter = this.#ttl * REFRESH_AFTER;
    this.#negativeTtl = options.negativeTtl ?? 2_000;
    this.#misses = new LRUCache<string, true>({ max: options.max ?? 10_000, ttl: this.#negativeTtl });
  }

  byId(id: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    return this.#get(`id:${id}`, load);
  }

  byDomain(domain: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    return this.#get(`domain:${domain}`, load);
  }

  /**
   * The cached answer for an id, without waiting: the tenant, `null` for a cached miss,
   * `undefined` when nothing is cached. A tenant due for reloading is reloaded with `load` in
   * the background with `loadById`.
   */
  peekId(id: string, loadById: (id: string) => Promise<Tenant | undefined>): Tenant | null | undefined {
    const key = `id:${id}`;
    const now = Date.now();
    const cached = this.#fresh(key, now);
    if (cached !== undefined) {
      if (this.#due(key, cached, now)) this.#reload(key, () => loadById(id));
      return cached.tenant;
    }
    return this.#misses.has(key) ? null : undefined;
  }

  /** Forgets a tenant (by id and by its domains) and every cached miss. */
  invalidate(tenantId: string): void {
    this.#generation += 1;
    this.#loading.clear();
    this.#misses.clear();
    for (const [key, entry] of this.#entries.entries()) {
      if (entry.tenant.id === tenantId || key === `id:${tenantId}`) this.#entries.delete(key);
    }
  }

  clear(): void {
    this.#generation += 1;
    this.#loading.clear();
    this.#entries.clear();
    this.#misses.clear();
  }

  async #get(key: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    const now = Date.now();
    const cached = this.#fresh(key, now);
    if (cached !== undefined) {
      if (this.#due(key, cached, now)) this.#reload(key, load);
      return cached.tenant;
    }
    if (this.#misses.has(key)) return undefined;
    return this.#load(key, load);
  }

  /** The entry of `key` unless it has expired (an expired one is dropped). */
  #fresh(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now < entry.expiresAt) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  /** Whether a fresh entry should be reloaded now (and is not being reloaded already). */
  #due(key: string, entry: Entry, now: number): boolean {
    return now >= entry.refreshAt && !this.#loading.has(key);
  }

  /** Reloads in the background: a failure leaves the entry to expire with its TTL, and the next lookup tries again. */
  #reload(key: string, load: () => Promise<Tenant | undefined>): void {
    this.#load(key, load).catch(() => undefined);
  }

  /** One registry lookup per key at a time; its answer is cached unless the cache was invalidated meanwhile. */
  #load(key: string, load: () => Promise<Tenant | undefined>): Promise<Tenant | undefined> {
    const inFlight = this.#loading.get(key);
    if (inFlight !== undefined) return inFlight;
    const generation = this.#generation;
    const loading = load()
      .then((tenant) => {
        if (generation === this.#generation) {
          if (tenant === undefined) {
            this.#entries.delete(key);
            this.#misses.set(key, true);
          } else {
            const now = Date.now();
            this.#entries.set(key, { tenant, refreshAt: now + this.#refreshAfter, expiresAt: now + this.#ttl });
          }
        }
        return tenant;
      })
      .finally(() => {
        if (this.#loading.get(key) === loading) this.#loading.delete(key);
      });
    this.#loading.set(key, loading);
    return loading;
  }
}
