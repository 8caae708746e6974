/**
 * Progress of work over many tenants: a bar with counts, rate and failures on a terminal;
 * one plain line per tenant otherwise; nothing but the final document with `--json`.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { ErrorHints } from './explain-error.js';
import { explainFailure } from './explain-error.js';
import type { Output } from './output.js';
import type { RunProgress, TenantOutcome } from './run-tenant-migrations.js';

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
  /** After each tenant. */
  done(outcome: TenantOutcome, progress: RunProgress): void;
  /** A notice during the run (the interrupt): in the bar's text on a terminal, else a line on stderr. */
  notice(text: string): void;
  /** Ends the bar (a no-op for lines). */
  stop(): void;
}

/**
 * A reporter for `total` tenants: a cli-progress bar on stderr when stderr is a terminal and
 * there is more than one tenant; otherwise one line per tenant on stdout (none with `--json`).
 *
 * @example
 * ```ts
 * import { runTenantMigrations, type RunTenantMigrationsOptions } from './run-tenant-migrations.js';
 * declare const output: import('./output.js').Output;
 * declare const target: import('./database-target.js').DatabaseTarget;
 * declare const stale: readonly string[];
 * declare const { tenants, concurrency, signal, migrate }: RunTenantMigrationsOptions;
 * const progress = createProgressReporter(output, stale.length, { target });
 * await runTenantMigrations({ tenants, concurrency, signal, migrate, onDone: (o, p) => progress.done(o, p) });
 * progress.stop();
 * ```
 */
export function createProgressReporter(output: Output, total: number, hints: ErrorHints = {}): ProgressReporter {
  if (output.interactive && total > 1) return barReporter(output, total);
  return {
    done(outcome, { done }) {
      const counter = `[${done}/${total}]`;
      if (outcome.ok) {
        output.line(`${counter} ${outcome.tenantId}: ${outcome.applied.length === 0 ? 'nothing to apply' : `applied ${outcome.applied.join(', ')}`}`);
      } else {
        const { migration, message } = explainFailure(outcome.error, hints);
        output.line(`${counter} ${outcome.tenantId}: FAILED${migration === undefined ? '' : ` at ${migration}`}: ${message}`);
      }
    },
    notice: (text) => output.warn(text),
    stop: () => {},
  };
}

function barReporter(output: Output, total: number): ProgressReporter {
  const started = performance.now();
  const bar = new cliProgress.SingleBar({
    stream: output.stderr,
    format: 'Migrating tenants [{bar}] {value}/{total} | {rate} tenants/s | {failed} failed | ETA {eta_formatted}{note}',
    barCompleteChar: '#',
    barIncompleteChar: '-',
    barsize: 30,
    hideCursor: true,
    etaBuffer: 50,
  });
  let failed = 0;
  let done = 0;
  const payload = (note = '') => ({ rate: (done / Math.max((performance.now() - started) / 1000, 0.001)).toFixed(1), failed, note });
  bar.start(total, 0, payload());
  let note = '';
  return {
    done(_outcome, progress) {
      done = progress.done;
      failed = progress.failed;
      bar.update(done, payload(note));
    },
    notice(text) {
      note = ` | ${text}`;
      bar.update(done, payload(note));
    },
    stop: () => bar.stop(),
  };
}
