/**
 * The pools of the tenant databases under one connection budget: at most `maxConnections`
 * connections are open (or opening) across all of them; a request for a database with no idle
 * connection waits for a free slot, and idle connections of the least recently used databases
 * are closed to make one.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { InvalidConfigError } from '../errors.js';
import { type ConnectionBudget, DatabasePool, type PooledClient, type Waiter } from './database-pool.js';

/**
 * Options of {@link DatabasePools}.
 *
 * @example
 * ```ts
 * const options: DatabasePoolsOptions = { settings: { host: 'db', user: 'app' }, maxConnections: 20 };
 * ```
 */
export interface DatabasePoolsOptions {
  /** The connection settings (pg.Pool options: `connectionString` or host, port, user, password…) used with each database's name. */
  readonly settings: pg.PoolConfig;
  /** The connection settings of another server, by its name (`pool(database, server)`). */
  readonly serverSettings?: ((server: string) => pg.PoolConfig) | undefined;
  /** The most connections open at once across every tenant database. */
  readonly maxConnections: number;
  /** The client class (`pg.Client`); node-postgres' when omitted. */
  readonly Client?: typeof pg.Client | undefined;
  /** How many databases keep a pool object (default 10,000); the least recently used beyond are let go, their idle connections closed. */
  readonly maxPools?: number;
  /** Told of each pool made. */
  readonly onPool?: ((pool: DatabasePool) => void) | undefined;
}

/**
 * The connection settings of one database: `settings` with the database name in place (in the
 * URL too, where node-postgres would otherwise read the URL's).
 *
 * @example
 * ```ts
 * databaseSettings({ connectionString: 'postgres://app@db:5432/app' }, 'tenant_acme').connectionString;
 * // 'postgres://app@db:5432/tenant_acme'
 * ```
 */
export function databaseSettings(settings: pg.PoolConfig, database: string): pg.PoolConfig {
  const options: pg.PoolConfig = { ...settings, database };
  // pg-pool hides the password from enumeration; it is copied on purpose.
  if ('password' in settings) options.password = settings.password;
  if (typeof settings.connectionString === 'string' && /^postgres(ql)?:\/\//.test(settings.connectionString)) {
    const url = new URL(settings.connectionString);
    url.pathname = `/${encodeURIComponent(database)}`;
    url.searchParams.delete('database');
    url.searchParams.delete('dbname');
    options.connectionString = url.toString();
  } else if (settings.connectionString !== undefined) {
    throw new InvalidConfigError("strategy 'database' needs the registry pool's connectionString as a postgres:// URL, or host/port/user settings");
  }
  return options;
}

/**
 * The pools of many databases sharing one connection budget. The pools it hands out behave as
 * pg.Pool (see {@link DatabasePool}); their connections together never exceed `maxConnections`.
 * A waiter is served in arrival order across databases; a connection given back goes to a
 * waiter of its own database first (no new connection needed), unless the oldest waiter, of
 * another database, has been passed over `maxConnections` times already.
 *
 * @example
 * ```ts
 * const pools = new DatabasePools({ settings: { connectionString: 'postgres://app@db/app' }, maxConnections: 20 });
 * await pools.pool('tenant_acme').query('select 1');
 * await pools.close();
 * ```
 */
export class DatabasePools {
  readonly #settings: pg.PoolConfig;
  readonly #serverSettings: ((server: string) => pg.PoolConfig) | undefined;
  readonly #max: number;
  readonly #pools: LRUCache<string, DatabasePool>;
  #Client: typeof pg.Client | undefined;
  readonly #onPool: ((pool: DatabasePool) => void) | undefined;
  /** Connections open or opening. */
  #open = 0;
  /** Connections being closed, whose slots are about to be free. */
  readonly #closing = new Set<PooledClient>();
  /** Idle connections, the longest idle first, with their pool and when they went idle. */
  readonly #idle = new Map<PooledClient, { readonly pool: DatabasePool; readonly since: number }>();
  /** A later #makeRoom, for impatient waiters once an idle connection is stale. */
  #roomTimer: NodeJS.Timeout | undefined;
  /** Waiters in arrival order (settled ones are skipped). */
  #queue: Waiter[] = [];
  #closed = false;
  /** How long opening a connection takes, a moving average: how long a waiter waits for its database's own connection. */
  #openMillis = 20;
  readonly #budget: ConnectionBudget;

  constructor(options: DatabasePoolsOptions) {
    const { maxConnections } = options;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new InvalidConfigError(`databases.maxConnections must be a positive integer, got ${JSON.stringify(maxConnections)}`);
    }
    this.#settings = options.settings;
    this.#serverSettings = options.serverSettings;
    this.#max = maxConnections;
    this.#Client = options.Client;
    this.#onPool = options.onPool;
    this.#pools = new LRUCache<string, DatabasePool>({ max: options.maxPools ?? 10_000, dispose: (pool) => pool.closeIdle() });
    this.#budget = {
      request: (waiter) => this.#request(waiter),
      mayReuse: (pool) => this.#mayReuse(pool),
      idle: (client, pool, idle) => {
        if (idle) this.#idle.set(client, { pool, since: performance.now() });
        else this.#idle.delete(client);
        if (idle) this.#makeRoom();
      },
      closing: (client) => {
        this.#closing.add(client);
      },
      freed: (client) => {
        if (client !== undefined) this.#closing.delete(client);
        this.#open -= 1;
        this.#pulse();
      },
      touch: (pool) => {
        this.#pools.get(pool.key);
      },
      impatient: () => this.#makeRoom(),
      opened: (millis) => {
        this.#openMillis += (millis - this.#openMillis) / 8;
      },
      clientClass: async () => (this.#Client ??= (await import('pg')).default.Client),
    };
  }

  /** The budget: the most connections open at once. */
  get maxConnections(): number {
    return this.#max;
  }

  /** Connections open or opening now, across every database. */
  get openCount(): number {
    return this.#open;
  }

  /** Requests waiting for a connection now. */
  get waitingCount(): number {
    return this.#liveQueue();
  }

  /**
   * The pool of a database, made at its first use: on the server of `settings`, or on the
   * server named `server` (its `serverSettings`). Databases of one name on two servers have two pools.
   */
  pool(database: string, server?: string): DatabasePool {
    if (this.#closed) throw new Error('tenantry: the database pools are closed');
    // A NUL separates a pool key's database from its server: no database name holds one.
    if (database.includes('\u0000')) throw new InvalidConfigError('A database name cannot hold a NUL character');
    const key = poolKey(database, server);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new DatabasePool(database, databaseSettings(this.#settingsOf(server), database), this.#budget, key);
      this.#pools.set(key, pool);
      this.#onPool?.(pool);
    }
    return pool;
  }

  /** Ends the pool of a database (before it is dropped), and lets it go. */
  async forget(database: string, server?: string): Promise<void> {
    const key = poolKey(database, server);
    const pool = this.#pools.peek(key);
    if (pool === undefined) return;
    this.#pools.delete(key);
    await pool.end();
  }

  #settingsOf(server: string | undefined): pg.PoolConfig {
    if (server === undefined) return this.#settings;
    if (this.#serverSettings === undefined) throw new Error(`tenantry: no connection settings for server ${server}`);
    return this.#serverSettings(server);
  }

  /** Ends every pool. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#roomTimer);
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.end()));
  }

  #request(waiter: Waiter): void {
    if (this.#open < this.#max && this.#liveQueue() === 0) {
      this.#open += 1;
      waiter.pool.open(waiter);
      return;
    }
    waiter.pool.enqueue(waiter, Math.max(MIN_PATIENCE_MS, this.#openMillis));
    this.#queue.push(waiter);
    this.#pulse();
  }

  #mayReuse(pool: DatabasePool): boolean {
    const head = this.#next(true);
    if (head === undefined || head.pool === pool) return true;
    // A request whose database has connections in use waits for them, as long as a connection
    // must stay idle before it is closed for one (see #makeRoom): this connection's own waiters
    // would otherwise open it again at once.
    if (head.pool.busyCount > 0 && performance.now() - (head.queuedAt ?? 0) < this.#staleMillis()) return true;
    if (head.passedOver >= this.#max) return false;
    head.passedOver += 1;
    return true;
  }

  /** Serves waiters while slots are free, then closes idle connections for those still waiting. */
  #pulse(): void {
    for (let next = this.#next(false); next !== undefined && this.#open < this.#max; next = this.#next(false)) {
      this.#queue.splice(this.#queue.indexOf(next), 1);
      next.pool.dequeue(next);
      this.#open += 1;
      next.pool.open(next);
    }
    this.#makeRoom();
  }

  /**
   * Closes idle connections, one for each database whose waiters want a slot and that no closing
   * connection will serve: the longest idle of databases that have another connection first,
   * then the longest idle (the least recently used databases'). A database with no connection
   * gets any idle one; a database whose connections are in use (its waiters grew impatient) gets
   * only one idle for longer than {@link staleMillis}: under steady traffic over as many
   * databases as the budget holds, each connection is idle only between its own database's
   * queries, and closing it to open another would trade one warm connection for a cold one
   * (each costs the server a new backend) again and again.
   */
  #makeRoom(): void {
    const urgent = new Set<DatabasePool>();
    const impatient = new Set<DatabasePool>();
    for (const waiter of this.#queue) {
      if (waiter.settled || !wantsSlot(waiter)) continue;
      (waiter.pool.busyCount === 0 ? urgent : impatient).add(waiter.pool);
    }
    for (const pool of urgent) impatient.delete(pool);
    let needed = urgent.size + impatient.size - this.#closing.size;
    let urgentLeft = urgent.size - this.#closing.size;
    if (needed <= 0 || this.#idle.size === 0) return;
    const staleSince = performance.now() - this.#staleMillis();
    let freshest = Infinity;
    for (const surplusOnly of [true, false]) {
      for (const [client, { pool, since }] of this.#idle) {
        if (needed <= 0) return;
        if (surplusOnly && pool.totalCount < 2) continue;
        if (urgentLeft <= 0 && since > staleSince) {
          freshest = Math.min(freshest, since);
          continue;
        }
        pool.evict(client);
        needed -= 1;
        urgentLeft -= 1;
      }
    }
    if (needed > 0 && freshest !== Infinity && this.#roomTimer === undefined) {
      // Impatient waiters are left: look again when the longest idle connection is stale.
      this.#roomTimer = setTimeout(() => {
        this.#roomTimer = undefined;
        this.#makeRoom();
      }, freshest - staleSince + 1);
      this.#roomTimer.unref();
    }
  }

  /** How long a connection stays idle before it may be closed for a database that has connections in use. */
  #staleMillis(): number {
    return Math.max(MIN_STALE_MS, STALE_OPENINGS * this.#openMillis);
  }

  /**
   * The waiter a free slot goes to: the oldest that wants one (its database has no connection in
   * use, or it waited long enough), else (unless `wanting`) the oldest.
   */
  #next(wanting: boolean): Waiter | undefined {
    while (this.#queue.length > 0 && this.#queue[0]!.settled) this.#queue.shift();
    const wants = this.#queue.find((waiter) => !waiter.settled && wantsSlot(waiter));
    return wants ?? (wanting ? undefined : this.#queue.find((waiter) => !waiter.settled));
  }

  #liveQueue(): number {
    let live = 0;
    for (const waiter of this.#queue) if (!waiter.settled) live += 1;
    return live;
  }
}

/** A pool's key: the database's name, and its server's after a NUL (which no identifier holds) when it is not the registry's. */
function poolKey(database: string, server: string | undefined): string {
  return server === undefined ? database : `${database}\u0000${server}`;
}

/**
 * The least a request for a database with connections in use waits for one of them before it
 * takes a slot of its own (closing another database's idle connection); it waits about as long
 * as opening a connection takes, which is far longer than a query. The wait also ends the
 * deadlock of a nested checkout.
 */
const MIN_PATIENCE_MS = 10;

/** The least time a connection stays idle before it may be closed for a database that has connections in use. */
const MIN_STALE_MS = 50;

/** How many times the time opening a connection takes a connection stays idle before it may be closed for a database that has connections in use. */
const STALE_OPENINGS = 4;

/**
 * Whether a waiter wants a slot of its own: its database has no connection in use, or it waited
 * long enough; and none is being opened for its database (one at a time per database while the
 * budget is spent, or waits that outlast the patience would each open one).
 */
function wantsSlot(waiter: Waiter): boolean {
  return waiter.pool.openingCount === 0 && (waiter.impatient || waiter.pool.busyCount === 0);
}
