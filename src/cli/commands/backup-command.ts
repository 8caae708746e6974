/**
 * `tenantry backup ID [-o FILE]` and `tenantry backup --shared [-o FILE]`.
 *
 * @module
 */
import type { Writable } from 'node:stream';
import type { BackupProgress } from '../../backup/copy-control.js';
import type { BackupSummary } from '../../backup/backup-schema.js';
import { assertTenantId } from '../../identifiers.js';
import { openArchiveFile } from '../archive-file.js';
import { createCopyProgress } from '../backup-progress.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { watchInterrupts } from '../watch-interrupts.js';

/**
 * Writes a tenant's (or the shared tables') archive to `-o FILE` or stdout. Exit code 0 when
 * written; 2 for bad usage or an unknown tenant; 130 after Ctrl-C (no file is left).
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await backupCommand(ctx); // tenantry backup acme -o acme.tenantry.gz
 * ```
 */
export async function backupCommand(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0];
  const shared = ctx.values.shared === true;
  if (shared === (id !== undefined)) throw new UsageError('tenantry backup needs a tenant id, or --shared for the shared tables (not both)');
  if (id !== undefined) assertTenantId(id);
  const compression = compressionLevel(ctx.values.compression);
  const output = typeof ctx.values.output === 'string' ? ctx.values.output : undefined;
  return writeArchiveCommand(ctx, output, shared ? 'the shared tables' : `tenant ${id}`, async (destination, options) => {
    const cli = await ctx.open();
    return shared ? cli.tenancy.backupShared(destination, { ...options, compression }) : cli.tenancy.backup(id!, destination, { ...options, compression });
  });
}

/**
 * Runs one archive-writing backup with a file (or stdout), progress and Ctrl-C; shared by
 * `backup` and `tenants export --format archive`.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await writeArchiveCommand(ctx, 'acme.tenantry.gz', 'tenant acme', async (destination, options) => (await ctx.open()).tenancy.backup('acme', destination, options));
 * ```
 */
export async function writeArchiveCommand(
  ctx: CommandContext,
  path: string | undefined,
  what: string,
  backup: (destination: Writable, options: { signal: AbortSignal; onProgress: (progress: BackupProgress) => void }) => Promise<BackupSummary>,
): Promise<number> {
  const file = await openArchiveFile(ctx.io, path);
  const progress = createCopyProgress(ctx.output, `Backing up ${what}`);
  const watch = watchInterrupts({ onFirst: () => progress.notice('Interrupted: stopping the backup') });
  try {
    const summary = await backup(file.stream, { signal: watch.signal, onProgress: progress.onProgress });
    await file.commit();
    progress.stop();
    const line = `Backed up ${what}: ${summary.rows} rows in ${summary.tables.length} tables${file.path === undefined ? '' : ` to ${file.path}`}`;
    const result = { file: file.path ?? null, kind: summary.manifest.kind, tenant: summary.manifest.tenant?.id ?? null, rows: summary.rows, bytes: summary.bytes, tables: summary.tables };
    if (file.path === undefined) {
      // stdout carries the archive: the summary goes to stderr.
      ctx.output.warn(ctx.output.json ? JSON.stringify(result) : line);
    } else {
      ctx.output.line(line);
      ctx.output.result(result);
    }
    return ExitCode.ok;
  } catch (error) {
    progress.stop();
    await file.abandon();
    if (watch.exitCode !== undefined) {
      ctx.output.warn(`Interrupted: ${file.path === undefined ? 'the archive on stdout is incomplete' : 'no archive was written'}`);
      return watch.exitCode;
    }
    throw error;
  } finally {
    watch.dispose();
  }
}

function compressionLevel(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[0-9]$/.test(text)) throw new UsageError(`--compression must be a gzip level from 0 to 9, got ${JSON.stringify(text)}`);
  return Number(text);
}
