/**
 * `tenantry doctor`: whether the database URL goes through a transaction pooler, and whether
 * the configured tenantPool mode fits it.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PoolClientLike, PoolLike } from '../db.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';

const NAME = 'pooler';

/**
 * Options of {@link poolerCheck}.
 *
 * @example
 * ```ts
 * const options: PoolerCheckOptions = { timeoutMs: 2000 };
 * ```
 */
export interface PoolerCheckOptions {
  /** How long one step of the probe may wait for the server (default 5,000 ms). */
  readonly timeoutMs?: number;
}

/** A step of the probe that did not answer in time. */
const NO_ANSWER = Symbol('no answer');

/**
 * Probes with two connections: the first sets a session setting; the second opens a
 * transaction (behind a transaction pooler it takes the server connection the first just used);
 * then the first reads its setting back. A setting that is gone, or another backend pid, means
 * consecutive statements of one connection land on different server sessions: a transaction
 * pooler (PgBouncer in transaction mode, and the like), where session mode leaks state. So does a
 * read of the first connection that waits on the second's open transaction: a pooler with one
 * server connection, which the second holds. A second connection that gets no server at all
 * (a session pooler with one server connection) leaves the question open: a warning.
 *
 * @example
 * ```ts
 * const found = await poolerCheck(pool, 'session');
 * found.severity; // 'error' behind PgBouncer in transaction mode
 * ```
 */
export async function poolerCheck(pool: PoolLike, mode: 'session' | 'transaction', options: PoolerCheckOptions = {}): Promise<DoctorFinding> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const marker = randomBytes(6).toString('hex');
  const first = await pool.connect();
  let second: PoolClientLike | undefined;
  let answered = true;
  let pooled = false;
  try {
    const before = await first.query<{ pid: number }>("SELECT pg_backend_pid() AS pid, set_config('tenantry.doctor_probe', $1, false)", [marker]);
    second = await pool.connect();
    const opened = await within(timeoutMs, second.query('BEGIN').then(() => second!.query('SELECT pg_backend_pid()')));
    if (opened === NO_ANSWER) {
      answered = false;
    } else {
      const after = await within(
        timeoutMs,
        first.query<{ pid: number; probe: string | null }>("SELECT pg_backend_pid() AS pid, current_setting('tenantry.doctor_probe', true) AS probe"),
      );
      pooled = after === NO_ANSWER || after.rows[0]!.pid !== before.rows[0]!.pid || after.rows[0]!.probe !== marker;
    }
  } finally {
    // Closed, not pooled: the first carries the probe's setting, the second may hold a
    // transaction or a query the pooler never answered.
    second?.release(true);
    first.release(true);
  }
  if (!answered) {
    return finding(
      NAME,
      'warn',
      `The pooler in front of the database URL did not answer a second connection within ${timeoutMs} ms while a first one was open: it has a single server connection, or none free`,
      'give the pooler more server connections than one (PgBouncer: default_pool_size), then run tenantry doctor again',
    );
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

/** `promise`'s value, or {@link NO_ANSWER} when it takes longer than `ms` (its failure is then ignored). */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof NO_ANSWER> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof NO_ANSWER>((resolve) => (timer = setTimeout(resolve, ms, NO_ANSWER)));
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
