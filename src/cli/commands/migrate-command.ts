/**
 * `tenantry migrate`: the shared schema, then every tenant with pending migrations, with
 * progress, a failure list, and a clean stop on Ctrl-C.
 *
 * @module
 */
import { TenantNotFoundError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import type { MigrateTenantsReport } from '../../migrate/migrator.js';
import { ExitCode } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { positiveInteger, stringList, wholeNumber } from '../option-values.js';
import { explainFailure } from '../explain-error.js';
import { formatTable } from '../format-table.js';
import type { CliTenancy } from '../open-tenancy.js';
import type { Output } from '../output.js';
import type { ProgressReporter } from '../progress-reporter.js';
import { createProgressReporter } from '../progress-reporter.js';
import { watchInterrupts } from '../watch-interrupts.js';
import type { MigrationPlan } from './plan-migrations.js';
import { planMigrations } from './plan-migrations.js';

/** Which parts a `migrate` covers, from its flags. */
interface MigrateScope {
  readonly shared: boolean;
  readonly tenants: boolean;
  readonly only: readonly string[];
  readonly concurrency: number;
  readonly allowChanged: boolean;
  readonly lockTimeout: number;
  readonly lockRetries: number;
}

/**
 * Runs `tenantry migrate`. Exit code 0 when everything was applied, 1 when a tenant failed
 * (each failure is listed: tenant, migration, error), 130 after Ctrl-C (143 after SIGTERM).
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * const code = await migrateCommand(ctx); // tenantry migrate --tenants --concurrency 8
 * ```
 */
export async function migrateCommand(ctx: CommandContext): Promise<number> {
  const scope = readScope(ctx);
  const cli = await ctx.open({ poolSize: scope.concurrency + 1 });
  if (!cli.hasMigrations) {
    ctx.output.warn('Note: no migrations are configured (set migrations in the config file, or pass --shared-migrations / --tenant-migrations)');
  }
  if (ctx.values['dry-run'] === true) {
    const plan = await planMigrations(cli, scope);
    printPlan(ctx.output, plan);
    ctx.output.result(plan);
    return ExitCode.ok;
  }

  const inFlight = new Set<string>();
  let phase: 'shared' | 'tenants' = 'shared';
  let progress: ProgressReporter | undefined;
  const watch = watchInterrupts({
    onFirst: () => {
      const notice =
        phase === 'shared'
          ? 'Interrupted: the shared migrations finish (or roll back), then no tenant starts. Ctrl-C again stops at once.'
          : `Interrupted: no new tenant starts; waiting for ${inFlight.size} in flight${inFlight.size > 0 ? ` (${[...inFlight].join(', ')})` : ''}. Ctrl-C again stops at once (they roll back).`;
      if (progress === undefined) ctx.output.warn(notice);
      else progress.notice(notice);
    },
    onSecond: () => {
      progress?.stop();
      ctx.output.warn('Stopped at once: the tenants in flight roll back; run the command again to finish.');
    },
  });
  try {
    let shared: { schema: string; applied: readonly string[] } | null = null;
    if (scope.shared) {
      const result = await cli.tenancy.migrate.shared({ allowChanged: scope.allowChanged });
      shared = { schema: cli.sharedSchema, applied: result.applied };
      ctx.output.line(`Shared schema "${cli.sharedSchema}": ${result.applied.length === 0 ? 'nothing to apply' : `applied ${result.applied.join(', ')}`}`);
    }
    let report: MigrateTenantsReport | null = null;
    if (scope.tenants && !watch.signal.aborted) {
      phase = 'tenants';
      await requireTenants(cli, scope.only);
      let reporter: ProgressReporter | undefined;
      try {
        report = await cli.tenancy.migrate.tenants({
          concurrency: scope.concurrency,
          lockTimeout: scope.lockTimeout,
          lockRetries: scope.lockRetries,
          allowChanged: scope.allowChanged,
          signal: watch.signal,
          ...(scope.only.length > 0 ? { only: scope.only } : {}),
          onStart: (id, total) => {
            reporter ??= progress = createProgressReporter(ctx.output, total, ctx.hints());
            inFlight.add(id);
          },
          onProgress: (event) => {
            inFlight.delete(event.tenantId);
            reporter?.done(event);
          },
        });
      } finally {
        reporter?.stop();
      }
      if (report.total === 0) ctx.output.line('Tenants: nothing to apply');
    }
    const failures = (report?.failed ?? []).map((failure) => ({ tenantId: failure.tenantId ?? '-', ...explainFailure(failure, ctx.hints()) }));
    printSummary(ctx.output, report, failures, watch.exitCode !== undefined, scope.tenants);
    ctx.output.result({
      shared,
      tenants:
        report === null
          ? null
          : {
              total: report.total,
              migrated: report.migrated.map((result) => ({ tenantId: result.tenantId, applied: result.applied })),
              failed: failures,
              retried: report.retried,
              notStarted: report.notStarted,
            },
      interrupted: watch.exitCode !== undefined,
    });
    return watch.exitCode ?? (failures.length > 0 ? ExitCode.failed : ExitCode.ok);
  } finally {
    watch.dispose();
  }
}

function readScope(ctx: CommandContext): MigrateScope {
  const only = stringList(ctx.values.tenant);
  for (const id of only) assertTenantId(id);
  const concurrency = positiveInteger(ctx.values.concurrency, 'concurrency', 4);
  const named = ctx.values.shared === true || ctx.values.tenants === true || only.length > 0;
  return {
    shared: ctx.values.shared === true || !named,
    tenants: ctx.values.tenants === true || only.length > 0 || !named,
    only,
    concurrency,
    allowChanged: ctx.values['allow-changed'] === true,
    lockTimeout: wholeNumber(ctx.values['lock-timeout'], 'lock-timeout', 5_000),
    lockRetries: wholeNumber(ctx.values['lock-retries'], 'lock-retries', 2),
  };
}

/** Refuses a named tenant the registry does not know (exit code 2), before anything runs. */
async function requireTenants(cli: CliTenancy, only: readonly string[]): Promise<void> {
  for (const id of only) {
    if ((await cli.tenancy.registry.get(id)) === undefined) throw new TenantNotFoundError(id);
  }
}

function printSummary(
  output: Output,
  report: MigrateTenantsReport | null,
  failures: readonly { tenantId: string; migration: string | undefined; message: string }[],
  interrupted: boolean,
  tenantsAsked: boolean,
): void {
  if (report !== null && report.total > 0) {
    // A tenant run with nothing applied (its edited migrations accepted with --allow-changed) is up to date, not migrated.
    const applied = report.migrated.filter((outcome) => outcome.applied.length > 0).length;
    const upToDate = report.migrated.length - applied;
    output.line(
      `Tenants: ${applied} migrated${upToDate > 0 ? `, ${upToDate} up to date` : ''}, ${failures.length} failed${report.notStarted.length > 0 ? `, ${report.notStarted.length} not started` : ''} (of ${report.total})` +
        (report.retried.length > 0 ? `; ${report.retried.length} waited for a lock and were tried again` : ''),
    );
  }
  if (failures.length > 0) {
    output.warn(`${failures.length} tenant${failures.length === 1 ? '' : 's'} failed (rolled back; fix the cause and run tenantry migrate again):`);
    for (const line of formatTable(failures.map((f) => [f.tenantId, f.migration ?? '-', f.message]))) output.warn(line);
  }
  if (interrupted) {
    const left = report === null ? (tenantsAsked ? 'the tenants were not started' : 'nothing was left') : `${report.notStarted.length} tenant${report.notStarted.length === 1 ? '' : 's'} not started`;
    output.warn(`Interrupted: ${left}. Run the same command again to finish; what was done stays done.`);
  }
}

function printPlan(output: Output, plan: MigrationPlan): void {
  output.line('Dry run: nothing is applied.');
  if (plan.shared !== null) output.line(`Shared schema "${plan.shared.schema}": ${describePlan(plan.shared)}`);
  if (plan.tenants === null) return;
  if (plan.registryMissing) {
    output.line('Tenants: none yet (the registry tables do not exist; tenantry migrate creates them)');
    return;
  }
  if (plan.tenants.length === 0) {
    output.line('Tenants: nothing to apply');
    return;
  }
  output.line(`Tenants (${plan.tenants.length}):`);
  for (const line of formatTable(plan.tenants.map((tenant) => [tenant.tenantId, describePlan(tenant)]))) output.line(line);
}

function describePlan(plan: { readonly pending: readonly string[]; readonly changed: readonly string[] }): string {
  const parts: string[] = [];
  if (plan.pending.length > 0) parts.push(`would apply ${plan.pending.join(', ')}`);
  if (plan.changed.length > 0) parts.push(`edited after they ran: ${plan.changed.join(', ')} (needs --allow-changed)`);
  return parts.length === 0 ? 'nothing to apply' : parts.join('; ');
}
