/**
 * `tenancy.forEachTenant`: work over every tenant, each in its own scope, a few at a time.
 *
 * @module
 */
import { InvalidConfigError, TenantsFailedError } from '../errors.js';
import type { ListTenantsInput, TenantPage } from '../registry/registry.js';
import type { Tenant } from '../types.js';

/**
 * Options of `tenancy.forEachTenant`.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * declare function sendDigest(tenant: Tenant): Promise<void>;
 * await tenancy.forEachTenant(sendDigest, { concurrency: 8, filter: (t) => t.metadata.plan === 'pro', signal: controller.signal });
 * ```
 */
export interface ForEachTenantOptions {
  /** How many tenants run at once (1 to 256, default 4). */
  readonly concurrency?: number;
  /** Skips the tenants it returns false for (they count as neither done nor failed). */
  readonly filter?: (tenant: Tenant) => boolean;
  /** Stops starting tenants once aborted; those running finish, and the report says `aborted`. */
  readonly signal?: AbortSignal;
  /** Called after each tenant, with the counts so far. */
  readonly onProgress?: (progress: ForEachTenantProgress) => void;
  /** Tenants read from the registry per page (1 to 1000, default 100): 10,000 tenants are never all in memory. */
  readonly pageSize?: number;
}

/**
 * What `onProgress` gets after each tenant.
 *
 * @example
 * ```ts
 * await tenancy.forEachTenant(doWork, { onProgress: ({ done, failed }) => console.log(`${done} done, ${failed} failed`) });
 * ```
 */
export interface ForEachTenantProgress {
  /** The tenant just finished. */
  readonly tenant: Tenant;
  /** Its error, when it failed. */
  readonly error?: unknown;
  /** Tenants finished so far, failed ones included. */
  readonly done: number;
  /** Of those, the ones that failed. */
  readonly failed: number;
}

/**
 * What `fn` gets besides its tenant.
 *
 * @example
 * ```ts
 * declare function exportProducts(tenant: Tenant, options: { signal: AbortSignal }): Promise<void>;
 * await tenancy.forEachTenant((tenant, { signal }) => exportProducts(tenant, { signal }));
 * ```
 */
export interface ForEachTenantCall {
  /** The run's signal (never aborted when none was given), for work that can stop half-way. */
  readonly signal: AbortSignal;
}

/**
 * One tenant's failure in a `forEachTenant` run.
 *
 * @example
 * ```ts
 * const report = await tenancy.forEachTenant(doWork);
 * for (const { tenant, error } of report.failures) console.error(tenant.id, error);
 * ```
 */
export interface TenantFailure {
  readonly tenant: Tenant;
  readonly error: unknown;
}

/**
 * What a `forEachTenant` run did: each tenant's value, each failure (one does not stop the
 * others), and whether the signal stopped it.
 *
 * @example
 * ```ts
 * const report = await tenancy.forEachTenant(() => db.query<{ count: string }>('select count(*) from products'));
 * report.throwIfFailed(); // TenantsFailedError listing every failed tenant
 * for (const { tenant, value } of report.results) console.log(tenant.id, value.rows[0]?.count);
 * ```
 */
export interface ForEachTenantReport<R> {
  readonly results: readonly { readonly tenant: Tenant; readonly value: R }[];
  readonly failures: readonly TenantFailure[];
  /** True when the signal stopped the run before every tenant was visited. */
  readonly aborted: boolean;
  /** Throws `TenantsFailedError` (an AggregateError-like summary) when any tenant failed. */
  throwIfFailed(): void;
}

/** What forEachTenant needs of a tenancy: its registry's pages and a way to run in a tenant's scope. */
export interface FleetAccess {
  list(input: ListTenantsInput): Promise<TenantPage>;
  run<R>(tenant: Tenant, fn: () => R): Promise<Awaited<R>>;
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Runs `fn` once for every active tenant, inside that tenant's scope, `concurrency` at a time,
 * reading the registry page by page. `tenancy.forEachTenant` calls it with the tenancy's own
 * registry and run.
 *
 * @example
 * ```ts
 * const report = await forEachTenant({ list: (input) => tenancy.registry.list(input), run: (t, inScope) => tenancy.run(t, inScope) }, doWork);
 * ```
 */
export async function forEachTenant<R>(
  access: FleetAccess,
  fn: (tenant: Tenant, call: ForEachTenantCall) => R | Promise<R>,
  options: ForEachTenantOptions = {},
): Promise<ForEachTenantReport<Awaited<R>>> {
  if (typeof fn !== 'function') throw new InvalidConfigError(`forEachTenant expects a function, got ${typeof fn}`);
  const concurrency = boundedInteger('concurrency', options.concurrency ?? 4, 256);
  const pageSize = boundedInteger('pageSize', options.pageSize ?? 100, 1000);
  const signal = options.signal ?? NEVER_ABORTED;
  const call: ForEachTenantCall = { signal };
  const results: { tenant: Tenant; value: Awaited<R> }[] = [];
  const failures: TenantFailure[] = [];
  const tenants = activeTenants(access, pageSize, options.filter);

  const progress = (tenant: Tenant, error?: unknown): void => {
    options.onProgress?.({ tenant, ...(error === undefined ? {} : { error }), done: results.length + failures.length, failed: failures.length });
  };
  const worker = async (): Promise<void> => {
    while (!signal.aborted) {
      const next = await tenants.next();
      if (next.done === true || signal.aborted) return;
      const tenant = next.value;
      try {
        results.push({ tenant, value: await access.run(tenant, () => fn(tenant, call)) });
        progress(tenant);
      } catch (error) {
        failures.push({ tenant, error });
        progress(tenant, error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await tenants.return(undefined);
  }
  const aborted = signal.aborted;
  return {
    results,
    failures,
    aborted,
    throwIfFailed() {
      if (failures.length > 0) throw new TenantsFailedError(failures);
    },
  };
}

/** The registry's active tenants, one page at a time; concurrent `next()` calls queue, as an async generator's do. */
async function* activeTenants(access: FleetAccess, limit: number, filter: ForEachTenantOptions['filter']): AsyncGenerator<Tenant, void, undefined> {
  let after: string | undefined;
  do {
    const page = await access.list({ status: 'active', limit, after });
    for (const tenant of page.tenants) if (filter === undefined || filter(tenant)) yield tenant;
    after = page.next;
  } while (after !== undefined);
}

function boundedInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidConfigError(`forEachTenant ${name} must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}
