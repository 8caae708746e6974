/**
 * Progress of a backup, restore, clone or export: a bar on stderr when it is a terminal, JSON
 * lines on stderr with `--json` (stdout may carry the archive), nothing otherwise.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { BackupProgress } from '../backup/copy-control.js';
import type { Output } from './output.js';

/**
 * Receives a copy's progress and shows it.
 *
 * @example
 * ```ts
 * declare const output: import('./output.js').Output;
 * const progress: CopyProgressReporter = createCopyProgress(output, 'Backing up acme');
 * progress.stop();
 * ```
 */
export interface CopyProgressReporter {
  /** Pass as the `onProgress` option. */
  readonly onProgress: (progress: BackupProgress) => void;
  /** A notice (the interrupt), in the bar on a terminal, else a line on stderr. */
  notice(text: string): void;
  /** Ends the bar. */
  stop(): void;
}

/**
 * A reporter for one copy labelled `label` ("Backing up acme").
 *
 * @example
 * ```ts
 * declare const cli: import('./open-tenancy.js').CliTenancy;
 * declare const output: import('./output.js').Output;
 * declare const destination: import('node:stream').Writable;
 * const progress = createCopyProgress(output, 'Backing up acme');
 * try {
 *   await cli.tenancy.backup('acme', destination, { onProgress: progress.onProgress });
 * } finally {
 *   progress.stop();
 * }
 * ```
 */
export function createCopyProgress(output: Output, label: string): CopyProgressReporter {
  if (output.json) {
    return {
      onProgress(progress) {
        if (progress.tableDone) output.warn(JSON.stringify({ event: 'table', ...progress }));
      },
      notice: (text) => output.warn(JSON.stringify({ event: 'notice', message: text })),
      stop: () => {},
    };
  }
  if (!output.interactive) return { onProgress: () => {}, notice: (text) => output.warn(text), stop: () => {} };
  const started = performance.now();
  const bar = new cliProgress.SingleBar({
    stream: output.stderr,
    format: `${label} [{bar}] {value}/{total} tables | {rows} rows | {mb} MB at {rate} MB/s | {table}{note}`,
    barCompleteChar: '#',
    barIncompleteChar: '-',
    barsize: 20,
    hideCursor: true,
  });
  let running = false;
  let last: BackupProgress | undefined;
  let note = '';
  const payload = (progress: BackupProgress | undefined) => ({
    rows: progress?.rows ?? 0,
    mb: ((progress?.bytes ?? 0) / 1e6).toFixed(1),
    rate: ((progress?.bytes ?? 0) / 1e6 / Math.max((performance.now() - started) / 1000, 0.001)).toFixed(1),
    table: progress?.table ?? '',
    note,
  });
  return {
    onProgress(progress) {
      last = progress;
      const done = progress.tableIndex + (progress.tableDone ? 1 : 0);
      if (!running) {
        bar.start(progress.tables, done, payload(progress));
        running = true;
      } else {
        bar.update(done, payload(progress));
      }
    },
    notice(text) {
      note = ` | ${text}`;
      if (running) bar.update(payload(last));
      else output.warn(text);
    },
    stop: () => {
      if (running) bar.stop();
    },
  };
}
