/**
 * `tenantry tenants move ID --to SERVER`.
 *
 * @module
 */
import { assertTenantId } from '../../identifiers.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { positiveInteger } from '../option-values.js';

/**
 * Moves tenant ID to the server `--to` names. Exit code 0 when moved; 2 without `--to`; a failed
 * move (the tenant stays where it was) exits as other errors do.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await tenantsMoveCommand(ctx); // tenantry tenants move acme --to eu
 * ```
 */
export async function tenantsMoveCommand(ctx: CommandContext): Promise<number> {
  const id = ctx.args[0]!;
  assertTenantId(id);
  const to = ctx.values.to;
  if (typeof to !== 'string' || to.length === 0) throw new UsageError('tenantry tenants move needs --to SERVER (a name of servers in the config)');
  const lockTimeout = positiveInteger(ctx.values['lock-timeout'], '--lock-timeout', 30_000);
  const cli = await ctx.open();
  const summary = await cli.tenancy.move(id, to, { lockTimeout });
  ctx.output.line(
    `Moved tenant ${id} from ${summary.from} to ${summary.to}: ${summary.rows} rows; writes paused ${Math.round(summary.pausedMs)} ms`,
  );
  for (const leftover of summary.leftovers) ctx.output.warn(`Not cleaned up: ${leftover}`);
  ctx.output.result({ tenant: summary.tenant, from: summary.from, to: summary.to, rows: summary.rows, pausedMs: summary.pausedMs, leftovers: summary.leftovers });
  return ExitCode.ok;
}
