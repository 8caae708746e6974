/**
 * Writers that insert into a tenant's `items` while it moves, and keep what was acknowledged
 * and what was refused (by error code): the evidence that a move loses no acknowledged write.
 */
import { expect, vi } from 'vitest';
import type { MoveSummary, Tenancy, Tenant } from '../../src/index.js';
import type { TenantPool } from '../../src/pg/index.js';

/** Running writers: `start` adds one, `stop` ends them all and waits. */
export interface MoveWriters {
  readonly acknowledged: string[];
  readonly refusals: Map<string, number>;
  /**
   * Starts a writer. A stale one holds the Tenant object given (from before the move: status
   * active, the old placement), as a process whose cache has not heard of the move does:
   * tenantPool cannot refuse its writes, the database must.
   */
  start(stale?: Tenant): void;
  stop(): Promise<void>;
}

/**
 * Writers of labels `w1`, `w2`… into tenant `id`'s `items (label)` through `pool`.
 *
 * @example
 * ```ts
 * const writers = moveWriters(tenancy, pool, 'acme');
 * writers.start();
 * await tenancy.move('acme', 'eu');
 * await writers.stop();
 * ```
 */
export function moveWriters(tenancy: Tenancy, pool: TenantPool, id: string): MoveWriters {
  const acknowledged: string[] = [];
  const refusals = new Map<string, number>();
  const running: Promise<void>[] = [];
  let writing = true;
  let next = 0;
  const insert = (label: string) => pool.query('INSERT INTO items (label) VALUES ($1)', [label]);
  const writer = async (stale: Tenant | undefined): Promise<void> => {
    while (writing) {
      const label = `w${(next += 1)}`;
      try {
        if (stale !== undefined) await tenancy.runTenant(stale, () => insert(label));
        else await tenancy.run(id, () => insert(label));
        acknowledged.push(label);
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  };
  return {
    acknowledged,
    refusals,
    start: (stale) => {
      writing = true;
      running.push(writer(stale));
    },
    stop: async () => {
      writing = false;
      await Promise.all(running.splice(0));
    },
  };
}

/**
 * Moves tenant `id` to `to` while `writers` run (from 100 ms before the move to 150 ms after,
 * and until a write after it is acknowledged, then stops them), and checks what every such move
 * must show: it switched, it copied the seeded rows, and writes went on after it.
 *
 * @example
 * ```ts
 * const summary = await moveWhileWriting(tenancy, writers, 'acme', 'eu', 20_000);
 * ```
 */
export async function moveWhileWriting(tenancy: Tenancy, writers: MoveWriters, id: string, to: string, seeded: number): Promise<MoveSummary> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  const moved = await tenancy.move(id, to);
  const writtenBefore = writers.acknowledged.length;
  await new Promise((resolve) => setTimeout(resolve, 150));
  // The first write after the move opens a connection on the new server: on a loaded machine
  // that can take longer than the pause, so wait for it (writes resumed) before stopping them.
  await vi.waitFor(() => expect(writers.acknowledged.length).toBeGreaterThan(writtenBefore), { timeout: 10_000, interval: 20 });
  await writers.stop();
  expect(moved).toMatchObject({ from: 'default', to, leftovers: [] });
  expect(moved.tenant).toMatchObject({ id, placement: to, status: 'active' });
  expect(moved.rows).toBeGreaterThanOrEqual(seeded);
  expect(writers.acknowledged.length).toBeGreaterThan(writtenBefore); // writes resumed, on the new server
  return moved;
}
