/**
 * The daily low-stock digest, on pg-boss (a queue in the app's own PostgreSQL database, in the
 * `inventory_jobs` schema). One scheduled job a day fans out: it enqueues one digest job per
 * active business with `forEachTenant`, each stamped with its business by `tenantJobData`; the
 * worker runs each in its business's scope through `tenantJobHandler`, or fails it when the
 * business is gone or suspended. "Send digest now" enqueues one for the business at hand.
 *
 * @module
 */
import PgBoss from 'pg-boss';
import { type TenantJobData, tenantJobData, tenantJobHandler } from '../../../src/index.js';
import { InventoryError } from '../domain/errors.js';
import { recordLowStockDigest } from '../domain/low-stock-digests.js';
import type { Inventory } from '../inventory.js';

/** The queue of one business's digest job. */
export const DIGEST_QUEUE = 'low-stock-digest';
/** The queue of the daily job that enqueues a digest job per business. */
export const DAILY_DIGEST_QUEUE = 'low-stock-digest-daily';
/** When the daily job runs: 07:00 UTC. */
export const DIGEST_CRON = '0 7 * * *';

/** Options of {@link DigestJobs.start}. */
export interface DigestJobsOptions {
  /** The database to keep the queue in (the app's own). pg-boss opens a small pool of its own. */
  readonly connectionString: string;
  /** The schema of pg-boss's tables (default `inventory_jobs`). */
  readonly schema?: string;
  /** The daily job's cron expression, in UTC (default {@link DIGEST_CRON}). */
  readonly cron?: string;
  /** How often an idle worker looks for jobs (default 2 seconds). */
  readonly pollingIntervalSeconds?: number;
}

/** What a digest job leaves as its output. */
export interface DigestJobOutput {
  readonly digestId: number;
  readonly itemCount: number;
}

/**
 * The digest's queue and workers. Created stopped with the inventory; `start` connects and
 * schedules, `stop` finishes the jobs under way and disconnects.
 *
 * @example
 * ```ts
 * await inventory.jobs.start({ connectionString: process.env.DATABASE_URL! });
 * await tenancy.run('acme', () => inventory.jobs.requestDigest()); // the worker writes acme's digest
 * await inventory.jobs.stop();
 * ```
 */
export class DigestJobs {
  readonly #inventory: Inventory;
  #boss: PgBoss | undefined;

  constructor(inventory: Inventory) {
    this.#inventory = inventory;
  }

  /** Whether the queue is started. */
  get running(): boolean {
    return this.#boss !== undefined;
  }

  /** Starts pg-boss (creating its schema the first time), the two workers and the daily schedule. */
  async start(options: DigestJobsOptions): Promise<void> {
    if (this.#boss !== undefined) return;
    const { tenancy, logError } = this.#inventory;
    const boss = new PgBoss({ connectionString: options.connectionString, schema: options.schema ?? 'inventory_jobs', max: 3, application_name: 'inventory-jobs' });
    boss.on('error', logError);
    await boss.start();
    try {
      await boss.createQueue(DAILY_DIGEST_QUEUE);
      await boss.createQueue(DIGEST_QUEUE, { name: DIGEST_QUEUE, retryLimit: 2, retryDelay: 30 });
      await boss.schedule(DAILY_DIGEST_QUEUE, options.cron ?? DIGEST_CRON, {}, { tz: 'UTC' });
      const polling = { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 };
      // The daily job: one digest job per active business, each carrying its business's id.
      await boss.work(DAILY_DIGEST_QUEUE, polling, async () => {
        const report = await tenancy.forEachTenant(() => boss.send(DIGEST_QUEUE, tenantJobData(tenancy, {})), { concurrency: 4 });
        report.throwIfFailed();
        return { enqueued: report.results.length };
      });
      // A business's digest, in that business's scope (never another's, never none).
      const digest = tenantJobHandler<object, DigestJobOutput>(tenancy, async () => {
        const { id, itemCount } = await recordLowStockDigest(this.#inventory);
        return { digestId: id, itemCount };
      });
      await boss.work<TenantJobData>(DIGEST_QUEUE, polling, (jobs) => digest(jobs));
    } catch (error) {
      await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      throw error;
    }
    this.#boss = boss;
  }

  /**
   * Enqueues a digest job for the active business (a tenant scope is required) and returns its
   * id. A 503 when the queue is not started.
   */
  async requestDigest(): Promise<string> {
    const id = await this.#started().send(DIGEST_QUEUE, tenantJobData(this.#inventory.tenancy, {}));
    if (id === null) throw new Error('pg-boss did not enqueue the digest job');
    return id;
  }

  /** Enqueues the daily job now (a digest for every active business) and returns its id. */
  async requestDailyRun(): Promise<string> {
    const id = await this.#started().send(DAILY_DIGEST_QUEUE, {});
    if (id === null) throw new Error('pg-boss did not enqueue the daily digest job');
    return id;
  }

  /** The state of a job (`created`, `active`, `completed`, `failed`…), or `undefined` if unknown. */
  async jobState(queue: string, id: string): Promise<{ state: string; output: unknown } | undefined> {
    const job = await this.#started().getJobById(queue, id, { includeArchive: true });
    return job === null ? undefined : { state: job.state, output: (job as { output?: unknown }).output };
  }

  /** Lets the jobs under way finish (up to `timeoutMs`, default 5 s), then disconnects. Never throws. */
  async stop(timeoutMs = 5_000): Promise<void> {
    const boss = this.#boss;
    this.#boss = undefined;
    await boss?.stop({ graceful: true, wait: true, timeout: timeoutMs }).catch(this.#inventory.logError);
  }

  #started(): PgBoss {
    if (this.#boss === undefined) throw new InventoryError(503, 'jobs_not_running', 'The job queue is not running: try again in a moment');
    return this.#boss;
  }
}
