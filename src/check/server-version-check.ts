/**
 * `tenantry doctor`: the server's version, and whether it reports search_path to clients.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';

/** The oldest PostgreSQL tenantry is tested on. */
const OLDEST_TESTED = 150000;
/** From this version the server reports search_path changes to the client (ParameterStatus). */
const REPORTS_SEARCH_PATH = 180000;

/**
 * Reads `server_version_num`: below 15 is a warning; 18 and later report search_path to the
 * client, so a driver sees a path a function or a migration moved.
 *
 * @example
 * ```ts
 * const found = await serverVersionCheck(pool);
 * found.message; // 'PostgreSQL 15.8; it does not report search_path to clients (PostgreSQL 18 and later do)'
 * ```
 */
export async function serverVersionCheck(db: Queryable): Promise<DoctorFinding> {
  const { rows } = await db.query<{ num: string; version: string }>(
    "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version",
  );
  const num = Number(rows[0]!.num);
  const version = `PostgreSQL ${rows[0]!.version}`;
  if (num < OLDEST_TESTED) {
    return finding('server', 'warn', `${version} is older than the oldest version tenantry is tested on (15)`, 'upgrade to PostgreSQL 15 or later');
  }
  return finding(
    'server',
    'info',
    num >= REPORTS_SEARCH_PATH
      ? `${version}; it reports search_path to clients`
      : `${version}; it does not report search_path to clients (PostgreSQL 18 and later do)`,
  );
}
