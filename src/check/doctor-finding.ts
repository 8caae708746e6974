/**
 * What `tenantry doctor` reports: one finding per thing it looked at.
 *
 * @module
 */

/**
 * How bad a finding is: `ok` and `info` need nothing; `warn` and `error` come with a fix and make
 * the command exit with 1.
 *
 * @example
 * ```ts
 * const severity: FindingSeverity = 'warn';
 * ```
 */
export type FindingSeverity = 'ok' | 'info' | 'warn' | 'error';

/**
 * One finding of `tenantry doctor`.
 *
 * @example
 * ```ts
 * const finding: DoctorFinding = {
 *   check: 'login role',
 *   severity: 'warn',
 *   message: 'The app connects as "postgres", a superuser',
 *   fix: 'connect as a role that is neither superuser nor BYPASSRLS (docs/security.md)',
 * };
 * ```
 */
export interface DoctorFinding {
  readonly check: string;
  readonly severity: FindingSeverity;
  readonly message: string;
  /** What to do about it (`warn` and `error`). */
  readonly fix?: string;
}

/**
 * A finding, built without `fix` when there is none.
 *
 * @example
 * ```ts
 * finding('server', 'info', 'PostgreSQL 15.8');
 * ```
 */
export function finding(check: string, severity: FindingSeverity, message: string, fix?: string): DoctorFinding {
  return fix === undefined ? { check, severity, message } : { check, severity, message, fix };
}
