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
  readonly #max: number;
  readonly #pools: LRUCache<string, DatabasePool>;
  #Client: typeof pg.Client | undefined;
  readonly #onPool: ((pool: DatabasePool) => void) | undefined;
  /** Connections open or opening. */
  #open = 0;
  /** Connections being closed, whose slots are about to be free. */
  readonly #closing = new Set<PooledClient>();
  /** Idle connections, the longest idle first. */
  readonly #idle = new Map<PooledClient, DatabasePool>();
  /** Waiters in arrival order (settled ones are skipped). */
  #queue: Waiter[] = [];
  #closed = false;
  readonly #budget: ConnectionBudget;

  constructor(options: DatabasePoolsOptions) {
    const { maxConnections } = options;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new InvalidConfigError(`databases.maxConnections must be a positive integer, got ${JSON.stringify(maxConnections)}`);
    }
    this.#settings = options.settings;
    this.#max = maxConnections;
    this.#Client = options.Client;
    this.#onPool = options.onPool;
    this.#pools = new LRUCache<string, DatabasePool>({ max: options.maxPools ?? 10_000, dispose: (pool) => pool.closeIdle() });
    this.#budget = {
      request: (waiter) => this.#request(waiter),
      mayReuse: (pool) => this.#mayReuse(pool),
      idle: (client, pool, idle) => {
        if (idle) this.#idle.set(client, pool);
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
        this.#pools.get(pool.database);
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
    return this.#queue.filter((waiter) => !waiter.settled).length;
  }

  /** The pool of a database, made at its first use. */
  pool(database: string): DatabasePool {
    if (this.#closed) throw new Error('tenantry: the database pools are closed');
    let pool = this.#pools.get(database);
    if (pool === undefined) {
      pool = new DatabasePool(database, databaseSettings(this.#settings, database), this.#budget);
      this.#pools.set(database, pool);
      this.#onPool?.(pool);
    }
    return pool;
  }

  /** Ends the pool of a database (before it is dropped), and lets it go. */
  async forget(database: string): Promise<void> {
    const pool = this.#pools.peek(database);
    if (pool === undefined) return;
    this.#pools.delete(database);
    await pool.end();
  }

  /** Ends every pool. */
  async close(): Promise<void> {
    this.#closed = true;
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
    waiter.pool.enqueue(waiter);
    this.#queue.push(waiter);
    this.#pulse();
  }

  #mayReuse(pool: DatabasePool): boolean {
    const head = this.#head();
    if (head === undefined || head.pool === pool) return true;
    if (head.passedOver >= this.#max) return false;
    head.passedOver += 1;
    return true;
  }

  /** Serves waiters while slots are free, then closes idle connections for those still waiting. */
  #pulse(): void {
    for (let head = this.#head(); head !== undefined && this.#open < this.#max; head = this.#head()) {
      this.#queue.shift();
      head.pool.dequeue(head);
      this.#open += 1;
      head.pool.open(head);
    }
    this.#makeRoom();
  }

  /** Closes the longest idle connections, one for each waiter that no closing connection will serve. */
  #makeRoom(): void {
    let needed = this.#liveQueue() - this.#closing.size;
    for (const [client, pool] of this.#idle) {
      if (needed <= 0) break;
      pool.evict(client);
      needed -= 1;
    }
  }

  /** The oldest waiter still waiting. */
  #head(): Waiter | undefined {
    while (this.#queue.length > 0 && this.#queue[0]!.settled) this.#queue.shift();
    return this.#queue[0];
  }

  #liveQueue(): number {
    this.#head();
    let live = 0;
    for (const waiter of this.#queue) if (!waiter.settled) live += 1;
    return live;
  }
}
