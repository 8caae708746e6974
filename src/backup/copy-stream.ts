/**
 * COPY through pg-copy-streams on a node-postgres client: the core types a client structurally
 * (`Queryable`), so the one place that needs a real pg client says so here.
 *
 * @module
 */
import copyStreams from 'pg-copy-streams';
import type { Readable, Writable } from 'node:stream';
import type { Queryable } from '../db.js';
import { InvalidConfigError } from '../errors.js';

interface SubmittingClient {
  query<T>(submittable: T): T;
}

/**
 * Runs `COPY … TO STDOUT` on `client` and returns the stream of its text.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').PoolClientLike;
 * const rows = copyOut(client, 'COPY "tenant_acme"."products" TO STDOUT');
 * ```
 */
export function copyOut(client: Queryable, sql: string): Readable & { readonly rowCount: number } {
  return submit(client).query(copyStreams.to(sql));
}

/**
 * Runs `COPY … FROM STDIN` on `client` and returns the stream its text is written to.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').PoolClientLike;
 * const sink = copyIn(client, 'COPY "tenant_acme"."products" FROM STDIN');
 * ```
 */
export function copyIn(client: Queryable, sql: string): Writable & { readonly rowCount: number } {
  return submit(client).query(copyStreams.from(sql));
}

function submit(client: Queryable): SubmittingClient {
  if (typeof (client as { connection?: unknown }).connection !== 'object') {
    throw new InvalidConfigError('Backups stream rows with COPY and need a node-postgres pool (pg.Pool)');
  }
  return client as unknown as SubmittingClient;
}
