/**
 * Queries queued on one client without a wait between them, settled together.
 *
 * @module
 */
import type { Queryable } from '../db.js';

/**
 * The first query of a {@link QueryQueue} that failed: the migration it belongs to and the error
 * (located in its file when the queue was given a way to).
 *
 * @example
 * ```ts
 * declare const error: unknown;
 * if (error instanceof QueuedQueryError) console.error(error.migration, error.cause);
 * ```
 */
export class QueuedQueryError extends Error {
  readonly migration: string;

  constructor(migration: string, cause: unknown) {
    super(`a query of migration ${migration} failed`, { cause });
    this.name = 'QueuedQueryError';
    this.migration = migration;
  }
}

interface Queued {
  readonly migration: string;
  readonly outcome: Promise<{ readonly error: unknown } | undefined>;
}

/** node-postgres's Client: `pipeline` writes queued queries without waiting for each answer. */
interface PipelineSwitch {
  pipeline: boolean;
}

/**
 * Queries sent on one client in order without awaiting each: node-postgres queues them, and while
 * the queue holds queries its client is switched to pipeline mode (queries written back to back,
 * each still its own query message with its own answer), then switched back when they settle.
 * Inside a transaction, a query that fails makes the server refuse every later one, so the first
 * failure in queue order is the cause.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const queue = new QueryQueue(client);
 * queue.add('001_t', client.query('CREATE TABLE t (id int)'));
 * queue.add('001_t', client.query('CREATE INDEX t_id ON t (id)'));
 * await queue.settle();
 * await queue.end();
 * ```
 */
export class QueryQueue {
  readonly #client: Queryable;
  #queued: Queued[] = [];
  #switched = false;

  constructor(client: Queryable) {
    this.#client = client;
  }

  /**
   * Switches the client to pipeline mode, when it is an idle node-postgres client: call before
   * sending the queries given to {@link QueryQueue.add}.
   */
  pipeline(): void {
    if (this.#switched || this.#queued.length > 0) return;
    const client = this.#client as Partial<PipelineSwitch>;
    if (client.pipeline === false) {
      client.pipeline = true;
      this.#switched = true;
    }
  }

  /** Queues a sent query; `locate` rewrites its error (a statement's place in its file). */
  add(migration: string, sent: Promise<unknown>, locate: (error: unknown) => unknown = (error) => error): void {
    this.#queued.push({ migration, outcome: sent.then(() => undefined, (error: unknown) => ({ error: locate(error) })) });
  }

  /** Waits for every queued query, switches pipeline mode off, and throws the first failure. */
  async settle(): Promise<void> {
    const queued = this.#queued;
    this.#queued = [];
    const outcomes = await Promise.all(queued.map((entry) => entry.outcome));
    this.#unswitch();
    const index = outcomes.findIndex((outcome) => outcome !== undefined);
    if (index !== -1) throw new QueuedQueryError(queued[index]!.migration, outcomes[index]!.error);
  }

  /** Waits for every queued query and leaves the client as it was, whatever failed. */
  async end(): Promise<void> {
    await this.settle().catch(() => {});
  }

  #unswitch(): void {
    if (!this.#switched) return;
    (this.#client as Partial<PipelineSwitch>).pipeline = false;
    this.#switched = false;
  }
}
