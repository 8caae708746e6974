/**
 * `tenantry doctor`: checks a deployment and prints what is wrong, with a fix for each.
 *
 * @module
 */
import type pg from 'pg';
import type { DoctorFinding } from '../../check/doctor-finding.js';
import { runDoctor } from '../../check/run-doctor.js';
import { ExitCode } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { formatTable } from '../format-table.js';

const MARKS: Record<DoctorFinding['severity'], string> = { ok: 'ok', info: 'info', warn: 'WARN', error: 'ERROR' };

/**
 * Runs `tenantry doctor`. Exit code 0 when no finding is a warning or an error, 1 when one is,
 * 2 when it cannot run (no database, bad configuration).
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * const code = await doctorCommand(ctx); // tenantry doctor --json
 * ```
 */
export async function doctorCommand(ctx: CommandContext): Promise<number> {
  const cli = await ctx.open({ poolSize: 2 });
  const findings = await runDoctor({ tenancy: cli.tenancy, pool: cli.pool as pg.Pool, mode: cli.poolMode });
  const problems = findings.filter((f) => f.severity === 'warn' || f.severity === 'error');
  for (const line of formatTable(findings.map((f) => [MARKS[f.severity], f.check, f.message]))) ctx.output.line(line);
  if (problems.length > 0) {
    ctx.output.line();
    ctx.output.line(`${problems.length} problem${problems.length === 1 ? '' : 's'} to fix:`);
    for (const problem of problems) ctx.output.line(`  ${problem.check}: ${problem.fix ?? problem.message}`);
  } else {
    ctx.output.line();
    ctx.output.line('No problems found');
  }
  ctx.output.result({ ok: problems.length === 0, findings });
  return problems.length > 0 ? ExitCode.failed : ExitCode.ok;
}
