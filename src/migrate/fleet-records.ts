/**
 * How a fleet run records what it migrated: each tenant's transaction commits without waiting for
 * the disk, the registry takes the records in batches, and nothing counts as recorded before the
 * commits it describes are on disk.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import type { MigrationRecord, TenantRegistry } from '../registry/registry.js';

/** Records written to the registry at once, by default. */
const BATCH = 500;

/**
 * Makes every commit made on `pool`'s server so far durable: a transaction that writes a commit
 * record waits (under the server's `synchronous_commit`) until the WAL up to it is flushed, and
 * so every commit before it, whichever session made it.
 *
 * @example
 * ```ts
 * await flushCommits(pool); // the asynchronous commits before this line are now on disk
 * ```
 */
export async function flushCommits(pool: PoolLike): Promise<void> {
  await pool.query('SELECT pg_catalog.txid_current()');
}

/**
 * A fleet run's registry records: added as each tenant's migration commits, written 500 (or
 * `batchSize`) at a time in one statement. Before a batch is written, the servers whose commits it records are
 * flushed (one short transaction each per batch), so the registry never says a tenant is migrated
 * while its migration could still be lost in a crash.
 *
 * @example
 * ```ts
 * declare const registry: import('../registry/registry.js').TenantRegistry;
 * declare const digest: string;
 * const records = new FleetRecords(registry);
 * await records.add(pool, { id: 'acme', version: '011_note.sql', digest });
 * const unrecorded = await records.finish(); // Map of tenant id → error, for batches that failed
 * ```
 */
export class FleetRecords {
  readonly #registry: TenantRegistry;
  readonly #batchSize: number;
  #pending: { pool: PoolLike; record: MigrationRecord }[] = [];
  readonly #writing = new Set<Promise<void>>();
  readonly #unrecorded = new Map<string, unknown>();

  constructor(registry: TenantRegistry, batchSize = BATCH) {
    this.#registry = registry;
    this.#batchSize = batchSize;
  }

  /** Adds a tenant whose migration committed on `pool`; writes a batch when one is full. */
  async add(pool: PoolLike, record: MigrationRecord): Promise<void> {
    this.#pending.push({ pool, record });
    if (this.#pending.length >= this.#batchSize) await this.#write();
  }

  /**
   * Writes what is left (flushing the servers first, as every batch) and waits for every batch.
   * Returns the tenants whose records could not be written, with the error: their migrations
   * committed, and the next run finds them behind in the registry and records them.
   */
  async finish(): Promise<ReadonlyMap<string, unknown>> {
    await this.#write();
    await Promise.all(this.#writing);
    return this.#unrecorded;
  }

  #write(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return Promise.resolve();
    const writing = this.#writeBatch(batch).finally(() => this.#writing.delete(writing));
    this.#writing.add(writing);
    return writing;
  }

  async #writeBatch(batch: readonly { pool: PoolLike; record: MigrationRecord }[]): Promise<void> {
    const records = batch.map((entry) => entry.record);
    try {
      for (const pool of new Set(batch.map((entry) => entry.pool))) await flushCommits(pool);
      if (this.#registry.recordMigrations !== undefined) await this.#registry.recordMigrations(records);
      else for (const { id, version, digest } of records) await this.#registry.recordMigration(id, { version, digest });
    } catch (error) {
      for (const record of records) this.#unrecorded.set(record.id, error);
    }
  }
}
