/**
 * `tenancy.check()`: the start-up checks, in order.
 *
 * @module
 */
import { databaseCheck } from './database-check.js';
import { loginRoleCheck } from './login-role-check.js';
import { registryCheck } from './registry-check.js';
import { rowLevelCheck } from './row-level-check.js';
import { sharedMigrationsCheck } from './shared-migrations-check.js';
import type { CheckContext, CheckResult, StartupCheck, TenancyCheckReport } from './startup-check.js';
import { tenantMigrationsCheck } from './tenant-migrations-check.js';

/**
 * The checks `tenancy.check()` runs, in order: each may rely on the ones before it (the registry
 * check on a reachable database). A new check is a new file in this folder and one entry here.
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * declare const rolesCheck: import('./startup-check.js').StartupCheck;
 * await checkTenancy(context, [...STARTUP_CHECKS, rolesCheck]);
 * ```
 */
export const STARTUP_CHECKS: readonly StartupCheck[] = Object.freeze([
  databaseCheck,
  registryCheck,
  sharedMigrationsCheck,
  tenantMigrationsCheck,
  loginRoleCheck,
]);

/**
 * The checks of a tenancy: {@link STARTUP_CHECKS}, and under the row-level strategy its own
 * check before the login role's.
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * checksOf(context).length; // 5, or 6 with strategy: 'rls'
 * ```
 */
export function checksOf(context: CheckContext): readonly StartupCheck[] {
  return context.strategy === 'rls' ? [...STARTUP_CHECKS.filter((check) => check !== loginRoleCheck), rowLevelCheck, loginRoleCheck] : STARTUP_CHECKS;
}

/**
 * Runs the checks one after the other; the first that throws stops the run (later checks would
 * only fail for the same reason).
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * const report = await checkTenancy(context);
 * report.ok; // true when no check warned
 * ```
 */
export async function checkTenancy(context: CheckContext, checks: readonly StartupCheck[] = checksOf(context)): Promise<TenancyCheckReport> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await check(context));
  const warnings = results.flatMap((result) => result.warnings);
  return { ok: warnings.length === 0, warnings, checks: results };
}
