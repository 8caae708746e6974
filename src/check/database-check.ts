/**
 * The start-up check that PostgreSQL answers.
 *
 * @module
 */
import { databaseUnavailable } from '../connection-problem.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { passed, skipped } from './startup-check.js';

const NAME = 'database';

/**
 * Runs `SELECT 1` on the pool; a connection that fails throws `DatabaseUnavailableError`, which
 * says what to fix (start the server, set DATABASE_URL, create the database…).
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await databaseCheck(context); // { name: 'database', status: 'passed', warnings: [] }
 * ```
 */
export async function databaseCheck({ pool }: CheckContext): Promise<CheckResult> {
  if (pool === undefined) return skipped(NAME, 'no pool: the tenancy keeps its registry in memory');
  await pool.query('SELECT 1').catch((error: unknown) => {
    throw databaseUnavailable(error) ?? error;
  });
  return passed(NAME);
}
