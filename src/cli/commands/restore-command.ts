/**
 * `tenantry restore FILE [--as ID]`.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RestoreSummary } from '../../backup/restore-tenant.js';
import { assertTenantId } from '../../identifiers.js';
import { createCopyProgress } from '../backup-progress.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { stringList } from '../option-values.js';
import { watchInterrupts } from '../watch-interrupts.js';

/**
 * Restores a tenant from an archive file (`-` for stdin). Exit code 0 when restored; 1 when
 * the archive is refused (corrupted, truncated, other migrations) or the id is taken; 130 after
 * Ctrl-C. Whatever happens before the end, nothing of the tenant is left.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await restoreCommand(ctx); // tenantry restore acme.tenantry.gz --as acme-copy
 * ```
 */
export async function restoreCommand(ctx: CommandContext): Promise<number> {
  const file = ctx.args[0]!;
  const id = typeof ctx.values.as === 'string' ? ctx.values.as : undefined;
  if (id !== undefined) assertTenantId(id);
  const domains = stringList(ctx.values.domain);
  const name = typeof ctx.values.name === 'string' ? ctx.values.name : undefined;
  const path = resolve(ctx.io.cwd, file);
  if (file !== '-') await access(path).catch(() => Promise.reject(new UsageError(`No archive at ${path}: give the file a backup wrote, or - for stdin`)));
  const cli = await ctx.open();
  const source = file === '-' ? ctx.io.stdin : createReadStream(path);
  return runRestore(ctx, `Restoring ${file === '-' ? 'stdin' : file}`, (options) =>
    cli.tenancy.restore(source, {
      ...options,
      ...(id === undefined ? {} : { id }),
      ...(name === undefined ? {} : { name }),
      ...(domains.length === 0 ? {} : { domains }),
      ...(typeof ctx.values.to === 'string' ? { placement: ctx.values.to } : {}),
      allowChanged: ctx.values['allow-changed'] === true,
      allowUnknown: ctx.values['allow-unknown'] === true,
    }),
  );
}

/**
 * Runs a restore (or a clone) with progress and Ctrl-C, and reports the tenant it made.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await runRestore(ctx, 'Cloning acme', async (options) => (await ctx.open()).tenancy.clone('acme', 'acme-2', options));
 * ```
 */
export async function runRestore(
  ctx: CommandContext,
  label: string,
  restore: (options: { signal: AbortSignal; onProgress: ReturnType<typeof createCopyProgress>['onProgress'] }) => Promise<RestoreSummary>,
): Promise<number> {
  const progress = createCopyProgress(ctx.output, label);
  const watch = watchInterrupts({ onFirst: () => progress.notice('Interrupted: rolling back') });
  try {
    const summary = await restore({ signal: watch.signal, onProgress: progress.onProgress });
    progress.stop();
    const { tenant } = summary;
    const newer = summary.applied.length === 0 ? '' : `; then applied ${summary.applied.join(', ')}`;
    ctx.output.line(`Restored tenant ${tenant.id} (schema "${tenant.schema}"): ${summary.rows} rows in ${summary.tables.length} tables${newer}`);
    ctx.output.result({ tenant, rows: summary.rows, tables: summary.tables, applied: summary.applied });
    return ExitCode.ok;
  } catch (error) {
    progress.stop();
    if (watch.exitCode !== undefined) {
      ctx.output.warn('Interrupted: the restore was rolled back; nothing of the tenant is left');
      return watch.exitCode;
    }
    throw error;
  } finally {
    watch.dispose();
  }
}
