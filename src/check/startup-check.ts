/**
 * The shapes of `tenancy.check()`: one check, what it found, and the report.
 *
 * @module
 */
import type { MigratorOptions } from '../migrate/migrator.js';

/**
 * What a check reads: the tenancy's pool, registry, shared schema and migration sources.
 *
 * @example
 * ```ts
 * declare const context: CheckContext;
 * import { databaseCheck } from './database-check.js';
 * const result = await databaseCheck(context);
 * ```
 */
export type CheckContext = MigratorOptions;

/**
 * What one check found. `warned` lists what to look at; `skipped` says why the check did not
 * apply (a tenancy without a pool, a registry without tables of its own).
 *
 * @example
 * ```ts
 * const result: CheckResult = { name: 'tenant migrations', status: 'warned', warnings: ['2 tenants have tenant migrations to apply (acme, globex): …'] };
 * ```
 */
export interface CheckResult {
  readonly name: string;
  readonly status: 'passed' | 'warned' | 'skipped';
  readonly warnings: readonly string[];
  /** Why a skipped check did not apply. */
  readonly reason?: string;
}

/**
 * One start-up check: resolves with what it found, or throws a `TenancyError` when the app
 * cannot work (no database, no registry). Checks run in order, each after the ones it relies on.
 *
 * @example
 * ```ts
 * const databaseCheck: StartupCheck = async ({ pool }) => {
 *   await pool?.query('select 1');
 *   return passed('database');
 * };
 * ```
 */
export type StartupCheck = (context: CheckContext) => Promise<CheckResult>;

/**
 * What `tenancy.check()` found. `ok` is true when no check warned (errors are thrown, not
 * reported); `warnings` are those of every check, in order.
 *
 * @example
 * ```ts
 * const report = await tenancy.check();
 * for (const warning of report.warnings) console.warn(warning);
 * ```
 */
export interface TenancyCheckReport {
  readonly ok: boolean;
  readonly warnings: readonly string[];
  readonly checks: readonly CheckResult[];
}

/**
 * A check that found nothing wrong.
 *
 * @example
 * ```ts
 * const result: CheckResult = passed('database');
 * ```
 */
export function passed(name: string): CheckResult {
  return { name, status: 'passed', warnings: [] };
}

/**
 * A check that found something to look at; `passed` when `warnings` is empty.
 *
 * @example
 * ```ts
 * declare const stale: readonly Tenant[];
 * const result = warnedIf('tenant migrations', stale.length === 0 ? [] : ['2 tenants have tenant migrations to apply …']);
 * ```
 */
export function warnedIf(name: string, warnings: readonly string[]): CheckResult {
  return warnings.length === 0 ? passed(name) : { name, status: 'warned', warnings };
}

/**
 * A check that did not apply, and why.
 *
 * @example
 * ```ts
 * const result = skipped('database', 'no pool: the tenancy keeps its registry in memory');
 * ```
 */
export function skipped(name: string, reason: string): CheckResult {
  return { name, status: 'skipped', warnings: [], reason };
}

/**
 * `"acme, globex"`, or the first five and how many more.
 *
 * @example
 * ```ts
 * listSome(['a', 'b', 'c', 'd', 'e', 'f']); // 'a, b, c, d, e and 1 more'
 * ```
 */
export function listSome(names: readonly string[], shown = 5): string {
  const more = names.length - shown;
  return more > 0 ? `${names.slice(0, shown).join(', ')} and ${more} more` : names.join(', ');
}

/**
 * `1 tenant has`, `2 tenants have`: a count with its noun, and the verb when given.
 *
 * @example
 * ```ts
 * counted(2, 'tenant', 'has', 'have'); // '2 tenants have'
 * ```
 */
export function counted(count: number, noun: string, one = '', many = one): string {
  const verb = count === 1 ? one : many;
  return `${count} ${noun}${count === 1 ? '' : 's'}${verb === '' ? '' : ` ${verb}`}`;
}
