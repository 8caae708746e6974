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
import { connectionState } from './connection-state.js';
import type { ScopeLifetime, Submittable } from './scoped-query.js';
import { connectionReusable, releaseConnection } from './release.js';
import { needsOwnTransaction, runsAlone, ScopedQuery } from './scoped-query.js';
import { scopeSettingOf } from './scope-setting.js';
import type { ScopeRequest } from './scoped-query.js';
import { describeScope, sameScope } from './search-path.js';

/** What `query` takes: text, or a pg query config (also `rowMode: 'array'`). */
export type QueryInput = string | pg.QueryConfig | pg.QueryArrayConfig;

type Callback = (error: Error | null, result?: pg.QueryResult) => void;

/** @internal How a released client's connection goes back to its pool (tenantPool may hold it for the run). */
export type GiveBack = (raw: RawClient, state: ConnectionState, error: Error | boolean | undefined) => void;

/**
 * A client from `tenantPool(...).connect()`. Every query runs in the scope active at checkout;
 * using the client while another tenant is active throws `TenantMismatchError`, and with no
 * tenant active `NoTenantError`. Release it with `release()`; a client released inside an
 * open transaction, or with an error, is destroyed rather than reused.
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
  /** The scope this client serves. */
  readonly scope: TenantScope;
  readonly #raw: RawClient & pg.PoolClient;
  readonly #tenancy: Tenancy;
  readonly #state: ConnectionState;
  readonly #lifetime: ScopeLifetime;
  readonly #clean: ScopeRequest['clean'];
  readonly #onError: (error: Error) => void;
  readonly #giveBack: GiveBack;
  #broken: Error | undefined;
  #released = false;

  /** @internal Made by tenantPool. */
  constructor(
    raw: pg.PoolClient | RawClient,
    tenancy: Tenancy,
    scope: TenantScope,
    lifetime: ScopeLifetime,
    clean: ScopeRequest['clean'],
    giveBack: GiveBack = releaseConnection,
  ) {
    super();
    this.#giveBack = giveBack;
    this.#raw = raw as RawClient & pg.PoolClient;
    this.#tenancy = tenancy;
    this.scope = scope;
    this.#lifetime = lifetime;
    this.#clean = clean;
    this.#state = connectionState(this.#raw);
    this.#onError = (error) => {
      this.#broken = error;
      this.#state.reset();
      if (this.listenerCount('error') > 0) this.emit('error', error);
    };
    this.#raw.on('error', this.#onError);
  }

  /** The server process id of the connection (for `pg_cancel_backend`, diagnostics). */
  get processID(): number | undefined {
    return (this.#raw as unknown as { processID?: number }).processID;
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
    const refusal = this.#refusal();
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
      this.#guardReads(config);
      this.#raw.query(this.#wrap(config, config instanceof pg.Query));
      return config;
    }

    const inner = new pg.Query(config as pg.QueryConfig, values as unknown[] | undefined) as unknown as Submittable;
    if (needsOwnTransaction(inner.text) || (this.#lifetime === 'session' && runsAlone(inner.text))) return this.#ownTransaction(inner, cb);
    return this.#submit(inner, cb);
  }

  /**
   * Returns the client to the pool. A client with a broken connection, one released inside a
   * transaction or with a query in flight, or one released with an error, is destroyed.
   */
  release(error?: Error | boolean): void {
    if (this.#released) throw new Error('Release called on client which has already been released to the pool.');
    this.#released = true;
    this.#raw.removeListener('error', this.#onError);
    this.#giveBack(this.#raw, this.#state, this.#broken ?? error);
  }

  /** Whether the connection can serve another query as it is: not released, not broken, idle, nothing in flight. */
  get reusable(): boolean {
    return !this.#released && this.#broken === undefined && connectionReusable(this.#raw, this.#state);
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return this.#released;
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
  #guardReads(submittable: Submittable): void {
    const mismatch = (): Error | undefined => {
      const active = this.#tenancy.scope();
      return active === undefined || sameScope(active, this.scope) ? undefined : new TenantMismatchError(describeScope(this.scope), describeScope(active));
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

  #refusal(): Error | undefined {
    if (this.#released) return new Error('Client was released to the pool and cannot run queries');
    const active = this.#tenancy.scope();
    if (active === undefined) return new NoTenantError('A query on a tenant client');
    if (!sameScope(active, this.scope)) return new TenantMismatchError(describeScope(this.scope), describeScope(active));
    return undefined;
  }

  /** How a statement is scoped: the scope's settings (the shared path for a statement tenantPlugin marked, with tenant roles). */
  #requestFor(text: string | undefined): ScopeRequest {
    return { setting: scopeSettingOf(this.#tenancy, this.scope, text), lifetime: this.#lifetime, clean: this.#clean };
  }

  #wrap(inner: Submittable, isPgQuery: boolean, request = this.#requestFor(inner.text)): ScopedQuery {
    return new ScopedQuery(inner, this.#state, request, isPgQuery);
  }

  #submit(inner: Submittable, cb: Callback | undefined, request?: ScopeRequest): Promise<pg.QueryResult> | undefined {
    if (cb) {
      inner.callback = cb as Submittable['callback'];
      this.#raw.query(this.#wrap(inner, true, request));
      return undefined;
    }
    return new Promise((resolve, reject) => {
      inner.callback = (error, result) => (error ? reject(error) : resolve(result as pg.QueryResult));
      this.#raw.query(this.#wrap(inner, true, request));
    });
  }

  /**
   * VACUUM, CREATE INDEX CONCURRENTLY… (and, in session mode, CALL and DO): set the scope in its
   * own exchange first, then run the statement alone.
   */
  #ownTransaction(inner: Submittable, cb: Callback | undefined): Promise<pg.QueryResult> | undefined {
    const run = async (): Promise<pg.QueryResult> => {
      if (this.#lifetime === 'transaction') {
        throw new InvalidConfigError(
          `${inner.text?.trim().split(/\s+/, 3).join(' ')} cannot run inside a transaction, so transaction-pooler mode cannot scope it; schema-qualify it and run it in tenancy.runShared()`,
        );
      }
      const request = this.#requestFor(inner.text);
      if (this.#state.known?.key !== request.setting.key) {
        await this.#submit(new pg.Query('') as unknown as Submittable, undefined, request);
      }
      return (await this.#submit(inner, undefined, request))!;
    };
    if (!cb) return run();
    run().then((result) => cb(null, result), (error: Error) => cb(error));
    return undefined;
  }
}

function isSubmittable(value: unknown): value is Submittable {
  return typeof (value as { submit?: unknown } | null)?.submit === 'function';
}
