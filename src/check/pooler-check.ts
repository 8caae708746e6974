/**
 * `tenantry doctor`: whether the database URL goes through a transaction pooler, and whether
 * the configured tenantPool mode fits it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PoolLike } from '../db.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';

const NAME = 'pooler';

/**
 * Probes with two connections: the first sets a session setting; the second opens a
 * transaction (behind a transaction pooler it takes the server connection the first just used);
 * then the first reads its setting back. A setting that is gone, or another backend pid, means
 * consecutive statements of one connection land on different server sessions: a transaction
 * pooler (PgBouncer in transaction mode, and the like), where session mode leaks state.
 *
 * @example
 * ```ts
 * const found = await poolerCheck(pool, 'session');
 * found.severity; // 'error' behind PgBouncer in transaction mode
 * ```
 */
export async function poolerCheck(pool: PoolLike, mode: 'session' | 'transaction'): Promise<DoctorFinding> {
  const marker = randomBytes(6).toString('hex');
  const first = await pool.connect();
  let pooled: boolean;
  try {
    const before = await first.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, set_config('tenantry.doctor_probe', $1, false)", [marker]);
    const second = await pool.connect();
    try {
      await second.query('BEGIN');
      await second.query('SELECT pg_backend_pid()');
      const after = await first.query<{ pid: number; probe: string | null }>(
        "SELECT pg_backend_pid() AS pid, current_setting('tenantry.doctor_probe', true) AS probe",
      );
      pooled = after.rows[0]!.pid !== before.rows[0]!.pid || after.rows[0]!.probe !== marker;
      await second.query('ROLLBACK');
    } finally {
      second.release();
    }
    await first.query("SELECT set_config('tenantry.doctor_probe', '', false)");
  } finally {
    // Closed, not pooled: it carries the probe's setting.
    first.release(true);
  }
  if (pooled && mode === 'session') {
    return finding(
      NAME,
      'error',
      'The database URL goes through a transaction pooler, and tenantPool.mode is session: a session-level search_path would leak between clients',
      "use tenantPool(tenancy, pool, { mode: 'transaction' }) (and tenantPool: { mode: 'transaction' } in tenantry.config), or connect without the pooler (docs/pg.md)",
    );
  }
  if (pooled) return finding(NAME, 'ok', 'The database URL goes through a transaction pooler; tenantPool.mode is transaction');
  if (mode === 'transaction') {
    return finding(NAME, 'info', 'No transaction pooler answers on the database URL; tenantPool.mode transaction works here, session mode would be faster');
  }
  return finding(NAME, 'ok', 'No transaction pooler: session mode fits');
}
