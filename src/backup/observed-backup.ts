/**
 * Reports a backup, restore or clone on the `tenantry:backup` diagnostics channel when it ends.
 *
 * @module
 */
import { type BackupEvent, backupChannel } from '../diagnostics.js';

/**
 * Runs `work` and, while someone subscribes, publishes its end: done with rows and bytes, or
 * failed with the error (which is thrown on).
 *
 * @example
 * ```ts
 * declare function run(): Promise<{ rows: number; bytes: number; tenant?: { id: string } }>;
 * await observedBackup('backup', 'acme', run);
 * ```
 */
export async function observedBackup<R extends { readonly rows: number; readonly bytes: number; readonly tenant?: { readonly id: string } }>(
  operation: BackupEvent['operation'],
  tenantId: string | null,
  work: () => Promise<R>,
): Promise<R> {
  const started = performance.now();
  try {
    const result = await work();
    if (backupChannel.hasSubscribers) {
      const event: BackupEvent = { operation, phase: 'done', tenantId: result.tenant?.id ?? tenantId, rows: result.rows, bytes: result.bytes, durationMs: performance.now() - started };
      backupChannel.publish(event);
    }
    return result;
  } catch (error) {
    if (backupChannel.hasSubscribers) backupChannel.publish({ operation, phase: 'failed', tenantId, error, durationMs: performance.now() - started } satisfies BackupEvent);
    throw error;
  }
}
