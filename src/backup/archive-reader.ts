/**
 * Reads an archive frame by frame, as the rows stream in: the manifest, then each table's rows
 * (checked against the table's count and checksum at its end), then the trailer and the end of
 * the stream. Anything else is a {@link BackupArchiveError}.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BackupArchiveError } from '../errors.js';
import { ARCHIVE_MAGIC, FrameType, MAX_FRAME_BYTES } from './archive-format.js';
import type { BackupManifest, BackupTrailer, TableEnd } from './backup-manifest.js';
import { checkManifest, checkTableEnd, checkTrailer } from './backup-manifest.js';

/** Where an archive's bytes come from: a Node stream or any async iterable of bytes. */
export type ArchiveSource = Readable | AsyncIterable<Uint8Array>;

interface Frame {
  readonly type: number;
  readonly payload: Buffer;
}

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/**
 * An archive being read. Call `manifest()`, then `tableRows(name)` for each table in the
 * manifest's order, then `finish()`.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * const reader = new ArchiveReader(createReadStream('acme.tenantry.gz'));
 * const manifest = await reader.manifest();
 * for (const table of manifest.tables) for await (const chunk of reader.tableRows(table.name)) void chunk;
 * await reader.finish();
 * ```
 */
export class ArchiveReader {
  readonly #frames: AsyncIterator<Frame>;
  readonly #ends: TableEnd[] = [];
  #manifestSha256 = '';

  constructor(source: ArchiveSource) {
    this.#frames = readFrames(source)[Symbol.asyncIterator]();
  }

  /** The manifest (the first frame). */
  async manifest(): Promise<BackupManifest> {
    const first = await this.#next('the manifest');
    if (first.type !== FrameType.header) throw corrupted('it does not start with a manifest');
    this.#manifestSha256 = createHash('sha256').update(first.payload).digest('hex');
    return checkManifest(parseJson(first.payload, 'the manifest'));
  }

  /** The table ends read so far. */
  get tables(): readonly TableEnd[] {
    return this.#ends;
  }

  /**
   * The next table's COPY text, in chunks of whole lines; it throws when the table is not
   * `name`, or when the rows do not match the count and checksum the archive gives at their end.
   */
  async *tableRows(name: string): AsyncGenerator<Buffer> {
    const start = await this.#next(`table ${JSON.stringify(name)}`);
    const opened = start.type === FrameType.tableStart ? (parseJson(start.payload, 'a table start') as { table?: unknown }) : undefined;
    if (opened?.table !== name) throw corrupted(`table ${JSON.stringify(name)} is missing where the manifest puts it`);
    const hash = createHash('sha256');
    let bytes = 0;
    for (;;) {
      const next = await this.#next(`the rows of table ${JSON.stringify(name)}`);
      if (next.type === FrameType.data) {
        hash.update(next.payload);
        bytes += next.payload.length;
        yield next.payload;
        continue;
      }
      if (next.type !== FrameType.tableEnd) throw corrupted(`the rows of table ${JSON.stringify(name)} do not end`);
      const end = checkTableEnd(parseJson(next.payload, 'a table end'), name);
      if (end.bytes !== bytes || end.sha256 !== hash.digest('hex')) {
        throw corrupted(`the rows of table ${JSON.stringify(name)} do not match their checksum`);
      }
      this.#ends.push(end);
      return;
    }
  }

  /** Reads the trailer and the end of the stream (where gzip checks its own checksum). */
  async finish(): Promise<BackupTrailer> {
    const last = await this.#next('the trailer');
    if (last.type !== FrameType.trailer) throw corrupted('it holds more tables than its manifest lists');
    const trailer = checkTrailer(parseJson(last.payload, 'the trailer'), this.#ends, this.#manifestSha256);
    const after = await this.#frames.next();
    if (after.done !== true) throw corrupted('there is data after its trailer');
    return trailer;
  }

  /** Stops reading (the source is destroyed). */
  async close(): Promise<void> {
    await this.#frames.return?.();
  }

  async #next(what: string): Promise<Frame> {
    const result = await this.#frames.next();
    if (result.done === true) throw new BackupArchiveError(`The backup archive is truncated: it ends before ${what}`);
    return result.value;
  }
}

/** The frames of a source, gunzipped when it starts with gzip's magic bytes. */
async function* readFrames(source: ArchiveSource): AsyncGenerator<Frame> {
  const queue = new ByteQueue();
  let header: { type: number; length: number } | undefined;
  let magic = false;
  for await (const chunk of decompressed(source)) {
    queue.push(chunk);
    if (!magic) {
      if (queue.length < ARCHIVE_MAGIC.length) continue;
      if (!queue.take(ARCHIVE_MAGIC.length).equals(ARCHIVE_MAGIC)) throw new BackupArchiveError('This is not a tenantry backup archive');
      magic = true;
    }
    for (;;) {
      if (header === undefined) {
        if (queue.length < 5) break;
        const head = queue.take(5);
        header = { type: head.readUInt8(0), length: head.readUInt32BE(1) };
        if (!KNOWN_TYPES.has(header.type) || header.length > MAX_FRAME_BYTES) throw corrupted('a frame header is not valid');
      }
      if (queue.length < header.length) break;
      const payload = queue.take(header.length);
      const { type } = header;
      header = undefined;
      yield { type, payload };
    }
  }
  if (!magic) throw new BackupArchiveError(queue.length === 0 ? 'The backup archive is empty' : 'This is not a tenantry backup archive');
  if (header !== undefined || queue.length > 0) throw new BackupArchiveError('The backup archive is truncated: it ends inside a frame');
}

/** The source's bytes, through gunzip when they are gzip; zlib's errors become archive errors. */
async function* decompressed(source: ArchiveSource): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done === true) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length === 0) return;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield head;
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield Buffer.from(next.value);
  };
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    yield* rest();
    return;
  }
  const gunzip = pipeline(Readable.from(rest()), createGunzip(), () => {});
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    throw zlibError(error);
  } finally {
    gunzip.destroy();
    await iterator.return?.();
  }
}

function zlibError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (code === 'Z_BUF_ERROR') return new BackupArchiveError('The backup archive is truncated: its compressed data ends early', { cause: error });
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new BackupArchiveError(`The backup archive is corrupted: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (error) {
    throw new BackupArchiveError(`The backup archive is corrupted: ${what} is not valid JSON`, { cause: error });
  }
}

function corrupted(what: string): BackupArchiveError {
  return new BackupArchiveError(`The backup archive is corrupted: ${what}`);
}

/** Bytes received and not yet framed, taken from the front without copying more than needed. */
class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  take(count: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= count) {
      this.#length -= count;
      if (first.length === count) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, count - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#length -= count;
    return out;
  }
}
