/**
 * The framing of a backup archive (docs/backup.md, "The archive format"): a magic line, then
 * frames of one type byte, a 4-byte big-endian length and that many bytes of payload. The whole
 * is gzip-compressed in a file.
 *
 * @module
 */

/** The first bytes of an (uncompressed) archive. */
export const ARCHIVE_MAGIC = Buffer.from('TENANTRY-BACKUP\n', 'latin1');

/** The archive format this version writes and the newest it reads. */
export const ARCHIVE_FORMAT = 1;

/** The type byte of each frame. */
export const FrameType = Object.freeze({
  /** The manifest (JSON): what the archive holds, written before the rows. */
  header: 0x48, // H
  /** A table's rows start (JSON: `{ table }`). */
  tableStart: 0x54, // T
  /** Rows of the current table, COPY text format, whole lines. */
  data: 0x44, // D
  /** A table's rows end (JSON: `{ table, rows, bytes, sha256 }`). */
  tableEnd: 0x45, // E
  /** The trailer (JSON): counts and checksums, known only after the rows; the last frame. */
  trailer: 0x5a, // Z
});

/** The largest frame a reader accepts: a corrupted length cannot make it allocate more. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** The size a writer gathers COPY data to before it writes a data frame. */
export const DATA_FRAME_BYTES = 256 * 1024;

/**
 * One frame's bytes.
 *
 * @example
 * ```ts
 * frame(FrameType.tableStart, Buffer.from(JSON.stringify({ table: 'products' })));
 * ```
 */
export function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(type, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/**
 * A frame holding a JSON document.
 *
 * @example
 * ```ts
 * jsonFrame(FrameType.tableEnd, { table: 'products', rows: 2, bytes: 20, sha256: '…' });
 * ```
 */
export function jsonFrame(type: number, value: unknown): Buffer {
  return frame(type, Buffer.from(JSON.stringify(value), 'utf8'));
}
