/**
 * submitInOneWrite: a pg.Query's messages (after the scope statements) reach the socket as one
 * write, byte for byte what pg writes on its own.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { submitInOneWrite } from '../../src/pg/one-write.js';

/** A pg Connection over a stream that records each write. */
function recording(): { connection: pg.Connection & { stream: RecordingStream }; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new RecordingStream(writes);
  const connection = new pg.Connection({ stream: stream as never }) as pg.Connection & { stream: RecordingStream };
  return { connection, writes };
}

class RecordingStream {
  writable = true;
  #corked: Buffer[] | undefined;
  constructor(readonly writes: Buffer[]) {}
  write(chunk: Buffer): boolean {
    if (this.#corked) this.#corked.push(chunk);
    else this.writes.push(chunk);
    return true;
  }
  cork(): void {
    this.#corked = [];
  }
  uncork(): void {
    if (this.#corked?.length) this.writes.push(Buffer.concat(this.#corked));
    this.#corked = undefined;
  }
  on(): this {
    return this;
  }
}

describe('submitInOneWrite', () => {
  it("writes the head and pg's own messages in one write", () => {
    const plain = recording();
    new pg.Query('select $1::int as n', [7]).submit(plain.connection as never);
    const batched = recording();
    const head = Buffer.from('head');
    const error = submitInOneWrite(new pg.Query('select $1::int as n', [7]) as never, batched.connection as never, head);
    expect(error).toBeNull();
    expect(batched.writes).toHaveLength(1);
    expect(batched.writes[0]!.equals(Buffer.concat([head, ...plain.writes]))).toBe(true);
    expect(batched.connection.stream).toBeInstanceOf(RecordingStream);
  });

  it('writes nothing when the submit returns an error', () => {
    const { connection, writes } = recording();
    const error = submitInOneWrite(new pg.Query({ text: 'select 1', values: 'not an array' as never }) as never, connection as never, Buffer.from('head'));
    expect(error).toBeInstanceOf(Error);
    expect(writes).toHaveLength(0);
  });

  it('leaves a stream that is not writable to pg', () => {
    const { connection, writes } = recording();
    connection.stream.writable = false;
    submitInOneWrite(new pg.Query('select $1::int', [1]) as never, connection as never, Buffer.from('head'));
    expect(writes).toHaveLength(0);
  });
});
