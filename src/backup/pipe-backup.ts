/**
 * A backup piped straight into a restore, with no file between them: the one pipe behind
 * clones and moves.
 *
 * @module
 */
import { PassThrough } from 'node:stream';

/**
 * Runs `backup` writing into a pipe while `restore` reads from it, and returns what the restore
 * returned. The first failure on either side destroys the pipe, which stops the other side, and
 * is the one thrown (the other side's consequent failure is dropped).
 *
 * @example
 * ```ts
 * declare const context: import('./backup-context.js').BackupContext;
 * const { restoreTenant } = await import('./restore-tenant.js');
 * const { backupTenant } = await import('./backup-tenant.js');
 * const summary = await pipeBackup(
 *   (pipe) => backupTenant(context, 'acme', pipe, { compression: false }),
 *   (pipe) => restoreTenant(context, pipe, { id: 'acme-copy' }),
 * );
 * ```
 */
export async function pipeBackup<R>(backup: (destination: PassThrough) => Promise<unknown>, restore: (source: PassThrough) => Promise<R>): Promise<R> {
  const pipe = new PassThrough();
  // Failures are reported by the two promises; the stream's own 'error' event would be uncaught.
  pipe.on('error', () => {});
  let first: { error: unknown } | undefined;
  const stop = (error: unknown): never => {
    first ??= { error };
    pipe.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  };
  const backingUp = backup(pipe).catch(stop);
  const restoring = restore(pipe).catch(stop);
  const [, restored] = await Promise.allSettled([backingUp, restoring]);
  if (first !== undefined) throw first.error;
  return (restored as PromiseFulfilledResult<R>).value;
}
