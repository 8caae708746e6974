/**
 * The fleet run behind `migrate.tenants()`: a bounded number of tenants at once, lock waits
 * retried after the others, progress with an ETA, and a clean stop on an aborted signal.
 *
 * @module
 */
import { sqlState } from '../db.js';
import { MigrationFailedError, MigrationLockTimeoutError, isTenancyError } from '../errors.js';
import type { Tenant } from '../types.js';
import type { MigrateTenantsReport, MigrationProgress, MigrationResult } from './migrator.js';

/** SQLSTATE of a statement cancelled by `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * What {@link migrateFleet} needs.
 *
 * @example
 * ```ts
 * declare const stale: readonly import('../types.js').Tenant[];
 * const options: MigrateFleetOptions = {
 *   tenants: stale,
 *   concurrency: 4,
 *   lockRetries: 2,
 *   lockTimeoutMs: 5_000,
 *   migrate: (tenant) => tenancy.migrate.tenant(tenant.id),
 * };
 * ```
 */
export interface MigrateFleetOptions {
  /** The tenants, in the order to start them. */
  readonly tenants: readonly Tenant[];
  /** Tenants in flight at once (a positive integer). */
  readonly concurrency: number;
  /** How many more times a tenant whose migration hit `lock_timeout` is tried, after the others. */
  readonly lockRetries: number;
  /** The `lock_timeout` of each attempt, named in the error of a tenant that ran out of attempts. */
  readonly lockTimeoutMs: number;
  /** Migrates one tenant in its own transaction; throws when it failed. */
  readonly migrate: (tenant: Tenant) => Promise<MigrationResult>;
  /** Once aborted, no tenant starts (nor is retried); those in flight finish. */
  readonly signal?: AbortSignal | undefined;
  readonly onStart?: ((tenantId: string, total: number) => void) | undefined;
  readonly onProgress?: ((progress: MigrationProgress) => void) | undefined;
}

/**
 * Migrates `tenants`, `concurrency` at a time. A tenant whose migration waited longer than
 * `lock_timeout` goes to the back of the queue and is tried again once the tenants before it
 * have started, up to `lockRetries` more times; then it fails with
 * {@link MigrationLockTimeoutError}. Any other failure is recorded at once. The others go on
 * either way. A callback that throws does not stop the run; the first such error is thrown at
 * the end.
 *
 * @example
 * ```ts
 * declare const options: MigrateFleetOptions;
 * const report = await migrateFleet({ ...options, onProgress: (p) => console.log(`${p.done}/${p.total}, ETA ${p.etaMs ?? '?'} ms`) });
 * report.failed.map((error) => error.tenantId);
 * ```
 */
export async function migrateFleet(options: MigrateFleetOptions): Promise<MigrateTenantsReport> {
  const { tenants, concurrency, lockRetries, lockTimeoutMs, signal } = options;
  const queue = tenants.map((tenant) => ({ tenant, attempt: 1 }));
  const migrated: MigrationResult[] = [];
  const failed: MigrationFailedError[] = [];
  const retried = new Set<string>();
  const started = performance.now();
  let next = 0;
  let done = 0;
  let callbackError: { error: unknown } | undefined;
  const call = (fn: () => void): void => {
    try {
      fn();
    } catch (error) {
      callbackError ??= { error };
    }
  };
  const report = (progress: Omit<MigrationProgress, 'done' | 'total' | 'failed' | 'waiting' | 'elapsedMs' | 'etaMs'>): void => {
    if (options.onProgress === undefined) return;
    const elapsedMs = performance.now() - started;
    const total = tenants.length;
    const etaMs = done === 0 ? undefined : (elapsedMs / done) * (total - done);
    const waiting = queue.length - next;
    call(() => options.onProgress!({ ...progress, done, total, failed: failed.length, waiting, elapsedMs, etaMs }));
  };
  const worker = async (): Promise<void> => {
    while (next < queue.length && signal?.aborted !== true) {
      const { tenant, attempt } = queue[next]!;
      next += 1;
      call(() => options.onStart?.(tenant.id, tenants.length));
      try {
        const result = await options.migrate(tenant);
        migrated.push(result);
        done += 1;
        report({ tenantId: tenant.id, outcome: 'migrated', applied: result.applied, attempt });
      } catch (caught) {
        let error = asMigrationFailure(caught, tenant.id);
        if (sqlState(error.cause) === LOCK_NOT_AVAILABLE) {
          if (attempt <= lockRetries) {
            queue.push({ tenant, attempt: attempt + 1 });
            retried.add(tenant.id);
            report({ tenantId: tenant.id, outcome: 'retrying', attempt, error });
            continue;
          }
          error = new MigrationLockTimeoutError(tenant.id, error.migration, { cause: error.cause, attempts: attempt, lockTimeoutMs });
        }
        failed.push(error);
        done += 1;
        report({ tenantId: tenant.id, outcome: 'failed', attempt, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  if (callbackError !== undefined) throw callbackError.error;
  const notStarted = [...new Set(queue.slice(next).map((item) => item.tenant.id))];
  return { total: tenants.length, migrated, failed, retried: [...retried], notStarted, interrupted: notStarted.length > 0 };
}

/**
 * A tenant's failure as a {@link MigrationFailedError} (the error itself when it is one).
 *
 * @example
 * ```ts
 * asMigrationFailure(new Error('boom'), 'acme').tenantId; // 'acme'
 * ```
 */
export function asMigrationFailure(error: unknown, tenantId: string): MigrationFailedError {
  if (error instanceof MigrationFailedError) return error;
  const migration = isTenancyError(error) && 'migration' in error ? String(error.migration) : undefined;
  return new MigrationFailedError(tenantId, migration, { cause: error });
}
