/**
 * What one physical connection's session really has: its scope settings (search_path, role),
 * whose state it may carry, and its transaction status, followed message by message so the
 * wrapper never trusts a SET that rolled back.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import { InvalidConfigError } from '../errors.js';
import { cleanBeforeRawUse } from './raw-use-cleanup.js';
import type { ScopeSetting } from './scope-setting.js';
import { sameRolePrefix } from './scope-setting.js';
import { samePath } from './search-path.js';
import { DROPS_PREPARED_TRAIT, LEAVES_STATE_TRAIT, MAY_UNDO_TRAIT, TOUCHES_PATH_TRAIT, traitsOf } from './statement-traits.js';

/** The transaction status of ReadyForQuery: idle, in a transaction block, in a failed one. */
export type TransactionStatus = 'I' | 'T' | 'E';

/** What one exchange (one query and its ReadyForQuery) sent. */
interface Exchange {
  /** The scope settings this exchange set before the query, if it did. */
  readonly setTo: ScopeSetting | undefined;
  /** The owner (tenant or shared scope of a tenancy) the query runs for; `undefined` when not known. */
  readonly owner: string | undefined;
  /** Whether the exchange cleaned the session (SESSION_CLEANUP) before the query. */
  readonly cleaned: boolean;
  /** The query may leave session state behind (its text, or a parameter the server reported changed). */
  leavesState: boolean;
  /** The server reported the role changed in a way the scope did not ask for. */
  roleMoved: boolean;
  /** Whether the settings were `SET LOCAL` (transaction mode): gone when the block they ran in ends. */
  readonly local: boolean;
  /** The query itself may change the search_path or role (it names search_path, RESET, DISCARD, SET ROLE…). */
  readonly touchesPath: boolean;
  /** The query may undo what its transaction block did, SETs included (ROLLBACK, ABORT, CALL…). */
  readonly mayUndo: boolean;
  /** The prepared statements the query may drop on the server: all (`DISCARD ALL`, `DEALLOCATE ALL`), some names, or none. */
  readonly drops: PreparedDrop;
  /** Whether the query is one statement: if it failed, what it would have dropped is still there. */
  readonly single: boolean;
  failed: boolean;
}

/** Which prepared statements a query drops on the server. */
type PreparedDrop = 'all' | readonly string[] | undefined;

/**
 * One fact about a session that an exchange may establish, believed only once it certainly
 * lasts: a fact set inside a transaction block is provisional until the block ends, and
 * forgotten then (the block may have rolled back).
 */
class SessionFact<T> {
  value: T | undefined;
  provisional = false;

  settle(setTo: T | undefined, exchange: Exchange, status: TransactionStatus, local: boolean): void {
    const setEarlierInBlock = this.provisional;
    if (setTo !== undefined) {
      if (exchange.failed || status === 'E' || (local && status === 'I')) {
        this.value = undefined;
      } else {
        this.value = setTo;
        this.provisional = status !== 'I';
      }
    } else if (status === 'I' && this.provisional) {
      this.forget();
    }
    if (exchange.mayUndo && (setTo !== undefined || setEarlierInBlock)) this.forget();
  }

  forget(): void {
    this.value = undefined;
    this.provisional = false;
  }
}

/** The parts of a pg.Client the wrapper reads. */
export interface RawClient extends EventEmitter {
  connection?: EventEmitter & { stream?: { cork?: () => void; uncork?: () => void }; parsedStatements?: Record<string, string> };
  pipeline?: boolean;
  query(config: unknown, values?: unknown, callback?: unknown): unknown;
  release(error?: Error | boolean): void;
}

const DROPS_ALL_PREPARED = /\bdiscard\s+all\b|\bdeallocate\s+(?:prepare\s+)?all\b/i;
const DEALLOCATED_NAME = /\bdeallocate\s+(?:prepare\s+)?("(?:[^"]|"")+"|[\p{L}_][\p{L}\p{N}_$]*)/giu;

/**
 * The prepared statements `text` drops: every one for `DISCARD ALL` or `DEALLOCATE ALL`, else the
 * names `DEALLOCATE` gives (unquoted names folded to lower case, as PostgreSQL does).
 */
function droppedBy(text: string): PreparedDrop {
  if (DROPS_ALL_PREPARED.test(text)) return 'all';
  return [...text.matchAll(DEALLOCATED_NAME)].map(([, name]) => (name!.startsWith('"') ? name!.slice(1, -1).replaceAll('""', '"') : name!.toLowerCase()));
}

/** Parameters the server reports after our own scope changes: they say nothing of other state. */
const SCOPE_REPORTS = new Set(['search_path', 'is_superuser']);

/** The owner of a session whose state came from somewhere tenantPool cannot see (plain pool use, a broken exchange). */
const UNKNOWN_OWNER = '*';

/**
 * The state of one physical connection. `known` is the scope setting (search_path, role) the
 * server certainly has now; `undefined` means "not known": the next scoped query sets it again,
 * in the same round trip, so not knowing costs no latency. `stateOf` is the owner whose session
 * state (settings, cursors, LISTEN, temporary tables, locks) the session may carry, or
 * `undefined` when it carries none: a query for another owner cleans the session first.
 *
 * Rules, from what PostgreSQL does:
 * - an exchange that set the scope and failed may have rolled the SET back: unknown;
 * - a SET inside a transaction block lasts only if the block commits: when the block ends
 *   (status back to idle), the scope is unknown;
 * - a query that itself mentions search_path, set_config, SET SCHEMA, RESET, DISCARD or SET ROLE:
 *   scope unknown (its owner stays: the state it leaves is its own tenant's);
 * - a query that failed: scope unknown (it may have failed on a path moved out of sight);
 * - a query that may undo its block's SETs (ROLLBACK, ABORT, AND CHAIN, CALL…), when this exchange
 *   or an earlier one of the open block set the scope: unknown (`SET …; BEGIN; …; ROLLBACK` in one
 *   query undoes the SET sent with it);
 * - a SET LOCAL (transaction mode) ends with its block: unknown once the status is idle again;
 * - PostgreSQL 18 reports search_path (ParameterStatus) before each ReadyForQuery it changed in:
 *   a belief the server's report contradicts is dropped (a function body may move the path).
 */
export class ConnectionState {
  status: TransactionStatus = 'I';
  /** Whether a tenantPool query ran since the connection was last used without tenantPool. */
  scopedSinceRawUse = false;
  readonly #scope = new SessionFact<ScopeSetting>();
  #stateOf: string | undefined;
  #lastOwner: string | undefined;
  #exchange: Exchange | undefined;
  /** The search_path the server last reported (PostgreSQL 18+), if it reports it. */
  #reported: string | undefined;
  /** Forgets prepared statements the session no longer has (pg's client cache of them). */
  readonly #forgetPrepared: (drop: 'all' | readonly string[]) => void;

  constructor(forgetPrepared: (drop: 'all' | readonly string[]) => void = () => {}) {
    this.#forgetPrepared = forgetPrepared;
  }

  /** The scope setting the session certainly has, or `undefined`. */
  get known(): ScopeSetting | undefined {
    return this.#scope.value;
  }

  /** The owner whose session state the session may carry (`'*'`: unknown), or `undefined` for none. */
  get stateOf(): string | undefined {
    return this.#stateOf;
  }

  /**
   * Whether a query for `owner` must clean the session first: it may carry another owner's state
   * (`'detected'`), or it last served another owner at all (`'always'`).
   */
  mustClean(owner: string, when: 'detected' | 'always'): boolean {
    if (this.status !== 'I') return false;
    if (this.#stateOf !== undefined && this.#stateOf !== owner) return true;
    // Last served through a tenancy with other tenant roles (or none): the role it set stays on the
    // session unless cleaned, and this owner's own statements may not set a role at all.
    if (this.#lastOwner !== undefined && this.#lastOwner !== owner && !sameRolePrefix(this.#lastOwner, owner)) return true;
    return when === 'always' && this.#lastOwner !== undefined && this.#lastOwner !== owner;
  }

  /** Starts an exchange; call from a submittable's `submit`. */
  begin(setTo: ScopeSetting | undefined, text: string | undefined, local = false, owner?: string, cleaned = false): void {
    const traits = text === undefined ? 0 : traitsOf(text);
    this.#exchange = {
      setTo,
      owner,
      cleaned,
      leavesState: (traits & LEAVES_STATE_TRAIT) !== 0,
      roleMoved: false,
      local,
      touchesPath: (traits & TOUCHES_PATH_TRAIT) !== 0,
      mayUndo: (traits & MAY_UNDO_TRAIT) !== 0,
      drops: (traits & DROPS_PREPARED_TRAIT) !== 0 ? droppedBy(text!) : undefined,
      single: (traits & DROPS_PREPARED_TRAIT) !== 0 && !text!.replace(/;\s*$/, '').includes(';'),
      failed: false,
    };
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
    else this.reset();
  }

  onParameterStatus(name: string, value: string): void {
    if (name === 'search_path') this.#reported = value;
    if (name === 'is_superuser') this.#onSuperuserReport(value);
    if (SCOPE_REPORTS.has(name)) return;
    // A setting the server reports (TimeZone, DateStyle, default_transaction_read_only…) changed.
    if (this.#exchange !== undefined) this.#exchange.leavesState = true;
    else this.#stateOf = UNKNOWN_OWNER;
  }

  /**
   * PostgreSQL reports `is_superuser` when the current role changes it. Expected after a scope
   * change (a superuser login switching to a tenant role and back); anywhere else, or `on` right
   * after switching to a tenant's role, the statement moved the role itself (`set_config('role',
   * …)` in a function or an injected call): the scope is set again before the next statement.
   * A login that is not a superuser gets no such report: see docs/security.md.
   */
  #onSuperuserReport(value: string): void {
    const exchange = this.#exchange;
    if (exchange === undefined) this.#scope.forget();
    else if (exchange.setTo === undefined || (value === 'on' && exchange.setTo.tenantRole)) exchange.roleMoved = true;
  }

  onReadyForQuery(status: TransactionStatus): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    this.status = status;
    if (exchange === undefined) {
      this.reset();
      return;
    }
    this.#scope.settle(exchange.setTo, exchange, status, exchange.local);
    this.#settleState(exchange, status);
    // pg would otherwise send a later named query as Bind alone ("does not exist"). DEALLOCATE is
    // not transactional: what it dropped stays dropped even when a later statement of its query
    // failed; a lone statement that failed (DISCARD ALL in a transaction block) dropped nothing.
    if (exchange.drops !== undefined && !(exchange.failed && exchange.single)) this.#forgetPrepared(exchange.drops);
    // A failed statement may be the symptom of a path moved where the wrapper cannot see it (a
    // function body, below PostgreSQL 18): the next statement sets the scope again, so a drift
    // costs at most the one statement that stumbled on it.
    if (exchange.touchesPath || exchange.failed || exchange.roleMoved) this.#scope.value = undefined;
    const known = this.#scope.value;
    if (known !== undefined && this.#reported !== undefined && !samePath(known.path, this.#reported)) this.#scope.value = undefined;
  }

  /**
   * A cleanup lasts once the exchange that carried it succeeded outside a transaction block, and
   * nothing in it could roll the cleanup back. State the query may have left belongs to its
   * owner, or to no one known when another owner's state may still be there. (A query tenantPool
   * did not send ends with a ReadyForQuery of no exchange: `reset` makes its state anyone's.)
   */
  #settleState(exchange: Exchange, status: TransactionStatus): void {
    // `…; BEGIN; …; ROLLBACK` in one query also undoes the cleanup sent ahead of it.
    if (exchange.cleaned && !exchange.failed && !exchange.mayUndo && status === 'I') this.#stateOf = undefined;
    if (exchange.owner !== undefined) this.#lastOwner = exchange.owner;
    if (!exchange.leavesState) return;
    const owner = exchange.owner ?? UNKNOWN_OWNER;
    this.#stateOf = this.#stateOf === undefined || this.#stateOf === owner ? owner : UNKNOWN_OWNER;
  }

  /** Forgets everything: used when the connection's state cannot be trusted. */
  reset(): void {
    this.#scope.forget();
    this.#stateOf = UNKNOWN_OWNER;
  }
}

/**
 * Where a client keeps its state: a property (not enumerable) read at every checkout, cheaper
 * than a WeakMap lookup, and of the same shape on every client.
 */
const STATE = Symbol('tenantry.connectionState');

/**
 * The state of a raw pg client, if tenantPool has used it before.
 *
 * @example
 * ```ts
 * declare const raw: RawClient;
 * if (knownConnectionState(raw) === undefined) console.log('first use');
 * ```
 */
export function knownConnectionState(client: RawClient): ConnectionState | undefined {
  return (client as unknown as { [STATE]?: ConnectionState })[STATE];
}

/**
 * The state of a raw pg client, created (and its listeners attached, ahead of pg's own so the
 * state is current before pg submits the next queued query) on first use.
 */
export function connectionState(client: RawClient): ConnectionState {
  const existing = knownConnectionState(client);
  if (existing !== undefined) return existing;
  const connection = client.connection;
  if (connection === undefined || typeof connection.prependListener !== 'function') {
    throw new InvalidConfigError('tenantPool needs pg (node-postgres) JavaScript clients; pg-native is not supported');
  }
  if (client.pipeline === true) {
    throw new InvalidConfigError('tenantPool does not support pg pipeline mode; create the pool without `pipeline: true`');
  }
  const created = new ConnectionState((drop) => {
    const parsed = connection.parsedStatements;
    if (parsed === undefined) return;
    for (const name of drop === 'all' ? Object.keys(parsed) : drop) delete parsed[name];
  });
  connection.prependListener('readyForQuery', (message: { status?: string }) => {
    const status = message?.status;
    created.onReadyForQuery(status === 'T' || status === 'E' ? status : 'I');
  });
  connection.prependListener('errorMessage', () => created.onError());
  connection.prependListener('parameterStatus', (message: { parameterName: string; parameterValue: string }) =>
    created.onParameterStatus(message.parameterName, message.parameterValue),
  );
  Object.defineProperty(client, STATE, { value: created });
  cleanBeforeRawUse(client, created);
  return created;
}
