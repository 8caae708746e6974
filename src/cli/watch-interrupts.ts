/**
 * Ctrl-C (SIGINT) and SIGTERM as a stop request: the first one aborts a signal the runner
 * checks before starting more work; the second one exits at once.
 *
 * @module
 */
import { ExitCode } from './cli-error.js';

type StopSignalName = 'SIGINT' | 'SIGTERM';

/**
 * A watch over the interrupt signals.
 *
 * @example
 * ```ts
 * const watch: InterruptWatch = watchInterrupts();
 * if (watch.signal.aborted) process.exitCode = watch.exitCode;
 * ```
 */
export interface InterruptWatch {
  /** Aborted at the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM, `undefined` while neither came. */
  readonly exitCode: number | undefined;
  /** Stops watching; the signals get their default behaviour back. */
  dispose(): void;
}

/**
 * What {@link watchInterrupts} needs; the defaults are the current process.
 *
 * @example
 * ```ts
 * watchInterrupts({ onFirst: (name) => console.error(`${name}: finishing the work in flight`) });
 * ```
 */
export interface WatchInterruptsOptions {
  /** Called at the first signal, after the abort. */
  readonly onFirst?: (name: StopSignalName) => void;
  /** Called at the second signal, just before exiting. */
  readonly onSecond?: (name: StopSignalName) => void;
  readonly process?: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
}

/**
 * Watches for SIGINT and SIGTERM. The first aborts `signal` (the runner starts nothing new and
 * lets the work in flight finish); the second exits with 130 (143 for SIGTERM) at once, and the
 * transactions in flight are rolled back by the server when their connections close.
 *
 * @example
 * ```ts
 * const watch = watchInterrupts({ onFirst: () => console.error('Stopping after the tenants in flight…') });
 * try {
 *   await tenancy.migrate.tenants({ concurrency: 4, signal: watch.signal });
 * } finally {
 *   watch.dispose();
 * }
 * ```
 */
export function watchInterrupts(options: WatchInterruptsOptions = {}): InterruptWatch {
  const target = options.process ?? process;
  const controller = new AbortController();
  let exitCode: number | undefined;
  const handle = (name: StopSignalName): void => {
    const code = name === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
    if (exitCode !== undefined) {
      options.onSecond?.(name);
      target.exit(code);
      return;
    }
    exitCode = code;
    controller.abort(new Error(`stopped by ${name}`));
    options.onFirst?.(name);
  };
  const onInt = (): void => handle('SIGINT');
  const onTerm = (): void => handle('SIGTERM');
  target.on('SIGINT', onInt);
  target.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose() {
      target.off('SIGINT', onInt);
      target.off('SIGTERM', onTerm);
    },
  };
}
