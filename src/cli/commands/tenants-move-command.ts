/**
 * `tenantry tenants move ID --to SERVER` and `tenantry tenants move ID --strategy schema|rls`.
 *
 * @module
 */
import { assertTenantId } from '../../identifiers.js';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { positiveInteger } from '../option-values.js';

/**
 * Moves tenant ID to the server `--to` names, or (a row-level tenancy) into a schema of its own
 * or back into the shared tables (`--strategy schema|rls`). Exit code 0 when moved; 2 without
 * exactly one of `--to` and `--strategy`, or with a strategy other than those two; a failed move
 * (the tenant stays where it was) exits as other errors do.
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
  const { to, strategy } = ctx.values;
  if (to !== undefined && strategy !== undefined) throw new UsageError('tenantry tenants move takes --to SERVER or --strategy schema|rls, not both');
  if (strategy !== undefined && strategy !== 'schema' && strategy !== 'rls') {
    throw new UsageError(`--strategy must be schema or rls, got ${JSON.stringify(strategy)}`);
  }
  if (strategy === undefined && (typeof to !== 'string' || to.length === 0)) {
    throw new UsageError('tenantry tenants move needs --to SERVER (a name of servers in the config) or --strategy schema|rls');
  }
  const lockTimeout = positiveInteger(ctx.values['lock-timeout'], '--lock-timeout', 30_000);
  const cli = await ctx.open();
  if (strategy !== undefined) {
    const moved = await cli.tenancy.move(id, { strategy }, { lockTimeout });
    ctx.output.line(
      `Moved tenant ${id} from ${moved.from === 'rls' ? 'the shared tables' : `schema ${moved.tenant.schema}`} to ${moved.to === 'rls' ? 'the shared tables' : `schema ${moved.tenant.schema}`}: ` +
        `${moved.rows} rows; writes paused ${Math.round(moved.pausedMs)} ms`,
    );
    ctx.output.result({ tenant: moved.tenant, from: moved.from, to: moved.to, rows: moved.rows, tables: moved.tables, pausedMs: moved.pausedMs, lockedMs: moved.lockedMs });
    return ExitCode.ok;
  }
  const summary = await cli.tenancy.move(id, to as string, { lockTimeout });
  ctx.output.line(
    `Moved tenant ${id} from ${summary.from} to ${summary.to}: ${summary.rows} rows; writes paused ${Math.round(summary.pausedMs)} ms`,
  );
  for (const leftover of summary.leftovers) ctx.output.warn(`Not cleaned up: ${leftover}`);
  ctx.output.result({ tenant: summary.tenant, from: summary.from, to: summary.to, rows: summary.rows, pausedMs: summary.pausedMs, leftovers: summary.leftovers });
  return ExitCode.ok;
}
