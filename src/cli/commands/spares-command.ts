/**
 * `tenantry spares fill|status|clear`: the spare tenants `registry.create` claims.
 *
 * @module
 */
import type { SparesStatus } from '../../provision/spare-pool.js';
import { ConfigError, ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../format-table.js';
import { positiveInteger } from '../option-values.js';
import { createFillProgress } from '../spares-progress.js';

const ACTIONS = ['fill', 'status', 'clear'] as const;

/**
 * Runs `tenantry spares ACTION`. `fill` shows a progress bar on a terminal (JSON lines on stderr
 * with `--json`) and a summary; `status` lists the spares; `clear` drops them. Exit code 0; a spare that cannot be
 * provisioned fails the fill (exit code 1), the spares made before it stay.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await sparesCommand(ctx); // tenantry spares fill --count 20
 * ```
 */
export async function sparesCommand(ctx: CommandContext): Promise<number> {
  const action = ctx.args[0] as (typeof ACTIONS)[number];
  if (!ACTIONS.includes(action)) throw new UsageError(`"tenantry spares" takes fill, status or clear, got ${JSON.stringify(ctx.args[0])}`);
  if (action !== 'fill' && ctx.values.count !== undefined) throw new UsageError('--count goes with tenantry spares fill');
  const count = ctx.values.count === undefined ? undefined : positiveInteger(ctx.values.count, 'count', 1);
  const cli = await ctx.open({ poolSize: 2 });
  const spares = cli.tenancy.spares;
  if (spares === undefined) throw new ConfigError('Spares are off: set spares: { count: N } in the config file (see docs/provisioning.md)');
  const { output } = ctx;

  if (action === 'fill') {
    const progress = createFillProgress(output);
    let report: Awaited<ReturnType<typeof spares.fill>>;
    try {
      report = await spares.fill({ ...(count === undefined ? {} : { count }), onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
    const parts = [`${report.created.length} provisioned`];
    if (report.migrated.length > 0) parts.push(`${report.migrated.length} migrated`);
    if (report.dropped.length > 0) parts.push(`${report.dropped.length} dropped (their migration failed)`);
    output.line(`Spares: ${parts.join(', ')}; ${report.ready} ready`);
    output.result(report);
  } else if (action === 'status') {
    const status = await spares.status();
    output.line(describe(status));
    for (const line of formatTable(status.spares.map((spare) => [spare.schema, spare.upToDate ? 'ready' : 'behind', spare.migrationVersion ?? '-', spare.createdAt.toISOString()]))) {
      output.line(line);
    }
    output.result(status);
  } else {
    const dropped = await spares.clear();
    output.line(`Dropped ${dropped} spare${dropped === 1 ? '' : 's'}`);
    output.result({ dropped });
  }
  return ExitCode.ok;
}

function describe(status: SparesStatus): string {
  const behind = status.behind === 0 ? '' : `, ${status.behind} behind the tenant migrations (tenantry migrate brings them up)`;
  return `Spares: ${status.ready} of ${status.count} ready${behind}`;
}
