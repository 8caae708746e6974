/**
 * A pg submittable that sends the search_path change in the same protocol exchange as the
 * query it wraps: one write, one Sync, one ReadyForQuery, so scoping adds no round trip.
 *
 * @module
 */
import { type QueryScopedEvent, queryScopedChannel } from '../diagnostics.js';
import type { ConnectionState } from './connection-state.js';
import type { ScopeSetting } from './scope-setting.js';
import { prefixMessagesOf } from './prefix-messages.js';
import { prefixOf, statementsOf } from './scope-setting.js';
import { NEEDS_OWN_TRANSACTION_TRAIT, RUNS_ALONE_TRAIT, traitsOf } from './statement-traits.js';

/** The pg Connection methods a submittable writes with. */
interface Connection {
  stream: { writable?: boolean; write(chunk: Buffer): boolean; cork?: () => void; uncork?: () => void; destroy?: (error?: Error) => void };
  parsedStatements: Record<string, string>;
  query(text: string): void;
  sync(): void;
  submittedNamedStatements: Record<string, string>;
}

/** The submittable interface pg's Client drives (pg.Query, pg-cursor, pg-query-stream). */
export interface Submittable {
  /** Called by pg's client to send the query on its connection. */
  submit(connection: unknown): Error | null | undefined | void;
  /** Called once with the error or the result, when the submittable takes a callback. */
  callback?: ((error: Error | null, result?: unknown) => void) | undefined;
  text?: string;
  name?: string;
  values?: unknown[];
  rows?: number;
  queryMode?: string;
  binary?: boolean | undefined;
  _result?: unknown;
  /** Called by pg's client when the server reports an error for this query. */
  handleError?(error: Error, connection: unknown): void;
  /** Called by pg's client when the server is ready for the next query. */
  handleReadyForQuery?(connection: unknown): void;
  /** Called by pg's client when the answer's columns are described. */
  handleRowDescription?(message: unknown): void;
  /** Called by pg's client for each row of the answer. */
  handleDataRow?(message: unknown): void;
  /** Called by pg's client when a statement of the query completes. */
  handleCommandComplete?(message: unknown, connection: unknown): void;
  /** Called by pg's client when the query's text held no statement. */
  handleEmptyQuery?(connection: unknown): void;
  /** Called by pg's client when a portal stops after the rows it was asked for (cursors). */
  handlePortalSuspended?(connection: unknown): void;
  /** Called by pg's client when the server waits for COPY data. */
  handleCopyInResponse?(connection: unknown): void;
  /** Called by pg's client for each chunk of COPY data from the server. */
  handleCopyData?(message: unknown, connection: unknown): void;
  [handler: string]: unknown;
}

/** How the scope is set: for the session (`SET`), or for the current transaction only (`SET LOCAL`). */
export type ScopeLifetime = 'session' | 'transaction';

/** Whether `text` is a statement that cannot be pipelined with a SET under one Sync. */
export function needsOwnTransaction(text: string | undefined): boolean {
  return text !== undefined && (traitsOf(text) & NEEDS_OWN_TRANSACTION_TRAIT) !== 0;
}

/** Whether `text` should run in an exchange of its own once the scope is set (session mode). */
export function runsAlone(text: string | undefined): boolean {
  return text !== undefined && (traitsOf(text) & RUNS_ALONE_TRAIT) !== 0;
}

/** The checks pg.Query#submit makes before writing anything, made before we write our statement. */
function invalidQuery(query: Submittable, connection: Connection): Error | undefined {
  if (typeof query.text !== 'string' && typeof query.name !== 'string') {
    return new Error('A query must have either text or a name. Supplying neither is unsupported.');
  }
  const previous = query.name === undefined ? undefined : (connection.parsedStatements[query.name] ?? connection.submittedNamedStatements[query.name]);
  if (query.text && previous && query.text !== previous) {
    return new Error(`Prepared statements must be unique - '${query.name}' was used for a different statement`);
  }
  if (query.values && !Array.isArray(query.values)) return new Error('Query values must be an array');
  return undefined;
}

/** Whether a pg.Query goes over the extended protocol (values, a name, or row batches). */
function usesExtendedProtocol(query: Submittable): boolean {
  return (
    query.queryMode === 'extended' ||
    query.name !== undefined ||
    query.rows !== undefined ||
    (Array.isArray(query.values) && query.values.length > 0)
  );
}

/**
 * How a pool scopes its queries, whatever the scope: for the session or the transaction, when it
 * cleans a session, whether it comments statements.
 *
 * @example
 * ```ts
 * const policy: ScopePolicy = { lifetime: 'session', clean: 'detected', comment: false };
 * ```
 */
export interface ScopePolicy {
  readonly lifetime: ScopeLifetime;
  /**
   * Session mode: clean the session (SESSION_CLEANUP) before a query for another owner when it
   * may carry state (`'detected'`), or whenever the owner changes (`'always'`); `false`: never.
   */
  readonly clean: 'detected' | 'always' | false;
  /** Append the scope's sqlcommenter comment to the statement's text (unnamed statements only). */
  readonly comment?: boolean;
}


/**
 * Wraps a submittable so that, when the connection does not already have the scope's settings,
 * they are written ahead of the query in the same exchange, after the statements that clean a
 * session another tenant left (session mode). The wrapper swallows the messages of its own
 * statements and hands every other message to the wrapped query.
 *
 * - Simple-protocol queries (no values) become one Query message `SET …; SET ROLE …; <text>`.
 * - Extended-protocol queries and cursors get Parse/Bind/Execute of the same statements ahead of
 *   their own messages, in one corked write, under their Sync. A utility `SET` answers with a
 *   bare CommandComplete, and costs the server less than `SELECT set_config(…)`, which is planned
 *   and executed and answers with a row.
 */
export class ScopedQuery {
  readonly #inner: Submittable;
  readonly #state: ConnectionState;
  readonly #policy: ScopePolicy;
  readonly #setting: ScopeSetting;
  readonly #isPgQuery: boolean;
  /** How many of our own statements still have to complete before the wrapped query's messages. */
  #swallowing = 0;
  /** The length of the statements put ahead of the query's own text (simple protocol), which an error's position counts. */
  #prefixLength = 0;

  constructor(inner: Submittable, state: ConnectionState, policy: ScopePolicy, setting: ScopeSetting, isPgQuery: boolean) {
    this.#inner = inner;
    this.#state = state;
    this.#policy = policy;
    this.#setting = setting;
    this.#isPgQuery = isPgQuery;
  }

  // One method per message, each with pg's arguments: no array and no lookup by name per message.
  handleRowDescription(message: unknown): unknown {
    if (this.#swallowing > 0) return undefined;
    const inner = this.#inner;
    return typeof inner.handleRowDescription === 'function' ? inner.handleRowDescription(message) : undefined;
  }
  handleDataRow(message: unknown): unknown {
    if (this.#swallowing > 0) return undefined;
    const inner = this.#inner;
    return typeof inner.handleDataRow === 'function' ? inner.handleDataRow(message) : undefined;
  }
  handleCommandComplete(message: unknown, connection: unknown): unknown {
    if (this.#swallowing > 0) {
      this.#swallowing -= 1;
      return undefined;
    }
    const inner = this.#inner;
    return typeof inner.handleCommandComplete === 'function' ? inner.handleCommandComplete(message, connection) : undefined;
  }
  handleEmptyQuery(connection: unknown): unknown {
    if (this.#swallowing > 0) return undefined;
    const inner = this.#inner;
    return typeof inner.handleEmptyQuery === 'function' ? inner.handleEmptyQuery(connection) : undefined;
  }
  handlePortalSuspended(connection: unknown): unknown {
    const inner = this.#inner;
    return typeof inner.handlePortalSuspended === 'function' ? inner.handlePortalSuspended(connection) : undefined;
  }
  handleError(error: Error, connection: unknown): unknown {
    // An error of the query's own text points into it, not into the statements sent ahead.
    if (this.#swallowing === 0) positionInOwnText(error, this.#prefixLength);
    this.#swallowing = 0;
    const inner = this.#inner;
    const name = inner.name;
    const statements = (connection as Connection | undefined)?.submittedNamedStatements;
    if (name !== undefined && statements) delete statements[name];
    return typeof inner.handleError === 'function' ? inner.handleError(error, connection) : undefined;
  }
  handleReadyForQuery(connection: unknown): unknown {
    const inner = this.#inner;
    return typeof inner.handleReadyForQuery === 'function' ? inner.handleReadyForQuery(connection) : undefined;
  }
  handleCopyInResponse(connection: unknown): unknown {
    const inner = this.#inner;
    return typeof inner.handleCopyInResponse === 'function' ? inner.handleCopyInResponse(connection) : undefined;
  }
  handleCopyData(message: unknown, connection: unknown): unknown {
    const inner = this.#inner;
    return typeof inner.handleCopyData === 'function' ? inner.handleCopyData(message, connection) : undefined;
  }

  get callback(): Submittable['callback'] {
    return this.#inner.callback;
  }
  set callback(callback: Submittable['callback']) {
    this.#inner.callback = callback;
  }
  get binary(): boolean | undefined {
    return this.#inner.binary;
  }
  set binary(binary: boolean | undefined) {
    this.#inner.binary = binary;
  }
  get _result(): unknown {
    return this.#inner._result;
  }
  get text(): string | undefined {
    return this.#inner.text;
  }
  /** Hidden while our own statement is answered, so pg does not record the wrong statement as parsed. */
  get name(): string | undefined {
    return this.#swallowing > 0 ? undefined : this.#inner.name;
  }

  submit(connection: Connection): Error | null | undefined | void {
    const state = this.#state;
    const setting = this.#setting;
    const { lifetime, clean: when, comment } = this.#policy;
    const local = lifetime === 'transaction';
    const known = state.known;
    const clean = when !== false && !local && state.mustClean(setting.owner, when);
    const mustSet = clean || (local ? !(state.status === 'T' && known?.key === setting.key) : known?.key !== setting.key);
    if (queryScopedChannel.hasSubscribers) queryScopedChannel.publish({ tenantId: setting.tenantId, setScope: mustSet, cleaned: clean } satisfies QueryScopedEvent);
    // A named statement run again by name alone: what it does is the text it was prepared with.
    const name = this.#inner.name;
    const text = this.#inner.text ?? (name === undefined ? undefined : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]));
    // A named statement keeps its text: pg refuses one name prepared with two texts.
    if (comment === true && name === undefined && typeof this.#inner.text === 'string') this.#inner.text += setting.comment;
    if (!mustSet || state.status === 'E') {
      state.begin(undefined, text, false, setting.owner);
      return this.#inner.submit(connection);
    }
    const invalid = this.#isPgQuery ? invalidQuery(this.#inner, connection) : undefined;
    if (invalid !== undefined) return invalid;
    const statements = statementsOf(setting, lifetime, clean);
    state.begin(setting, text, local, setting.owner, clean);
    this.#swallowing = statements.length;
    if (this.#isPgQuery && !usesExtendedProtocol(this.#inner)) {
      const prefix = prefixOf(statements);
      this.#prefixLength = prefix.length;
      connection.query(prefix + (this.#inner.text ?? ''));
      return null;
    }
    connection.stream.cork?.();
    try {
      if (connection.stream.writable !== false) connection.stream.write(prefixMessagesOf(statements));
      const error = this.#inner.submit(connection);
      if (error) {
        // Our statements are written without their Sync: the connection cannot be trusted again.
        state.reset();
        connection.stream.destroy?.(error);
      }
      return error;
    } finally {
      connection.stream.uncork?.();
    }
  }
}

/** Moves a server error's `position` (1-based, in characters of the sent text) back by what was sent ahead of the query's text. */
function positionInOwnText(error: unknown, prefixLength: number): void {
  const located = error as { position?: unknown } | undefined;
  if (prefixLength === 0 || typeof located?.position !== 'string') return;
  const position = Number(located.position);
  if (Number.isInteger(position) && position > prefixLength) located.position = String(position - prefixLength);
}
