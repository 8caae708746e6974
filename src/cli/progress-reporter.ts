/**
 * Progress of a migration run over many tenants: a bar with counts, rate, failures, lock
 * retries and the ETA on a terminal; one plain line per tenant otherwise; one JSON line per
 * event on stderr with `--json` (stdout keeps its one document).
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { MigrationProgress } from '../migrate/migrator.js';
import type { ErrorHints } from './explain-error.js';
import { explainFailure } from './explain-error.js';
import type { Output } from './output.js';

/**
 * Shows how a run over tenants goes.
 *
 * @example
 * ```ts
 * declare const output: import('./output.js').Output;
 * const progress: ProgressReporter = createProgressReporter(output, 40);
 * progress.notice('Interrupted: finishing the tenants in flight');
 * ```
 */
export interface ProgressReporter {
  /** After each attempt at a tenant (`migrate.tenants`' `onProgress`). */
  done(progress: MigrationProgress): void;
  /** A notice during the run (the interrupt): in the bar's text on a terminal, else a line on stderr. */
  notice(text: string): void;
  /** Ends the bar (a no-op for lines). */
  stop(): void;
}

/**
 * A reporter for `total` tenants: with `--json`, one JSON line per event on stderr; a
 * cli-progress bar on stderr when stderr is a terminal and there is more than one tenant;
 * otherwise one line per tenant on stdout.
 *
 * @example
 * ```ts
 * declare const output: import('./output.js').Output;
 * declare const target: import('./database-target.js').DatabaseTarget;
 * declare const total: number;
 * const progress = createProgressReporter(output, total, { target });
 * try {
 *   await tenancy.migrate.tenants({ onProgress: (p) => progress.done(p) });
 * } finally {
 *   progress.stop();
 * }
 * ```
 */
export function createProgressReporter(output: Output, total: number, hints: ErrorHints = {}): ProgressReporter {
  if (output.json) return jsonReporter(output, hints);
  if (output.interactive && total > 1) return barReporter(output, total);
  return {
    done(progress) {
      const counter = `[${progress.done}/${total}]`;
      if (progress.outcome === 'migrated') {
        const applied = progress.applied ?? [];
        output.line(`${counter} ${progress.tenantId}: ${applied.length === 0 ? 'nothing to apply' : `applied ${applied.join(', ')}`}`);
      } else if (progress.outcome === 'retrying') {
        output.warn(`${progress.tenantId}: lock wait (attempt ${progress.attempt}), tried again after the others`);
      } else {
        const { migration, message } = explainFailure(progress.error, hints);
        output.line(`${counter} ${progress.tenantId}: FAILED${migration === undefined ? '' : ` at ${migration}`}: ${message}`);
      }
    },
    notice: (text) => output.warn(text),
    stop: () => {},
  };
}

function jsonReporter(output: Output, hints: ErrorHints): ProgressReporter {
  return {
    done(progress) {
      const { error, elapsedMs, etaMs, ...counts } = progress;
      const failure = error === undefined ? {} : { error: explainFailure(error, hints) };
      output.warn(JSON.stringify({ event: 'progress', ...counts, elapsedMs: Math.round(elapsedMs), etaMs: etaMs === undefined ? null : Math.round(etaMs), ...failure }));
    },
    notice: (text) => output.warn(JSON.stringify({ event: 'notice', message: text })),
    stop: () => {},
  };
}

function barReporter(output: Output, total: number): ProgressReporter {
  const bar = new cliProgress.SingleBar({
    stream: output.stderr,
    format: 'Migrating tenants [{bar}] {value}/{total} | {rate} tenants/s | {failed} failed{waiting} | ETA {eta}{note}',
    barCompleteChar: '#',
    barIncompleteChar: '-',
    barsize: 30,
    hideCursor: true,
  });
  let last: MigrationProgress | undefined;
  let note = '';
  const payload = () => {
    const seconds = Math.max((last?.elapsedMs ?? 0) / 1000, 0.001);
    return {
      rate: ((last?.done ?? 0) / seconds).toFixed(1),
      failed: last?.failed ?? 0,
      waiting: last === undefined || last.waiting === 0 ? '' : ` | ${last.waiting} waiting for a lock`,
      eta: last?.etaMs === undefined ? '-' : formatDuration(last.etaMs),
      note,
    };
  };
  bar.start(total, 0, payload());
  return {
    done(progress) {
      last = progress;
      bar.update(progress.done, payload());
    },
    notice(text) {
      note = ` | ${text}`;
      bar.update(last?.done ?? 0, payload());
    },
    stop: () => bar.stop(),
  };
}

/**
 * `42s`, `3m05s`, `1h02m`: a duration for a progress line.
 *
 * @example
 * ```ts
 * formatDuration(185_000); // '3m05s'
 * ```
 */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
