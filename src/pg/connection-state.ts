/**
 * What one physical connection's session really has: its search_path and transaction status,
 * followed message by message so the wrapper never trusts a SET that rolled back.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import { InvalidConfigError } from '../errors.js';

/** The transaction status of ReadyForQuery: idle, in a transaction block, in a failed one. */
export type TransactionStatus = 'I' | 'T' | 'E';

/** What one exchange (one query and its ReadyForQuery) sent. */
interface Exchange {
  /** The search_path this exchange set before the query, if it did. */
  readonly setTo: string | undefined;
  /** The query itself may change the search_path (it names search_path, RESET, DISCARD…). */
  readonly touchesPath: boolean;
  failed: boolean;
}

/** The parts of a pg.Client the wrapper reads. */
export interface RawClient extends EventEmitter {
  connection?: EventEmitter & { stream?: { cork?: () => void; uncork?: () => void } };
  pipeline?: boolean;
  query(config: unknown, values?: unknown, callback?: unknown): unknown;
  release(error?: Error | boolean): void;
}

const PATH_CHANGING = /search_path|\bdiscard\b|\breset\b|\bset\s+(session\s+)?role\b|\bset\s+session\s+authorization\b/i;

/**
 * The state of one physical connection. `known` is a search_path the server certainly has
 * now; `undefined` means "not known", and the next scoped query sets it again (in the same
 * round trip, so not knowing costs no latency).
 *
 * Rules, from what PostgreSQL does:
 * - an exchange that set the path and failed may have rolled the SET back: unknown;
 * - a SET inside a transaction block lasts only if the block commits: when the block ends
 *   (status back to idle), the path is unknown;
 * - a query that itself mentions search_path, RESET, DISCARD or SET ROLE: unknown;
 * - PostgreSQL 18 reports search_path (ParameterStatus): a reported value is taken as known.
 */
export class ConnectionState {
  known: string | undefined;
  status: TransactionStatus = 'I';
  #provisional = false;
  #exchange: Exchange | undefined;

  /** Starts an exchange; call from a submittable's `submit`. */
  begin(setTo: string | undefined, text: string | undefined): void {
    this.#exchange = { setTo, touchesPath: text !== undefined && PATH_CHANGING.test(text), failed: false };
  }

  /** Whether an exchange is in flight (a query was submitted and its ReadyForQuery has not come). */
  get busy(): boolean {
    return this.#exchange !== undefined;
  }

  /**
   * Whether the exchange in flight has failed: pg hands the error to the caller at ErrorResponse,
   * before the server's ReadyForQuery ends the exchange.
   */
  get failedInFlight(): boolean {
    return this.#exchange?.failed === true;
  }

  onError(): void {
    if (this.#exchange) this.#exchange.failed = true;
    else this.known = undefined;
  }

  onParameterStatus(name: string, value: string): void {
    if (name === 'search_path') this.known = value;
  }

  onReadyForQuery(status: TransactionStatus): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    this.status = status;
    if (exchange === undefined) {
      this.known = undefined;
      return;
    }
    if (exchange.setTo !== undefined) {
      if (exchange.failed || status === 'E') {
        this.known = undefined;
      } else {
        this.known = exchange.setTo;
        this.#provisional = status !== 'I';
      }
    } else if (status === 'I' && this.#provisional) {
      this.known = undefined;
      this.#provisional = false;
    }
    if (exchange.touchesPath) this.known = undefined;
  }

  /** Forgets everything: used when the connection's state cannot be trusted. */
  reset(): void {
    this.known = undefined;
    this.#provisional = false;
  }
}

const states = new WeakMap<object, ConnectionState>();

/**
 * The state of a raw pg client, created (and its listeners attached, ahead of pg's own so the
 * state is current before pg submits the next queued query) on first use.
 */
export function connectionState(client: RawClient): ConnectionState {
  const existing = states.get(client);
  if (existing !== undefined) return existing;
  const connection = client.connection;
  if (connection === undefined || typeof connection.prependListener !== 'function') {
    throw new InvalidConfigError('tenantPool needs pg (node-postgres) JavaScript clients; pg-native is not supported');
  }
  if (client.pipeline === true) {
    throw new InvalidConfigError('tenantPool does not support pg pipeline mode; create the pool without `pipeline: true`');
  }
  const created = new ConnectionState();
  connection.prependListener('readyForQuery', (message: { status?: string }) => {
    const status = message?.status;
    created.onReadyForQuery(status === 'T' || status === 'E' ? status : 'I');
  });
  connection.prependListener('errorMessage', () => created.onError());
  connection.prependListener('parameterStatus', (message: { parameterName: string; parameterValue: string }) =>
    created.onParameterStatus(message.parameterName, message.parameterValue),
  );
  states.set(client, created);
  return created;
}
