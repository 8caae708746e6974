/**
 * Migrates a list of tenants, a few at a time, and stops starting new ones once a signal is
 * aborted. Each tenant migrates in its own transaction, so a stop never leaves a schema half done.
 *
 * @module
 */
import type { MigrationResult } from '../migrate/migrator.js';

/**
 * A tenant that failed, with the error as thrown.
 *
 * @example
 * ```ts
 * const failure: TenantFailure = { tenantId: 'acme', error: new Error('boom') };
 * ```
 */
export interface TenantFailure {
  readonly tenantId: string;
  readonly error: unknown;
}

/**
 * What happened to one tenant.
 *
 * @example
 * ```ts
 * const outcome: TenantOutcome = { tenantId: 'acme', ok: true, applied: ['002_sku'] };
 * ```
 */
export type TenantOutcome =
  | { readonly tenantId: string; readonly ok: true; readonly applied: readonly string[] }
  | { readonly tenantId: string; readonly ok: false; readonly error: unknown };

/**
 * Counts after each tenant.
 *
 * @example
 * ```ts
 * const progress: RunProgress = { done: 3, total: 10, failed: 1 };
 * ```
 */
export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly failed: number;
}

/**
 * What {@link runTenantMigrations} needs.
 *
 * @example
 * ```ts
 * declare const signal: AbortSignal;
 * const options: RunTenantMigrationsOptions = { tenants: ['acme'], concurrency: 4, signal, migrate: (id) => tenancy.migrate.tenant(id) };
 * ```
 */
export interface RunTenantMigrationsOptions {
  /** Tenant ids, in the order to start them. */
  readonly tenants: readonly string[];
  /** Tenants in flight at once (a positive integer). */
  readonly concurrency: number;
  /** Once aborted, no tenant starts; those in flight finish. */
  readonly signal: AbortSignal;
  /** Migrates one tenant (its own transaction); throws when it failed. */
  readonly migrate: (tenantId: string) => Promise<MigrationResult>;
  readonly onStart?: (tenantId: string) => void;
  readonly onDone?: (outcome: TenantOutcome, progress: RunProgress) => void;
}

/**
 * What a run did.
 *
 * @example
 * ```ts
 * declare const options: RunTenantMigrationsOptions;
 * const { migrated, failed, notStarted, interrupted }: TenantRunReport = await runTenantMigrations(options);
 * ```
 */
export interface TenantRunReport {
  readonly total: number;
  readonly migrated: readonly MigrationResult[];
  readonly failed: readonly TenantFailure[];
  /** Tenants not started because the run was stopped; a re-run picks them up. */
  readonly notStarted: readonly string[];
  readonly interrupted: boolean;
}

/**
 * Runs `migrate` over the tenants with at most `concurrency` in flight. A failure is recorded
 * and the run goes on. When `signal` aborts, the run starts no further tenant, waits for the
 * tenants in flight, and reports the rest as not started.
 *
 * @example
 * ```ts
 * const report = await runTenantMigrations({
 *   tenants: ['acme', 'globex'],
 *   concurrency: 4,
 *   signal: AbortSignal.timeout(60_000),
 *   migrate: (id) => tenancy.migrate.tenant(id),
 * });
 * report.failed; // [{ tenantId: 'globex', error: MigrationFailedError }]
 * ```
 */
export async function runTenantMigrations(options: RunTenantMigrationsOptions): Promise<TenantRunReport> {
  const { tenants, concurrency, signal, migrate } = options;
  const migrated: MigrationResult[] = [];
  const failed: TenantFailure[] = [];
  let next = 0;
  let done = 0;
  let callbackError: { error: unknown } | undefined;
  const report = (outcome: TenantOutcome): void => {
    done += 1;
    try {
      options.onDone?.(outcome, { done, total: tenants.length, failed: failed.length });
    } catch (error) {
      callbackError ??= { error };
    }
  };
  const worker = async (): Promise<void> => {
    while (next < tenants.length && !signal.aborted) {
      const tenantId = tenants[next]!;
      next += 1;
      options.onStart?.(tenantId);
      try {
        const result = await migrate(tenantId);
        migrated.push(result);
        report({ tenantId, ok: true, applied: result.applied });
      } catch (error) {
        failed.push({ tenantId, error });
        report({ tenantId, ok: false, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tenants.length) }, worker));
  if (callbackError !== undefined) throw callbackError.error;
  return { total: tenants.length, migrated, failed, notStarted: tenants.slice(next), interrupted: next < tenants.length };
}
