/**
 * A pooled pg client bound to the scope (tenant or shared) that was active when it was checked out.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { TenantScope } from '../context.js';
import { InvalidConfigError, NoTenantError, TenantMismatchError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import type { ConnectionState, RawClient } from './connection-state.js';
import type { ScopePolicy, Submittable } from './scoped-query.js';
import { connectionReusable } from './release.js';
import { needsOwnTransaction, runsAlone, ScopedQuery } from './scoped-query.js';
import { pausedWrite } from './paused-writes.js';
import { type ScopeSetting, scopeSettingOf } from './scope-setting.js';
import { describeScope, sameScope } from './search-path.js';

/** What `query` takes: text, or a pg query config (also `rowMode: 'array'`). */
export type QueryInput = string | pg.QueryConfig | pg.QueryArrayConfig;

/**
 * The callback of the callback forms of `query`, as pg's: no error is `undefined`.
 *
 * @example
 * ```ts
 * const done: QueryCallback = (error, result) => (error ? console.error(error) : console.log(result?.rows));
 * ```
 */
export type QueryCallback = (error: Error | undefined, result?: pg.QueryResult) => void;

type Callback = QueryCallback;

/** @internal How a released client's connection goes back to its pool (tenantPool may hold it for the run). */
export type GiveBack = (raw: RawClient, state: ConnectionState, error: Error | boolean | undefined) => void;

/**
 * A client from `tenantPool(...).connect()`. Every query runs in the scope active at checkout;
 * using the client while another tenant is active throws `TenantMismatchError`, and with no
 * tenant active `NoTenantError`. Release it with `release()`; a client released inside an
 * open transaction, or with an error, is destroyed rather than reused.
 *
 * As with pg.Pool, each pooled connection has one client object: the same at every checkout
 * and in the pool's events, so what a `connect` listener sets on it stays, and libraries that
 * cache per client (Kysely) see one client per connection. Its scope is that of its current
 * checkout.
 *
 * @example
 * ```ts
 * await tenancy.run('acme', async () => {
 *   const client = await db.connect();
 *   try {
 *     await client.query('BEGIN');
 *     await client.query('update products set stock = stock - 1 where id = $1', [7]);
 *     await client.query('COMMIT');
 *   } finally {
 *     client.release();
 *   }
 * });
 * ```
 */
export class TenantClient extends EventEmitter {
  readonly #raw: RawClient & pg.PoolClient;
  readonly #tenancy: Tenancy;
  readonly #policy: ScopePolicy;
  readonly #onError = (error: Error): void => {
    if (this.#checkout === undefined) return;
    this.#checkout.broken = error;
    this.#checkout.state.reset();
    if (this.listenerCount('error') > 0) this.emit('error', error);
  };
  #checkout: Checkout | undefined;
  #scope: TenantScope | undefined;
  /** True while the pool's `connect` listeners run for this connection. */
  #connecting = false;

  /** @internal Made by tenantPool, once per pooled connection. */
  constructor(raw: pg.PoolClient | RawClient, tenancy: Tenancy, policy: ScopePolicy) {
    super();
    this.#raw = raw as RawClient & pg.PoolClient;
    this.#tenancy = tenancy;
    this.#policy = policy;
    for (const event of FORWARDED_EVENTS) this.#raw.on(event, (...args: unknown[]) => this.emit(event, ...args));
  }

  /**
   * @internal Hands the client to a checkout of `scope`; `giveBack` takes its connection at
   * `release()`.
   */
  checkOut(scope: TenantScope, state: ConnectionState, giveBack: GiveBack): this {
    this.#scope = scope;
    this.#checkout = { scope, state, giveBack, broken: undefined };
    this.#raw.on('error', this.#onError);
    return this;
  }

  /**
   * @internal Runs the pool's `connect` listeners: queries they make meanwhile run as pg runs a
   * new connection's setup, unscoped (the session is cleaned before a tenant uses it).
   */
  whileConnecting(emit: () => void): void {
    this.#connecting = true;
    try {
      emit();
    } finally {
      this.#connecting = false;
    }
  }

  /** The scope this client serves (undefined before its first checkout, in a pool `connect` listener). */
  get scope(): TenantScope | undefined {
    return this.#scope;
  }

  /** The server process id of the connection (for `pg_cancel_backend`, diagnostics). */
  get processID(): number | undefined {
    return (this.#raw as unknown as { processID?: number }).processID;
  }

  /** The key that cancels this connection's running query, with `processID`. */
  get secretKey(): number | undefined {
    return (this.#raw as unknown as { secretKey?: number }).secretKey;
  }

  /** pg's protocol connection (its events: `notice`, `parameterStatus`…). Writing to it bypasses the scope. */
  get connection(): unknown {
    return this.#raw.connection;
  }

  /** Whether results come in binary format (the `binary` connection option). */
  get binary(): boolean {
    return (this.#raw as unknown as { binary: boolean }).binary;
  }

  /** The connection parameters pg resolved (host, port, database, user…). */
  get connectionParameters(): unknown {
    return (this.#raw as unknown as { connectionParameters: unknown }).connectionParameters;
  }

  get database(): string | undefined {
    return this.#raw.database;
  }
  get user(): string | undefined {
    return this.#raw.user;
  }
  get host(): string {
    return this.#raw.host;
  }
  get port(): number {
    return this.#raw.port;
  }
  get ssl(): boolean {
    return this.#raw.ssl;
  }
  get readyForQuery(): boolean {
    return (this.#raw as unknown as { readyForQuery: boolean }).readyForQuery;
  }

  /**
   * Runs a query in this client's scope: the same forms as pg's `client.query` (text and
   * values, a config object, a submittable such as pg-cursor, promise or callback).
   */
  query<T extends Submittable>(submittable: T): T;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: QueryInput, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
  query(config: QueryInput, callback: Callback): void;
  query(config: QueryInput, values: readonly unknown[] | undefined, callback: Callback): void;
  query<T extends Submittable>(submittable: T, callback?: Callback): T;
  query(config: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    const cb = callback as Callback | undefined;
    const checkout = this.#checkout;
    if (checkout === undefined && this.#connecting) {
      // In a pool `connect` listener: a plain query, as pg runs it.
      return (this.#raw.query as (...args: unknown[]) => unknown)(config, values, callback);
    }
    const refusal = this.#refusal(checkout) ?? pausedWrite(checkout!.scope, textOf(config));
    if (refusal !== undefined) {
      if (cb) {
        process.nextTick(cb, refusal);
        return undefined;
      }
      if (isSubmittable(config)) throw refusal;
      return Promise.reject(refusal);
    }
    if (config === null || config === undefined) throw new TypeError('Client was passed a null or undefined query');

    if (isSubmittable(config)) {
      if (cb && !config.callback) config.callback = cb as Submittable['callback'];
      this.#guardReads(config, checkout!.scope);
      this.#raw.query(this.#wrap(checkout!, config, config instanceof pg.Query));
      return config;
    }

    const inner = new pg.Query(config as pg.QueryConfig, values as unknown[] | undefined) as unknown as Submittable;
    if (needsOwnTransaction(inner.text) || (this.#policy.lifetime === 'session' && runsAlone(inner.text))) return this.#ownTransaction(checkout!, inner, cb);
    return this.#submit(checkout!, inner, cb);
  }

  /**
   * Returns the client to the pool. A client with a broken connection, one released inside a
   * transaction or with a query in flight, or one released with an error, is destroyed.
   */
  release(error?: Error | boolean): void {
    const checkout = this.#checkout;
    if (checkout === undefined) throw new Error('Release called on client which has already been released to the pool.');
    this.#checkout = undefined;
    this.#raw.removeListener('error', this.#onError);
    checkout.giveBack(this.#raw, checkout.state, checkout.broken ?? error);
  }

  /** Whether the connection can serve another query as it is: checked out, not broken, idle, nothing in flight. */
  get reusable(): boolean {
    const checkout = this.#checkout;
    return checkout !== undefined && checkout.broken === undefined && connectionReusable(this.#raw, checkout.state);
  }

  /** Whether the client is back in the pool (`release()` was called since its last checkout). */
  get released(): boolean {
    return this.#checkout === undefined;
  }

  /** Quotes an identifier as pg's client does. */
  escapeIdentifier(text: string): string {
    return this.#raw.escapeIdentifier(text);
  }

  /** Quotes a literal as pg's client does. */
  escapeLiteral(text: string): string {
    return this.#raw.escapeLiteral(text);
  }

  /**
   * A cursor or a stream reads rows after `query` returned. pg-cursor: a `read` made while another
   * tenant is active fails with `TenantMismatchError`, as a query on this client would. A stream
   * (pg-query-stream) reads on in whatever context its connection delivers data, so it is checked
   * where a consumer starts reading (`on('data')`, `on('readable')`, `pipe`, `resume`, async
   * iteration): started while another tenant is active, it is destroyed with that error. A read
   * with no tenant active (a stream piped onward) is let through: its rows are this client's
   * tenant's.
   */
  #guardReads(submittable: Submittable, scope: TenantScope): void {
    const mismatch = (): Error | undefined => {
      const active = this.#tenancy.scope();
      return active === undefined || sameScope(active, scope) ? undefined : new TenantMismatchError(describeScope(scope), describeScope(active));
    };
    const target = submittable as unknown as Record<string | symbol, unknown> & { destroy?: (error: Error) => void };
    if (typeof target.pipe === 'function' && typeof target.destroy === 'function') {
      const guardStart = (method: string | symbol, when: (args: unknown[]) => boolean = () => true): void => {
        const original = target[method];
        if (typeof original !== 'function') return;
        target[method] = function guardedStart(this: unknown, ...args: unknown[]): unknown {
          const error = when(args) ? mismatch() : undefined;
          if (error !== undefined) target.destroy!(error);
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        };
      };
      const readingEvent = (args: unknown[]): boolean => args[0] === 'data' || args[0] === 'readable';
      for (const method of ['on', 'addListener', 'once', 'prependListener']) guardStart(method, readingEvent);
      for (const method of ['pipe', 'resume', Symbol.asyncIterator]) guardStart(method);
      return;
    }
    const read = target.read;
    if (typeof read !== 'function') return;
    target.read = function guardedRead(this: unknown, ...args: unknown[]): unknown {
      const error = mismatch();
      if (error === undefined) return (read as (...a: unknown[]) => unknown).apply(this, args);
      const callback = args.find((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined;
      if (callback === undefined) return Promise.reject(error);
      process.nextTick(callback, error);
      return undefined;
    };
  }

  #refusal(checkout: Checkout | undefined): Error | undefined {
    if (checkout === undefined) {
      return new Error(
        this.#scope === undefined
          ? 'Client is not checked out: only a client from connect() runs queries (a connect listener may, while it runs)'
          : 'Client was released to the pool and cannot run queries',
      );
    }
    const active = this.#tenancy.scope();
    if (active === undefined) return new NoTenantError('A query on a tenant client');
    if (!sameScope(active, checkout.scope)) return new TenantMismatchError(describeScope(checkout.scope), describeScope(active));
    return undefined;
  }

  /** How a statement is scoped: the scope's settings (the shared path for a statement tenantPlugin marked, with tenant roles). */
  #settingFor(checkout: Checkout, text: string | undefined): ScopeSetting {
    return scopeSettingOf(this.#tenancy, checkout.scope, text);
  }

  #wrap(checkout: Checkout, inner: Submittable, isPgQuery: boolean, setting = this.#settingFor(checkout, inner.text)): ScopedQuery {
    return new ScopedQuery(inner, checkout.state, this.#policy, setting, isPgQuery);
  }

  #submit(checkout: Checkout, inner: Submittable, cb: Callback | undefined, setting?: ScopeSetting): Promise<pg.QueryResult> | undefined {
    if (cb) {
      inner.callback = cb as Submittable['callback'];
      this.#raw.query(this.#wrap(checkout, inner, true, setting));
      return undefined;
    }
    return new Promise((resolve, reject) => {
      inner.callback = (error, result) => (error ? reject(error) : resolve(result as pg.QueryResult));
      this.#raw.query(this.#wrap(checkout, inner, true, setting));
    });
  }

  /**
   * VACUUM, CREATE INDEX CONCURRENTLY… (and, in session mode, CALL and DO): set the scope in its
   * own exchange first, then run the statement alone.
   */
  #ownTransaction(checkout: Checkout, inner: Submittable, cb: Callback | undefined): Promise<pg.QueryResult> | undefined {
    const run = async (): Promise<pg.QueryResult> => {
      if (this.#policy.lifetime === 'transaction') {
        throw new InvalidConfigError(
          `${inner.text?.trim().split(/\s+/, 3).join(' ')} cannot run inside a transaction, so transaction-pooler mode cannot scope it; schema-qualify it and run it in tenancy.runShared()`,
        );
      }
      const setting = this.#settingFor(checkout, inner.text);
      if (checkout.state.known?.key !== setting.key) {
        await this.#submit(checkout, new pg.Query('') as unknown as Submittable, undefined, setting);
      }
      return (await this.#submit(checkout, inner, undefined, setting))!;
    };
    if (!cb) return run();
    run().then((result) => cb(undefined, result), (error: Error) => cb(error));
    return undefined;
  }
}

/** One checkout of a client: the scope it serves and how its connection goes back. */
interface Checkout {
  readonly scope: TenantScope;
  readonly state: ConnectionState;
  readonly giveBack: GiveBack;
  broken: Error | undefined;
}

/** pg.Client events an app listens to on a client, passed on from the connection's client. */
const FORWARDED_EVENTS = ['notice', 'notification', 'end'] as const;

/** The SQL text of a query's first argument (a string, a config or a submittable). */
function textOf(config: unknown): string | undefined {
  if (typeof config === 'string') return config;
  const text = (config as { text?: unknown } | null | undefined)?.text;
  return typeof text === 'string' ? text : undefined;
}

function isSubmittable(value: unknown): value is Submittable {
  return typeof (value as { submit?: unknown } | null)?.submit === 'function';
}
