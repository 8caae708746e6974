/**
 * Giving a raw pooled connection back to pg-pool: reused only when its session is known clean.
 *
 * @module
 */
import type { ConnectionState, RawClient } from './connection-state.js';

/** The pg.Client internals that tell whether a connection can take another query. */
interface ClientHealth {
  _queryable?: boolean;
  _ending?: boolean;
}

/**
 * Whether the connection can serve another query as it is: alive, idle (no transaction block
 * open), nothing in flight.
 *
 * @example
 * ```ts
 * import { connectionState, type RawClient } from './connection-state.js';
 * declare const raw: RawClient;
 * declare function runNextQuery(raw: RawClient): void;
 * if (connectionReusable(raw, connectionState(raw))) runNextQuery(raw);
 * ```
 */
export function connectionReusable(raw: RawClient, state: ConnectionState): boolean {
  const health = raw as unknown as ClientHealth;
  return health._queryable !== false && health._ending !== true && state.status === 'I' && !state.busy;
}

/**
 * Releases a raw pooled client. With an error (or `true`) pg-pool destroys it; without one it is
 * reused only if its session is idle with nothing in flight, and destroyed otherwise (a client
 * released inside an open transaction must never serve another tenant). A query that failed is
 * reported by pg before the server's ReadyForQuery ends its exchange: then the release waits for
 * that ReadyForQuery rather than destroy a healthy connection (behind PgBouncer that would also
 * close the server connection) on every SQL error.
 *
 * @example
 * ```ts
 * import { connectionState, type RawClient } from './connection-state.js';
 * declare const raw: RawClient;
 * releaseConnection(raw, connectionState(raw), undefined); // back to the pool if clean
 * ```
 */
export function releaseConnection(raw: RawClient, state: ConnectionState, error: Error | boolean | undefined): void {
  if (error === undefined && state.failedInFlight) {
    releaseWhenReady(raw, state);
    return;
  }
  // `release(false)` (Kysely) means "no error", not "reuse whatever state it is in".
  raw.release(error === undefined || error === false ? unsafe(state) : error);
}

function unsafe(state: ConnectionState): true | undefined {
  return state.status !== 'I' || state.busy ? true : undefined;
}

function releaseWhenReady(raw: RawClient, state: ConnectionState): void {
  const connection = raw.connection!;
  const done = (error: Error | boolean | undefined) => {
    connection.removeListener('readyForQuery', onReady);
    raw.removeListener('error', onError);
    raw.removeListener('end', onEnd);
    raw.release(error);
  };
  // Appended, so it runs after the state (prepended) and pg's own listener have seen the message.
  const onReady = () => done(unsafe(state));
  const onError = (error: Error) => done(error);
  const onEnd = () => done(new Error('Connection ended before its ReadyForQuery'));
  connection.on('readyForQuery', onReady);
  raw.on('error', onError);
  raw.on('end', onEnd);
}
