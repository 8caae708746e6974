/**
 * `tenantPool()`: a pg.Pool wrapper that scopes every query to the active tenant.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { TenantScope } from '../context.js';
import { sqlState } from '../db.js';
import { InvalidConfigError, NoTenantError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import type { RawClient } from './connection-state.js';
import { connectionState, knownConnectionState } from './connection-state.js';
import { type Connection, HeldConnections } from './held-connections.js';
import { releaseConnection } from './release.js';
import { type AffinityOptions, type AffinityStatistics, PoolAffinity } from './tenant-affinity.js';
import type { ScopePolicy, Submittable } from './scoped-query.js';
import { needsOwnTransaction, runsAlone, ScopedQuery } from './scoped-query.js';
import { scopeSettingOf } from './scope-setting.js';
import { pausedWrite } from './paused-writes.js';
import { serversOf, singleTenantPools, type TenantRoute, tenantRoutes } from '../tenancy-internals.js';
import type { QueryCallback, QueryInput } from './tenant-client.js';
import { type GiveBack, TenantClient } from './tenant-client.js';

/**
 * Options of {@link tenantPool}.
 *
 * @example
 * ```ts
 * tenantPool(tenancy, pool, { mode: 'transaction' }); // behind PgBouncer in transaction mode
 * ```
 */
export interface TenantPoolOptions {
  /**
   * `'session'` (default): the connection's search_path is set for the session, and left as it
   * is when the next query wants the same tenant. `'transaction'`: for PgBouncer in transaction
   * mode; the scope is set with `SET LOCAL` in every transaction, so no
   * session state is left behind on a server connection another client may get next.
   */
  readonly mode?: 'session' | 'transaction';
  /**
   * Session mode: how a connection is cleaned before it serves another tenant (held cursors,
   * LISTEN, settings made with SET or set_config, temporary tables, session advisory locks; see
   * docs/pg.md), in the same exchange as the query.
   * - `true` (default): when a statement of the last tenant may have left such state (its text
   *   says so, or the server reported a setting changed); free otherwise.
   * - `'always'`: whenever the tenant changes, also after state left where the text does not
   *   show it (a function that calls set_config); costs seven utility statements per switch.
   * - `false`: never (settings an app makes with SET in a pool `connect` listener then survive).
   */
  readonly resetBetweenTenants?: boolean | 'always';
  /**
   * Appends a comment in sqlcommenter format naming the scope (`/*tenant='acme'*\/`, or
   * `/*tenant_scope='shared'*\/`) to every statement tenantPool sends, so the server's logs and
   * `pg_stat_activity` show whose statement it is (default off). Named prepared statements keep
   * their text. `pg_stat_statements` groups statements by their plan's shape, comments aside, so
   * its rows are not split per tenant.
   */
  readonly sqlComment?: boolean;
  /**
   * Session mode: tenant-affine connections (default on). Each tenant has a home among the
   * pool's connections, which serves it when idle (another idle connection does when the home
   * is busy: no query waits for its home), so each backend reads only its share of the
   * tenants' tables and keeps their catalog entries warm; a connection that has served
   * `maxTenantsPerConnection` distinct tenants is closed after its current use, which bounds
   * backend memory whatever the tenant count (docs/pg.md). `false` keeps pg-pool's order.
   * Off in transaction mode, where the pooler picks the server connection.
   */
  readonly affinity?: boolean | AffinityOptions;
}

const AFFINITY_OFF: AffinityStatistics = Object.freeze({
  enabled: false,
  homeCheckouts: 0,
  borrowedCheckouts: 0,
  retiredConnections: 0,
  tenantsPerConnection: Object.freeze([]) as readonly number[],
});

type Callback = QueryCallback;

/** A pool queries go to, with its tenant affinity. */
interface Lane {
  readonly pool: pg.Pool;
  readonly affinity: PoolAffinity | undefined;
}

/**
 * What `connect(callback)` calls back with, as pg.Pool does: a release function also on failure.
 *
 * @example
 * ```ts
 * db.connect((error, client, release) => {
 *   if (error) return release();
 *   client!.query('select 1', () => release());
 * });
 * ```
 */
export type ConnectCallback = (error: Error | undefined, client: TenantClient | undefined, release: (error?: Error | boolean) => void) => void;

const guarded = new WeakSet<object>();

/**
 * Gives a raw pooled client an 'error' listener of its own, for good. pg-pool removes its idle
 * listener when it hands a client out, and the tenant client attaches one a few microtasks later:
 * a FATAL parsed in between (the same socket read as the ReadyForQuery that completed a new
 * connection, or that returned a client to a waiter) would be emitted with no listener, an
 * uncaught exception. Nothing is lost: pg marks the client not queryable, its next query fails
 * with a clear error, and a client that is not queryable is destroyed when released.
 */
function guardClient(client: EventEmitter): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', ignoreClientError);
}

function ignoreClientError(): void {}

/**
 * A pg.Pool-compatible pool whose every query runs in the active tenant's schema. Made by
 * {@link tenantPool}.
 *
 * @example
 * ```ts
 * const db = tenantPool(tenancy, pool);
 * await tenancy.run('acme', () => db.query('select * from products'));
 * ```
 */
export class TenantPool extends EventEmitter {
  readonly #tenancy: Tenancy;
  readonly #pool: pg.Pool;
  readonly #policy: ScopePolicy;
  readonly #held: HeldConnections;
  /** The wrapped pool, with its affinity: the lane of the shared scope and of tenants on the registry's server. */
  readonly #ownLane: Lane;
  readonly #affinityOption: AffinityOptions | false;
  /** Where a tenant placed on another server goes (`createTenancy({ servers })`); none: everything here. */
  readonly #route: TenantRoute | undefined;
  /** The pools of other servers this wrapper has used, with their affinity. */
  readonly #lanes = new WeakMap<object, Lane>();
  /** One client object per pooled connection: the same at every checkout and in every event. */
  readonly #clients = new WeakMap<RawClient, TenantClient>();

  /** @internal Use {@link tenantPool}. */
  constructor(tenancy: Tenancy, pool: pg.Pool, options: TenantPoolOptions = {}) {
    super();
    if (typeof tenancy?.scope !== 'function' || typeof tenancy.run !== 'function') {
      throw new InvalidConfigError(`tenantPool expects a tenancy from createTenancy(), instead got a '${typeof tenancy}'`);
    }
    if (typeof pool?.connect !== 'function' || typeof pool.query !== 'function') {
      throw new InvalidConfigError(`tenantPool expects a pg.Pool, instead got a '${typeof pool}'`);
    }
    const mode = options.mode ?? 'session';
    if (mode !== 'session' && mode !== 'transaction') {
      throw new InvalidConfigError(`tenantPool mode must be 'session' or 'transaction', got ${JSON.stringify(mode)}`);
    }
    this.#tenancy = tenancy;
    this.#pool = pool;
    const reset = options.resetBetweenTenants ?? true;
    if (typeof reset !== 'boolean' && reset !== 'always') {
      throw new InvalidConfigError(`tenantPool resetBetweenTenants must be true, false or 'always', got ${JSON.stringify(reset)}`);
    }
    const clean = mode !== 'session' || reset === false ? false : reset === 'always' ? 'always' : 'detected';
    if (options.sqlComment !== undefined && typeof options.sqlComment !== 'boolean') {
      throw new InvalidConfigError(`tenantPool sqlComment must be true or false, got ${JSON.stringify(options.sqlComment)}`);
    }
    this.#policy = { lifetime: mode, clean, comment: options.sqlComment === true };
    const affinity = options.affinity ?? true;
    if (typeof affinity !== 'boolean' && (typeof affinity !== 'object' || affinity === null)) {
      throw new InvalidConfigError(`tenantPool affinity must be true, false or { maxTenantsPerConnection }, got ${JSON.stringify(affinity)}`);
    }
    this.#affinityOption = affinity === false || mode !== 'session' ? false : affinity === true ? {} : affinity;
    this.#ownLane = { pool, affinity: this.#affinityOption === false ? undefined : PoolAffinity.of(pool, this.#affinityOption) };
    this.#route = tenantRoutes.get(tenancy);
    serversOf.get(tenancy)?.usePoolFactory((connectionString) => new pg.Pool({ ...this.options, connectionString }));
    this.#held = new HeldConnections(
      () => this.options.maxUses ?? Infinity,
      (event, raw, releasedBy) => {
        if (this.listenerCount(event) > 0) this.emit(event, ...(event === 'release' ? [releasedBy] : []), this.#clientOf(raw));
      },
    );
    this.#forwardEvents(pool);
  }

  /** Re-emits a pool's events with this wrapper's client objects, and guards its new clients. */
  #forwardEvents(pool: pg.Pool): void {
    pool.on('connect', (client: pg.PoolClient) => guardClient(client));
    // The client object is looked up (or made) only for an event someone listens to.
    pool.on('release', (error: Error | undefined, raw: RawClient) => {
      if (!this.#held.repeatsRelease(raw) && this.listenerCount('release') > 0) this.emit('release', error, this.#clientOf(raw));
    });
    pool.on('connect', (raw: RawClient) => {
      if (this.listenerCount('connect') === 0) return;
      const client = this.#clientOf(raw);
      client.whileConnecting(() => this.emit('connect', client));
    });
    for (const event of ['acquire', 'remove'] as const) {
      pool.on(event, (raw: RawClient) => {
        if (this.listenerCount(event) > 0) this.emit(event, this.#clientOf(raw));
      });
    }
    pool.on('error', (error: Error, raw: RawClient) => {
      if (this.listenerCount('error') > 0) this.emit('error', error, this.#clientOf(raw));
    });
  }

  /** The pool (and its affinity) that serves a scope: the tenant's server's, else the wrapped pool. */
  #laneOf(scope: TenantScope): Lane {
    const other = scope.kind === 'tenant' && this.#route !== undefined ? this.#route(scope.tenant) : undefined;
    if (other === undefined || other === this.#pool) return this.#ownLane;
    let lane = this.#lanes.get(other);
    if (lane === undefined) {
      const pool = other as pg.Pool;
      lane = { pool, affinity: this.#affinityOption === false || singleTenantPools.has(pool) ? undefined : PoolAffinity.of(pool, this.#affinityOption) };
      this.#lanes.set(other, lane);
      this.#forwardEvents(pool);
    }
    return lane;
  }

  /** The client object of a pooled connection, made at its first sight. */
  #clientOf(raw: RawClient): TenantClient {
    let client = this.#clients.get(raw);
    if (client === undefined) {
      client = new TenantClient(raw, this.#tenancy, this.#policy);
      this.#clients.set(raw, client);
    }
    return client;
  }

  /** The client class of the wrapped pool, as `pg.Pool#Client` (Kysely and pg-boss read it). */
  get Client(): typeof pg.Client {
    return (this.#pool as unknown as { Client: typeof pg.Client }).Client;
  }

  /** The wrapped pool's options. */
  get options(): pg.PoolConfig {
    return (this.#pool as unknown as { options: pg.PoolConfig }).options;
  }
  get totalCount(): number {
    return this.#pool.totalCount;
  }
  /** Idle connections, counting those runs hold until the event loop's next turn (see docs/pg.md). */
  get idleCount(): number {
    return this.#pool.idleCount + this.#held.size;
  }
  get waitingCount(): number {
    return this.#pool.waitingCount;
  }
  get expiredCount(): number {
    return (this.#pool as unknown as { expiredCount?: number }).expiredCount ?? 0;
  }
  /** How tenant-affine connections served checkouts so far (the `affinity` option). */
  get affinity(): AffinityStatistics {
    return this.#ownLane.affinity?.statistics() ?? AFFINITY_OFF;
  }
  get ending(): boolean {
    return this.#pool.ending;
  }
  get ended(): boolean {
    return this.#pool.ended;
  }

  /**
   * Runs one query in the active scope on a pooled connection. With no tenant (and no
   * `tenancy.runShared`) it rejects with `NoTenantError` before any I/O.
   */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: QueryInput, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
  query(config: QueryInput, callback: Callback): void;
  query(config: QueryInput, values: readonly unknown[] | undefined, callback: Callback): void;
  query(config: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof config === 'function') {
      const error = new Error('Passing a function as the first parameter to pool.query is not supported');
      const done = this.#tenancy.bind(config as Callback);
      setImmediate(() => done(error));
      return undefined;
    }
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof (config as Submittable | null)?.submit === 'function') {
      throw new TypeError('tenantPool.query does not take a submittable (pg-cursor, pg-query-stream): check out a client with connect()');
    }
    const scope = this.#tenancy.scope();
    // Bound, so a callback runs in its caller's scope, not in that of whatever pg is reading for.
    const done = typeof callback === 'function' ? this.#tenancy.bind(callback as Callback) : undefined;
    const refusal = scope === undefined ? new NoTenantError('A query through tenantPool') : undefined;
    if (refusal !== undefined || config === null || config === undefined) {
      const error = refusal ?? new TypeError('Client was passed a null or undefined query');
      if (done === undefined) return Promise.reject(error);
      process.nextTick(done, error);
      return undefined;
    }
    const inner = new pg.Query(config as pg.QueryConfig, values as unknown[] | undefined) as unknown as Submittable;
    const paused = pausedWrite(scope!, inner.text);
    if (paused !== undefined) {
      if (done === undefined) return Promise.reject(paused);
      process.nextTick(done, paused);
      return undefined;
    }
    if (needsOwnTransaction(inner.text) || (this.#policy.lifetime === 'session' && runsAlone(inner.text))) {
      return this.#queryAlone(config as QueryInput, values as unknown[] | undefined, done);
    }
    if (done !== undefined) {
      this.#run(scope!, inner, done);
      return undefined;
    }
    return new Promise<pg.QueryResult>((resolve, reject) => {
      this.#run(scope!, inner, (error, result) => (error ? reject(error) : resolve(result!)));
    });
  }

  /**
   * Checks out a client bound to the active scope. With no tenant it rejects with
   * `NoTenantError` before taking a connection.
   */
  connect(): Promise<TenantClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): unknown {
    const scope = this.#tenancy.scope();
    const checkout = new Promise<TenantClient>((resolve, reject) => {
      if (scope === undefined) {
        reject(new NoTenantError('A checkout from tenantPool'));
        return;
      }
      this.#checkOut(scope, (error, connection) => {
        if (error !== undefined) reject(error);
        else resolve(this.#clientOf(connection!.raw).checkOut(scope, connection!.state, this.#giveBackFor(scope)));
      });
    });
    if (callback) {
      const done = this.#tenancy.bind(callback);
      checkout.then(
        (client) => done(undefined, client, (error) => client.release(error)),
        (error: Error) => done(error, undefined, noop),
      );
      return undefined;
    }
    return checkout;
  }

  /**
   * Runs `fn` in a transaction on a client of the active scope: BEGIN (with the scope, in the
   * same round trip), COMMIT when `fn` resolves, ROLLBACK when it throws; a failed
   * transaction's client is destroyed rather than reused.
   *
   * @example
   * ```ts
   * await tenancy.run('acme', () =>
   *   db.transaction(async (client) => {
   *     await client.query('insert into stock_movements (product_id, kind, quantity) values ($1, $2, $3)', [7, 'out', 2]);
   *   }),
   * );
   * ```
   */
  async transaction<R>(fn: (client: TenantClient) => Promise<R>): Promise<R> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (!client.released) client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  /** Ends the wrapped pool. */
  end(): Promise<void>;
  end(callback: () => void): void;
  end(callback?: () => void): unknown {
    this.#held.releaseAll();
    if (callback) {
      this.#pool.end().then(callback, callback);
      return undefined;
    }
    return this.#pool.end();
  }

  /**
   * The lean path of `query`: the raw pooled connection runs the query wrapped in a ScopedQuery,
   * with no TenantClient and no promise of its own, on the connection this run holds if it holds
   * one.
   */
  #run(scope: TenantScope, inner: Submittable, done: Callback): void {
    this.#checkOut(scope, (error, connection) => {
      if (error !== undefined) done(error);
      else this.#send(scope, connection!, inner, done);
    });
  }

  /** The connection this run holds, else one from pg-pool, with its state; in a callback, no promise. */
  #checkOut(scope: TenantScope, done: (error: Error | undefined, connection?: Connection) => void): void {
    const held = this.#held.take(scope);
    if (held !== undefined) {
      done(undefined, held);
      return;
    }
    let lane: Lane;
    try {
      lane = this.#laneOf(scope);
    } catch (error) {
      done(error as Error);
      return;
    }
    const affinity = scope.kind === 'tenant' ? lane.affinity : undefined;
    const want = affinity !== undefined && scope.kind === 'tenant' ? affinity.want(scope.tenant.schema) : undefined;
    const connected = (error: Error | undefined, raw: pg.PoolClient | undefined): void => {
      if (error || raw === undefined) {
        done(error ?? new Error('pg-pool gave no client'));
        return;
      }
      if (want !== undefined && scope.kind === 'tenant') affinity!.checkedOut(raw as unknown as RawClient, want, scope.tenant.id);
      let state = knownConnectionState(raw as unknown as RawClient);
      if (state === undefined) {
        // First use through tenantPool (a client opened before this wrapper listened to the pool).
        guardClient(raw);
        try {
          state = connectionState(raw as unknown as RawClient);
        } catch (refused) {
          raw.release(refused as Error);
          done(refused as Error);
          return;
        }
      }
      done(undefined, { raw: raw as unknown as RawClient, state });
    };
    if (want !== undefined) affinity!.connecting(want, () => lane.pool.connect(connected));
    else lane.pool.connect(connected);
  }

  /** How a checked-out client of `scope` goes back: held for its run when clean, else released. */
  #giveBackFor(scope: TenantScope): GiveBack {
    return (raw, state, error) => {
      if (error === undefined || error === false) this.#held.hold(scope, { raw, state }, undefined);
      else releaseConnection(raw, state, error);
    };
  }

  #send(scope: TenantScope, connection: Connection, inner: Submittable, done: Callback): void {
    inner.callback = (error, result) => {
      if (error) {
        releaseConnection(connection.raw, connection.state, sqlState(error) === undefined ? error : undefined);
        done(error);
      } else {
        this.#held.hold(scope, connection, null);
        done(undefined, result as pg.QueryResult);
      }
    };
    connection.raw.query(new ScopedQuery(inner, connection.state, this.#policy, scopeSettingOf(this.#tenancy, scope, inner.text), true));
  }

  /** VACUUM, CREATE INDEX CONCURRENTLY, CALL, DO…: through a checked-out client, which runs them alone. */
  #queryAlone(config: QueryInput, values: unknown[] | undefined, done: Callback | undefined): Promise<pg.QueryResult> | undefined {
    const run = async (): Promise<pg.QueryResult> => {
      const client = await this.connect();
      try {
        const result = await client.query(config as pg.QueryConfig, values);
        client.release();
        return result;
      } catch (error) {
        if (!client.released) client.release(sqlState(error) === undefined ? (error as Error) : undefined);
        throw error;
      }
    };
    if (done === undefined) return run();
    run().then((result) => done(undefined, result), (error: Error) => done(error));
    return undefined;
  }

}

function noop(): void {}

/** The wrappers made so far: one per pool, tenancy and options. */
const wrappers = new WeakMap<pg.Pool, WeakMap<Tenancy, Map<string, TenantPool>>>();

/**
 * Wraps a pg.Pool so every query runs in the active tenant's schema. Stands wherever a
 * pg.Pool is accepted (Kysely's PostgresDialect, drizzle-orm/node-postgres, your own code).
 *
 * Called again with the same pool, tenancy and options, it returns the same wrapper: a wrapper
 * listens to its pool's events for good, so making one per use would pile up listeners.
 *
 * - The scope travels in the same round trip as the query, or not at all when the
 *   connection already has it.
 * - No tenant in context: `NoTenantError`, before any I/O. Shared work is explicit:
 *   `tenancy.runShared(() => db.query(…))`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createTenancy } from 'tenantry';
 * import { tenantPool } from 'tenantry/pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const tenancy = createTenancy({ pool });
 * const db = tenantPool(tenancy, pool);
 * await tenancy.run('acme', () => db.query('select * from products where id = $1', [7]));
 * ```
 */
export function tenantPool(tenancy: Tenancy, pool: pg.Pool, options?: TenantPoolOptions): TenantPool {
  const affinity = options?.affinity;
  const mode = `${options?.mode ?? 'session'}:${options?.resetBetweenTenants ?? true}:${options?.sqlComment ?? false}:${typeof affinity === 'object' ? JSON.stringify(affinity) : (affinity ?? true)}`;
  const made = wrappers.get(pool)?.get(tenancy)?.get(mode);
  if (made !== undefined) return made;
  const wrapper = new TenantPool(tenancy, pool, options);
  let byTenancy = wrappers.get(pool);
  if (byTenancy === undefined) wrappers.set(pool, (byTenancy = new WeakMap()));
  let byMode = byTenancy.get(tenancy);
  if (byMode === undefined) byTenancy.set(tenancy, (byMode = new Map()));
  byMode.set(mode, wrapper);
  return wrapper;
}
