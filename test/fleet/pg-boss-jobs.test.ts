/**
 * Jobs that keep their tenant, on a real pg-boss queue in the test database: a job enqueued
 * under acme runs under acme, interleaved jobs of many tenants each see their own rows, and a
 * job whose tenant is suspended or unknown fails with the typed error instead of running.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoTenantError, type Tenancy, type TenantJobData, tenantJobData, tenantJobHandler } from '../../src/index.js';
import { tenantPool, type TenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tenantsWithMarkers } from '../pg/fixtures.js';

const db = useTestDatabase();
let tenancy: Tenancy;
let ids: string[];
let boss: PgBoss;
let raw: pg.Pool;
let scoped: TenantPool;

interface Seen {
  tenantId: string;
  current: string | undefined;
  owners: string[];
}
const seen = new Map<string, Seen>();
const QUEUE = 'read-items';

/** Waits until pg-boss has finished a job (completed or failed) and returns its state and output. */
async function settled(id: string): Promise<{ state: string; output: unknown }> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const job = await boss.getJobById(QUEUE, id, { includeArchive: true });
    if (job !== null && (job.state === 'completed' || job.state === 'failed')) return { state: job.state, output: (job as { output?: unknown }).output };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

beforeAll(async () => {
  ({ tenancy, ids } = await tenantsWithMarkers(db.pool, 6));
  raw = new pg.Pool({ connectionString: db.url, max: 4 });
  scoped = tenantPool(tenancy, raw);
  boss = new PgBoss({ connectionString: db.url, schema: 'jobs_boss' });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.createQueue(QUEUE);
  const handler = tenantJobHandler<{ marker: string }, { owners: number }>(tenancy, async (job) => {
    const { rows } = await scoped.query<{ owner: string }>('select owner from items');
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
    seen.set(job.data.marker, { tenantId: job.data.tenantId, current: tenancy.current()?.id, owners: rows.map((row) => row.owner) });
    return { owners: rows.length };
  });
  // Three workers, one job each at a time (a batch's jobs succeed or fail together in pg-boss).
  for (let worker = 0; worker < 3; worker += 1) await boss.work<{ marker: string } & TenantJobData>(QUEUE, { pollingIntervalSeconds: 0.5 }, (jobs) => handler(jobs));
});

afterAll(async () => {
  await boss?.stop({ graceful: false, wait: true });
  await raw?.end();
});

describe('tenant jobs on pg-boss', () => {
  it("runs each job in the scope of the tenant that enqueued it, reading that tenant's rows only", async () => {
    const sent: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      for (const id of ids) {
        const marker = `${id}#${round}`;
        const jobId = await tenancy.run(id, () => boss.send(QUEUE, tenantJobData(tenancy, { marker }), { retryLimit: 0 }));
        sent.push(jobId!);
      }
    }
    const states = await Promise.all(sent.map(settled));
    expect(states.every(({ state }) => state === 'completed')).toBe(true);
    expect(seen.size).toBe(ids.length * 3);
    for (const [marker, job] of seen) {
      const id = marker.split('#')[0]!;
      expect(job).toEqual({ tenantId: id, current: id, owners: [id] });
    }
  });

  it('fails the job of a suspended or unknown tenant with the typed error, without running it', async () => {
    const suspended = ids[5]!;
    const jobId = await tenancy.run(suspended, () => boss.send(QUEUE, tenantJobData(tenancy, { marker: 'suspended' }), { retryLimit: 0 }));
    await tenancy.registry.suspend(suspended);
    const forged = await boss.send(QUEUE, { marker: 'forged', tenantId: 'nobody' }, { retryLimit: 0 });
    const missing = await boss.send(QUEUE, { marker: 'missing' }, { retryLimit: 0 });
    const outcomes = await Promise.all([jobId!, forged!, missing!].map(settled));
    expect(outcomes.map(({ state }) => state)).toEqual(['failed', 'failed', 'failed']);
    expect(outcomes.map(({ output }) => (output as { name?: string }).name)).toEqual(['TenantSuspendedError', 'TenantNotFoundError', 'InvalidTenantIdError']);
    for (const marker of ['suspended', 'forged', 'missing']) expect(seen.has(marker)).toBe(false);
    await tenancy.registry.resume(suspended);
  });

  it('refuses to enqueue without a tenant, or with data naming another tenant', async () => {
    expect(() => tenantJobData(tenancy, { marker: 'x' })).toThrow(NoTenantError);
    expect(() => tenancy.runShared(() => tenantJobData(tenancy, { marker: 'x' }))).toThrow(NoTenantError);
    await expect(tenancy.run(ids[0]!, () => tenantJobData(tenancy, { marker: 'x', tenantId: ids[1]! }))).rejects.toThrow(/names tenant/);
  });

  it('takes one job (as BullMQ hands them) or a batch, with results in order', async () => {
    const handler = tenantJobHandler<{ n: number }, string>(tenancy, (job) => `${tenancy.require().id}:${job.data.n}`);
    expect(await handler({ data: { tenantId: ids[0]!, n: 1 } })).toBe(`${ids[0]}:1`);
    expect(await handler([{ data: { tenantId: ids[1]!, n: 2 } }, { data: { tenantId: ids[2]!, n: 3 } }])).toEqual([`${ids[1]}:2`, `${ids[2]}:3`]);
  });
});
