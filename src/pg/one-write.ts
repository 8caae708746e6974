/**
 * Hands the socket a query's messages as one buffer. pg writes Parse, Bind, Describe, Execute
 * and Sync as five buffers into a corked stream, which become one `writev` of five parts; where
 * system calls are expensive (gVisor and other sandboxes) each part costs, and a copy of a few
 * hundred bytes costs less.
 *
 * @module
 */

/** The stream of pg's Connection, as far as a query's submit writes to it. */
export interface WritableStream {
  writable?: boolean;
  write(chunk: Buffer): boolean;
  cork?: () => void;
  uncork?: () => void;
  destroy?: (error?: Error) => void;
}

/** A stand-in stream that keeps what is written to it; submits are synchronous, so one serves all. */
class Chunks implements WritableStream {
  readonly writable = true;
  list: Buffer[] = [];
  length = 0;
  write(chunk: Buffer): boolean {
    this.list.push(chunk);
    this.length += chunk.length;
    return true;
  }
  cork(): void {}
  uncork(): void {}
}

const chunks = new Chunks();

/**
 * Calls `query.submit(connection)` with the connection's stream replaced by one that keeps the
 * chunks, then writes `head` and those chunks to the real stream in one write: byte for byte
 * what the submit would have written after `head`. When the submit returns an error, nothing is
 * written and the error is returned. A stream that is not writable gets a plain submit (pg's own
 * writes drop what it is given).
 *
 * @example
 * ```ts
 * const error = submitInOneWrite(new pg.Query('select $1::int', [1]), connection, prefixMessagesOf(statements));
 * ```
 */
export function submitInOneWrite<C extends { stream: WritableStream }, E>(query: { submit(connection: C): E }, connection: C, head: Buffer | undefined): E {
  const stream = connection.stream;
  if (stream.writable === false) return query.submit(connection);
  const collected = chunks;
  const list = head === undefined ? [] : [head];
  collected.list = list;
  collected.length = head === undefined ? 0 : head.length;
  let result: E;
  connection.stream = collected;
  try {
    result = query.submit(connection);
  } finally {
    connection.stream = stream;
    collected.list = [];
  }
  if (result || list.length === 0) return result;
  stream.write(list.length === 1 ? list[0]! : Buffer.concat(list, collected.length));
  return result;
}
