/**
 * Progress of `tenantry spares fill`: a bar on stderr when it is a terminal, JSON lines on
 * stderr with `--json` (stdout keeps its one document), nothing otherwise.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { SparesFillProgress } from '../provision/spare-pool.js';
import type { Output } from './output.js';
import { formatDuration } from './progress-reporter.js';

/**
 * Receives a fill's progress and shows it.
 *
 * @example
 * ```ts
 * declare const output: import('./output.js').Output;
 * const progress: FillProgressReporter = createFillProgress(output);
 * progress.stop();
 * ```
 */
export interface FillProgressReporter {
  /** Pass as the `onProgress` option of `spares.fill`. */
  readonly onProgress: (progress: SparesFillProgress) => void;
  /** Ends the bar. */
  stop(): void;
}

/**
 * A reporter for one `spares.fill()`.
 *
 * @example
 * ```ts
 * declare const output: import('./output.js').Output;
 * declare const spares: import('../provision/spare-pool.js').TenantSpares;
 * const progress = createFillProgress(output);
 * try {
 *   await spares.fill({ onProgress: progress.onProgress });
 * } finally {
 *   progress.stop();
 * }
 * ```
 */
export function createFillProgress(output: Output): FillProgressReporter {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  if (output.json) {
    return {
      onProgress: (progress) => output.warn(JSON.stringify({ event: 'spare', ...progress, elapsedMs: Math.round(elapsed()) })),
      stop: () => {},
    };
  }
  if (!output.interactive) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  const payload = (done: number, total: number) => {
    const rate = done / Math.max(elapsed() / 1000, 0.001);
    return { rate: rate.toFixed(1), eta: done === 0 ? '-' : formatDuration(((total - done) / rate) * 1000) };
  };
  return {
    onProgress({ done, total }) {
      if (bar === undefined) {
        bar = new cliProgress.SingleBar({
          stream: output.stderr,
          format: 'Provisioning spares [{bar}] {value}/{total} | {rate} spares/s | ETA {eta}',
          barCompleteChar: '#',
          barIncompleteChar: '-',
          barsize: 30,
          hideCursor: true,
        });
        bar.start(total, done, payload(done, total));
      }
      bar.update(done, payload(done, total));
    },
    stop: () => bar?.stop(),
  };
}
