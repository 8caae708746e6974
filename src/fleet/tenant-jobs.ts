/**
 * Jobs that keep their tenant: the enqueuing side stamps the active tenant's id into the job's
 * data, the worker side runs each job in that tenant's scope, or fails it. Queue-neutral: works
 * with pg-boss (a handler of a batch), BullMQ (a handler of one job) or any queue whose jobs have
 * `data`.
 *
 * @module
 */
import { InvalidConfigError, NoTenantError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';

/**
 * The field tenantry adds to a job's data.
 *
 * @example
 * ```ts
 * const data: TenantJobData = { tenantId: 'acme' };
 * ```
 */
export interface TenantJobData {
  readonly tenantId: string;
}

/**
 * A job as queues hand it to a worker: at least its data.
 *
 * @example
 * ```ts
 * const job: JobLike<{ productId: number }> = { data: { tenantId: 'acme', productId: 7 } };
 * ```
 */
export interface JobLike<D> {
  readonly data: D & TenantJobData;
}

/**
 * The data of a job for the active tenant: `data` with `tenantId` set from the scope, never from
 * input. Throws `NoTenantError` outside a tenant's scope (also in `runShared`), and
 * `InvalidConfigError` when `data` already names another tenant.
 *
 * @example
 * ```ts
 * declare const boss: { send(name: string, data: object): Promise<string | null> };
 * await boss.send('low-stock-digest', tenantJobData(tenancy, { threshold: 5 })); // { threshold: 5, tenantId: 'acme' }
 * ```
 */
export function tenantJobData<D extends object>(tenancy: Tenancy, data: D): D & TenantJobData {
  const tenant = tenancy.current();
  if (tenant === undefined) throw new NoTenantError('Enqueuing a tenant job');
  const named = (data as Partial<TenantJobData>).tenantId;
  if (named !== undefined && named !== tenant.id) {
    throw new InvalidConfigError(`A job enqueued for tenant "${tenant.id}" names tenant ${JSON.stringify(named)} in its data`);
  }
  return { ...data, tenantId: tenant.id };
}

/**
 * A worker handler that runs `fn` for each job inside the scope of the tenant its data names,
 * through `tenancy.run`: a job whose tenant is unknown, deleted or suspended is not run; its
 * handler rejects with the typed error (`TenantNotFoundError`, `TenantSuspendedError`,
 * `InvalidTenantIdError`) and the queue records the failure. Takes one job or a batch (pg-boss
 * hands an array); for a batch the jobs run one after another and the results come back in order.
 *
 * @example
 * ```ts
 * declare const boss: { work<D>(name: string, handler: (jobs: JobLike<D>[]) => Promise<unknown>): Promise<string> };
 * declare function sendDigest(threshold: number): Promise<void>;
 * const digest = tenantJobHandler<{ threshold: number }, void>(tenancy, (job) => sendDigest(job.data.threshold));
 * await boss.work<{ threshold: number }>('low-stock-digest', (jobs) => digest(jobs));
 * ```
 */
export function tenantJobHandler<D, R>(tenancy: Tenancy, fn: (job: JobLike<D>) => R | Promise<R>): {
  (job: JobLike<D>): Promise<R>;
  (jobs: readonly JobLike<D>[]): Promise<R[]>;
} {
  const runOne = (job: JobLike<D>): Promise<R> => tenancy.run(job?.data?.tenantId, () => fn(job)) as Promise<R>;
  const handler = async (input: JobLike<D> | readonly JobLike<D>[]): Promise<R | R[]> => {
    if (!Array.isArray(input)) return runOne(input as JobLike<D>);
    const results: R[] = [];
    for (const job of input as readonly JobLike<D>[]) results.push(await runOne(job));
    return results;
  };
  return handler as never;
}
