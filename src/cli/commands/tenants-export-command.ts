/**
 * `tenantry tenants export ID [--format archive|json|csv] [-o PATH]`.
 *
 * @module
 */
import { resolve } from 'node:path';
import { assertTenantId } from '../../identifiers.js';
import { createCopyProgress } from '../backup-progress.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { watchInterrupts } from '../watch-interrupts.js';
import { writeArchiveCommand } from './backup-command.js';

/**
 * Writes a tenant's data: its backup archive (`--format archive`), or a JSON (default) or CSV
 * file per table and `tenant.json` in a folder. Exit code 0 when written; 2 for bad usage or an
 * unknown tenant; 130 after Ctrl-C.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await tenantsExportCommand(ctx); // tenantry tenants export acme --format csv -o ./acme
 * ```
 */
export async function tenantsExportCommand(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0]!;
  assertTenantId(id);
  const format = ctx.values.format ?? 'json';
  if (format !== 'json' && format !== 'csv' && format !== 'archive') {
    throw new UsageError(`--format must be archive, json or csv, got ${JSON.stringify(format)}`);
  }
  const output = typeof ctx.values.output === 'string' ? ctx.values.output : undefined;
  if (format === 'archive') {
    return writeArchiveCommand(ctx, output, `tenant ${id}`, async (destination, options) => (await ctx.open()).tenancy.backup(id, destination, options));
  }
  const directory = resolve(ctx.io.cwd, output ?? `${id}-export`);
  const cli = await ctx.open();
  const progress = createCopyProgress(ctx.output, `Exporting ${id}`);
  const watch = watchInterrupts({ onFirst: () => progress.notice('Interrupted: stopping the export') });
  try {
    const summary = await cli.tenancy.exportTenant(id, directory, { format, signal: watch.signal, onProgress: progress.onProgress });
    progress.stop();
    const rows = summary.tables.reduce((sum, table) => sum + table.rows, 0);
    ctx.output.line(`Exported tenant ${id}: ${rows} rows in ${summary.tables.length} ${format.toUpperCase()} files and tenant.json to ${summary.directory}`);
    ctx.output.result(summary);
    return ExitCode.ok;
  } catch (error) {
    progress.stop();
    if (watch.exitCode !== undefined) {
      ctx.output.warn(`Interrupted: the export in ${directory} is incomplete`);
      return watch.exitCode;
    }
    throw error;
  } finally {
    watch.dispose();
  }
}
