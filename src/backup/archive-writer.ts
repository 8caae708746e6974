/**
 * Writes an archive: the manifest, each table's rows straight from `COPY … TO STDOUT`, the
 * trailer; gzip-compressed, streamed with back-pressure from the server to the destination.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Queryable } from '../db.js';
import { InvalidConfigError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { ARCHIVE_MAGIC, DATA_FRAME_BYTES, FrameType, frame, jsonFrame } from './archive-format.js';
import type { BackupManifest, TableEnd } from './backup-manifest.js';
import type { CopyControl } from './copy-control.js';
import { copyOut } from './copy-stream.js';

/** How an archive is written: compression, cancellation, progress. */
export interface WriteArchiveOptions extends CopyControl {
  /** gzip level 0 to 9 (default 6), or `false` for no gzip at all (a clone's in-process pipe). */
  readonly compression?: number | false | undefined;
}

/**
 * Streams the archive of `manifest`'s tables, read on `client` (inside the caller's snapshot),
 * to `destination`, and ends it. Resolves each table's count and checksum.
 *
 * @example
 * ```ts
 * import { createWriteStream } from 'node:fs';
 * declare const client: import('../db.js').PoolClientLike;
 * declare const manifest: BackupManifest;
 * const tables = await writeArchive(client, manifest, createWriteStream('acme.tenantry.gz'));
 * ```
 */
export async function writeArchive(
  client: Queryable,
  manifest: BackupManifest,
  destination: Writable,
  options: WriteArchiveOptions = {},
  sourceOf: (table: BackupManifest['tables'][number]) => string = (table) =>
    `${quoteIdent(manifest.schema)}.${quoteIdent(table.name)} (${table.columns.map(quoteIdent).join(', ')})`,
): Promise<readonly TableEnd[]> {
  const level = options.compression ?? 6;
  if (level !== false && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
    throw new InvalidConfigError(`compression is a gzip level from 0 to 9, got ${JSON.stringify(level)}`);
  }
  const ends: TableEnd[] = [];
  const counted = { rows: 0, bytes: 0 };
  const frames = async function* (): AsyncGenerator<Buffer> {
    yield ARCHIVE_MAGIC;
    const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
    yield frame(FrameType.header, manifestBytes);
    for (const [tableIndex, table] of manifest.tables.entries()) {
      yield jsonFrame(FrameType.tableStart, { table: table.name });
      const hash = createHash('sha256');
      let rows = 0;
      let bytes = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const copy = copyOut(client, `COPY ${sourceOf(table)} TO STDOUT`);
      for await (const chunk of copy) {
        const data = chunk as Buffer;
        hash.update(data);
        const lines = countLines(data);
        rows += lines;
        bytes += data.length;
        counted.rows += lines;
        counted.bytes += data.length;
        pending.push(data);
        pendingBytes += data.length;
        if (pendingBytes >= DATA_FRAME_BYTES) {
          yield frame(FrameType.data, Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
          options.onProgress?.({ table: table.name, tableIndex, tables: manifest.tables.length, ...counted, tableDone: false });
        }
      }
      if (pendingBytes > 0) yield frame(FrameType.data, Buffer.concat(pending, pendingBytes));
      const end: TableEnd = { table: table.name, rows, bytes, sha256: hash.digest('hex') };
      ends.push(end);
      yield jsonFrame(FrameType.tableEnd, end);
      options.onProgress?.({ table: table.name, tableIndex, tables: manifest.tables.length, ...counted, tableDone: true });
    }
    yield jsonFrame(FrameType.trailer, { tables: ends, manifestSha256: createHash('sha256').update(manifestBytes).digest('hex') });
  };
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  if (level === false) await pipeline(frames, destination, signal);
  else await pipeline(frames, createGzip({ level }), destination, signal);
  return ends;
}

/** The rows in a chunk of COPY text: each ends with a newline (a newline inside a value is written `\n`). */
function countLines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) count += 1;
  return count;
}
