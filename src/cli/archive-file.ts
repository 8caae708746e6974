/**
 * Where a command writes an archive: a file, written under a temporary name and renamed when
 * complete (a failed or interrupted backup leaves no half archive), or stdout when it is not a
 * terminal.
 *
 * @module
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { UsageError } from './cli-error.js';
import type { CliIo } from './output.js';

/**
 * An archive being written.
 *
 * @example
 * ```ts
 * declare const io: import('./output.js').CliIo;
 * const target: ArchiveFile = await openArchiveFile(io, 'acme.tenantry.gz');
 * await target.abandon();
 * ```
 */
export interface ArchiveFile {
  readonly stream: Writable;
  /** The file's path, or `undefined` for stdout. */
  readonly path: string | undefined;
  /** Gives the complete archive its name. */
  commit(): Promise<void>;
  /** Removes what was written (nothing for stdout). */
  abandon(): Promise<void>;
}

/**
 * Opens `path` (relative to the command's folder) for an archive, or stdout when `path` is
 * undefined; a terminal on stdout is a {@link UsageError} (an archive is binary).
 *
 * @example
 * ```ts
 * declare const io: import('./output.js').CliIo;
 * const target = await openArchiveFile(io, undefined); // stdout, piped or redirected
 * ```
 */
export async function openArchiveFile(io: CliIo, path: string | undefined): Promise<ArchiveFile> {
  if (path === undefined) {
    if (io.stdout.isTTY === true) throw new UsageError('Refusing to write a binary archive to the terminal: pass -o FILE, or redirect stdout');
    const stdout = io.stdout;
    const stream = new Writable({ write: (chunk: Buffer, _encoding, callback) => void stdout.write(chunk, callback) });
    return { stream, path: undefined, commit: async () => {}, abandon: async () => {} };
  }
  const target = resolve(io.cwd, path);
  const partial = `${target}.partial`;
  const stream = createWriteStream(partial);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new UsageError(`Cannot write the archive to ${target}: ${(error as Error).message}`);
  }
  return {
    stream,
    path: target,
    commit: () => rename(partial, target),
    abandon: () => rm(partial, { force: true }),
  };
}
