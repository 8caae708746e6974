/**
 * A pg.Pool-compatible pool on one tenant database whose connections are drawn from a budget
 * shared with the other tenant databases' pools ({@link DatabasePools}).
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type pg from 'pg';

/** A connection of a database pool: a pg.Client with pg-pool's `release`. */
export type PooledClient = pg.Client & {
  release(error?: Error | boolean): void;
  /** Uses so far, as pg-pool counts them (tenantPool reads it against `maxUses`). */
  _poolUseCount?: number;
};

/** What a request for a connection is called back with. */
export type ConnectDone = (error: Error | undefined, client?: PooledClient, release?: (error?: Error | boolean) => void) => void;

/** A request for a connection that waits for the budget, queued in its pool and in the budget's queue. */
export interface Waiter {
  readonly pool: DatabasePool;
  readonly done: ConnectDone;
  /** How often a connection went to a later waiter of another database instead of this one. */
  passedOver: number;
  settled: boolean;
  /** Whether it stopped waiting for a connection of its database in use, and wants a slot of its own. */
  impatient: boolean;
  /** When it was queued (performance.now()), once the budget could not serve it at once. */
  queuedAt?: number;
  timer?: NodeJS.Timeout | undefined;
  patience?: NodeJS.Timeout | undefined;
}

/**
 * What a database pool asks of the budget it draws from.
 *
 * @example
 * ```ts
 * declare const budget: ConnectionBudget;
 * declare const pool: DatabasePool;
 * declare const waiter: Waiter;
 * budget.request(waiter); // opens a connection for it now, or queues it
 * ```
 */
export interface ConnectionBudget {
  /** Opens a connection for `waiter` when the budget allows, else queues it (closing idle connections elsewhere to make room). */
  request(waiter: Waiter): void;
  /** Whether a connection of `pool` may serve that pool's next waiter, rather than go to an older waiter of another database. */
  mayReuse(pool: DatabasePool): boolean;
  /** A connection went idle (`true`) or was taken or closed (`false`). */
  idle(client: PooledClient, pool: DatabasePool, idle: boolean): void;
  /** A connection is being closed: its slot is free once it has ended. */
  closing(client: PooledClient): void;
  /** A connection (or an attempt to open one) ended: its slot is free. */
  freed(client: PooledClient | undefined): void;
  /** The pool was used now (its database is the most recently used). */
  touch(pool: DatabasePool): void;
  /** A waiter stopped waiting for a connection of its database in use: it wants a slot now. */
  impatient(waiter: Waiter): void;
  /** A connection opened in `millis`. */
  opened(millis: number): void;
  /** Makes the budget's clients (`pg.Client`). */
  clientClass(): Promise<typeof pg.Client>;
}

const CLOSED_POOL = 'Cannot use a pool after calling end on the pool';

/**
 * One tenant database's pool. It behaves as pg.Pool for what tenantry and most callers use:
 * `connect()` (promise or callback), `query`, `end`, the `connect`, `acquire`, `release`,
 * `remove` and `error` events, `options` and the counters; a connection released with an
 * error (or not idle) is closed, never reused. It opens a connection only when the shared
 * budget has room.
 *
 * @example
 * ```ts
 * declare const pools: import('./database-pools.js').DatabasePools;
 * const pool = pools.pool('tenant_acme');
 * const { rows } = await pool.query('select current_database() as db');
 * ```
 */
export class DatabasePool extends EventEmitter {
  /** The connection settings of this database, as pg.Pool's `options`. */
  readonly options: pg.PoolConfig;
  readonly database: string;
  /** The pool's key among the budget's pools: the database's name, with its server's when not on the registry's. */
  readonly key: string;
  readonly #budget: ConnectionBudget;
  readonly #clients = new Set<PooledClient>();
  /** Idle connections, the most recently used last. */
  readonly #idle: PooledClient[] = [];
  readonly #idleTimers = new Map<PooledClient, NodeJS.Timeout>();
  readonly #waiting: Waiter[] = [];
  readonly #released = new WeakSet<PooledClient>();
  #opening = 0;
  #ending = false;
  #ended = false;
  #onEnded: (() => void)[] = [];

  /** @internal Made by {@link DatabasePools}. */
  constructor(database: string, options: pg.PoolConfig, budget: ConnectionBudget, key = database) {
    super();
    this.database = database;
    this.key = key;
    this.options = options;
    this.#budget = budget;
  }

  get totalCount(): number {
    return this.#clients.size + this.#opening;
  }
  get idleCount(): number {
    return this.#idle.length;
  }
  get waitingCount(): number {
    return this.#waiting.length;
  }
  /** Connections being opened. */
  get openingCount(): number {
    return this.#opening;
  }
  /** Connections checked out or being opened: they come back to this pool's waiters. */
  get busyCount(): number {
    return this.totalCount - this.#idle.length;
  }
  get ending(): boolean {
    return this.#ending;
  }
  get ended(): boolean {
    return this.#ended;
  }

  /** Checks out a connection: an idle one of this database, else a new one when the budget has room, else after a wait. */
  connect(): Promise<PooledClient>;
  connect(callback: ConnectDone): void;
  connect(callback?: ConnectDone): Promise<PooledClient> | undefined {
    let promise: Promise<PooledClient> | undefined;
    let done: ConnectDone;
    if (callback === undefined) {
      let resolve!: (client: PooledClient) => void;
      let reject!: (error: Error) => void;
      promise = new Promise<PooledClient>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      done = (error, client) => (error === undefined ? resolve(client!) : reject(error));
    } else {
      done = callback;
    }
    if (this.#ending) {
      done(new Error(CLOSED_POOL), undefined, noop);
      return promise;
    }
    this.#budget.touch(this);
    const waiter: Waiter = { pool: this, done, passedOver: 0, settled: false, impatient: false };
    const idle = this.#idle.pop();
    if (idle !== undefined) this.#handOut(this.#unidle(idle), waiter);
    else this.#budget.request(waiter);
    return promise;
  }

  /** Runs one query on a connection of this pool, as pg.Pool#query does. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>>;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | pg.QueryConfig, values: unknown[] | undefined, callback: (error: Error | undefined, result?: pg.QueryResult<R>) => void): void;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string | pg.QueryConfig,
    values?: unknown[],
    callback?: (error: Error | undefined, result?: pg.QueryResult<R>) => void,
  ): Promise<pg.QueryResult<R>> | undefined {
    const run = async (): Promise<pg.QueryResult<R>> => {
      const client = await this.connect();
      try {
        const result = await client.query<R>(text as pg.QueryConfig, values);
        client.release();
        return result;
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
    };
    if (callback === undefined) return run();
    run().then((result) => callback(undefined, result), (error: Error) => callback(error));
    return undefined;
  }

  /** Closes the idle connections, refuses new checkouts and waits until every connection is closed. */
  end(): Promise<void> {
    this.#ending = true;
    for (const waiter of this.#waiting.splice(0)) this.#fail(waiter, new Error(CLOSED_POOL));
    this.closeIdle();
    return new Promise((resolve) => {
      this.#onEnded.push(resolve);
      this.#endIfDone();
    });
  }

  /** Closes every idle connection of this pool. */
  closeIdle(): void {
    for (const client of this.#idle.slice()) this.evict(client);
  }

  /** @internal Closes an idle connection (the budget makes room with it). */
  evict(client: PooledClient): void {
    const index = this.#idle.indexOf(client);
    if (index === -1) return;
    this.#idle.splice(index, 1);
    this.#close(this.#unidle(client));
  }

  /**
   * @internal Queues a waiter the budget cannot serve yet. While this database has connections
   * in use, it waits for one of them (a query's time) rather than close another database's idle
   * connection to open one, for up to `patienceMillis` (about what opening one takes).
   */
  enqueue(waiter: Waiter, patienceMillis: number): void {
    waiter.queuedAt = performance.now();
    this.#waiting.push(waiter);
    if (this.busyCount > 0) {
      waiter.patience = setTimeout(() => {
        waiter.impatient = true;
        if (!waiter.settled) this.#budget.impatient(waiter);
      }, patienceMillis);
      waiter.patience.unref();
    }
    const timeout = this.options.connectionTimeoutMillis ?? 0;
    if (timeout > 0) {
      waiter.timer = setTimeout(() => {
        const index = this.#waiting.indexOf(waiter);
        if (index !== -1) this.#waiting.splice(index, 1);
        this.#fail(waiter, new Error('timeout exceeded when trying to connect'));
      }, timeout);
      waiter.timer.unref();
    }
  }

  /** @internal Takes a queued waiter out of this pool's queue, for the budget to serve it. */
  dequeue(waiter: Waiter): void {
    const index = this.#waiting.indexOf(waiter);
    if (index !== -1) this.#waiting.splice(index, 1);
  }

  /** @internal Opens a connection for `waiter`; the budget has counted it. */
  open(waiter: Waiter): void {
    clearTimeout(waiter.patience);
    this.#opening += 1;
    const started = performance.now();
    this.#budget.clientClass().then(
      (Client) => {
        const client = new Client(this.options) as PooledClient;
        client.connect((error: Error | undefined) => {
          this.#opening -= 1;
          this.#budget.opened(performance.now() - started);
          if (error) {
            client.on('error', noop);
            this.#budget.freed(undefined);
            this.#fail(waiter, error);
            this.#endIfDone();
            return;
          }
          this.#adopt(client);
          this.emit('connect', client);
          this.#handOut(client, waiter);
        });
      },
      (error: Error) => {
        this.#opening -= 1;
        this.#budget.freed(undefined);
        this.#fail(waiter, error);
      },
    );
  }

  /** Gives a new connection its `release`, and watches it for errors and its end. */
  #adopt(client: PooledClient): void {
    this.#clients.add(client);
    client.release = (error?: Error | boolean) => this.#release(client, error);
    // Kept for good: an idle connection's error closes it; a checked-out one's fails its holder's query.
    client.on('error', (error: Error) => {
      const index = this.#idle.indexOf(client);
      if (index === -1) return;
      this.#idle.splice(index, 1);
      this.#close(this.#unidle(client));
      if (this.listenerCount('error') > 0) this.emit('error', error, client);
    });
    client.once('end', () => this.#gone(client));
  }

  #release(client: PooledClient, error: Error | boolean | undefined): void {
    if (this.#released.has(client)) throw new Error('Release called on client which has already been released to the pool.');
    this.#released.add(client);
    this.emit('release', error === true || error === false ? undefined : error, client);
    const uses = (client._poolUseCount = (client._poolUseCount ?? 0) + 1);
    const health = client as unknown as { _queryable?: boolean; _ending?: boolean };
    if ((error !== undefined && error !== false) || this.#ending || health._queryable === false || health._ending === true || uses >= (this.options.maxUses ?? Infinity)) {
      this.#close(client);
      return;
    }
    if (this.#waiting.length > 0) {
      if (this.#budget.mayReuse(this)) {
        this.#handOut(client, this.#waiting.shift()!);
        return;
      }
      // An older waiter of another database gets this connection's slot.
      this.#close(client);
      return;
    }
    this.#idle.push(client);
    const timeout = this.options.idleTimeoutMillis ?? 10_000;
    if (timeout > 0) {
      const timer = setTimeout(() => this.evict(client), timeout);
      timer.unref();
      this.#idleTimers.set(client, timer);
    }
    this.#budget.idle(client, this, true);
  }

  #unidle(client: PooledClient): PooledClient {
    clearTimeout(this.#idleTimers.get(client));
    this.#idleTimers.delete(client);
    this.#budget.idle(client, this, false);
    return client;
  }

  #handOut(client: PooledClient, waiter: Waiter): void {
    waiter.settled = true;
    clearTimeout(waiter.timer);
    clearTimeout(waiter.patience);
    this.#released.delete(client);
    this.emit('acquire', client);
    waiter.done(undefined, client, client.release);
  }

  #fail(waiter: Waiter, error: Error): void {
    if (waiter.settled) return;
    waiter.settled = true;
    clearTimeout(waiter.timer);
    clearTimeout(waiter.patience);
    waiter.done(error, undefined, noop);
  }

  #close(client: PooledClient): void {
    this.#budget.closing(client);
    client.end().catch(noop);
  }

  #gone(client: PooledClient): void {
    if (!this.#clients.delete(client)) return;
    const index = this.#idle.indexOf(client);
    if (index !== -1) {
      this.#idle.splice(index, 1);
      this.#unidle(client);
    }
    this.emit('remove', client);
    this.#budget.freed(client);
    this.#endIfDone();
  }

  #endIfDone(): void {
    if (!this.#ending || this.totalCount > 0) return;
    this.#ended = true;
    for (const resolve of this.#onEnded.splice(0)) resolve();
  }
}

function noop(): void {}
