/**
 * `tenantry doctor`'s pooler probe against a real PgBouncer: transaction mode is found (with
 * two server connections, and with one, where a naive probe would wait on itself), session mode
 * and a direct connection are not.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { poolerCheck } from '../../src/check/pooler-check.js';
import { useTestDatabase } from '../helpers/database.js';
import { type PgBouncer, PGBOUNCER_INSTALL, pgbouncerBinary, startPgBouncer } from '../helpers/pgbouncer.js';

const db = useTestDatabase();
const installed = pgbouncerBinary() !== undefined;
if (!installed) console.warn(`test/check/pooler-check.test.ts skipped: pgbouncer is not installed (\`${PGBOUNCER_INSTALL}\`)`);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pg.Pool through a fresh PgBouncer in `poolMode` with `poolSize` server connections. */
async function throughBouncer(poolMode: 'transaction' | 'session', poolSize: number): Promise<pg.Pool> {
  const bouncer = (await startPgBouncer(db.url, { poolMode, poolSize })) as PgBouncer;
  cleanups.push(() => bouncer.stop());
  const pool = new pg.Pool({ connectionString: bouncer.url, max: 4 });
  cleanups.push(() => pool.end());
  return pool;
}

describe.skipIf(!installed)('poolerCheck behind a real PgBouncer', () => {
  it('finds a transaction pooler, and calls session-mode tenantPool an error there', async () => {
    const pool = await throughBouncer('transaction', 2);
    expect(await poolerCheck(pool, 'session')).toMatchObject({ check: 'pooler', severity: 'error', fix: expect.stringContaining("mode: 'transaction'") });
    expect(await poolerCheck(pool, 'transaction')).toMatchObject({ severity: 'ok', message: expect.stringContaining('goes through a transaction pooler') });
  });

  it('finds a transaction pooler with one server connection, without waiting on itself', async () => {
    const pool = await throughBouncer('transaction', 1);
    const started = Date.now();
    expect(await poolerCheck(pool, 'session', { timeoutMs: 1500 })).toMatchObject({ severity: 'error' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('sees no transaction pooler in session mode, nor on a direct connection', async () => {
    const pool = await throughBouncer('session', 2);
    expect(await poolerCheck(pool, 'session')).toMatchObject({ severity: 'ok', message: 'No transaction pooler: session mode fits' });
    expect(await poolerCheck(db.pool, 'session')).toMatchObject({ severity: 'ok', message: 'No transaction pooler: session mode fits' });
    expect(await poolerCheck(db.pool, 'transaction')).toMatchObject({ severity: 'info' });
  });

  it('says so when a session pooler has one server connection, which the probe cannot share', async () => {
    const pool = await throughBouncer('session', 1);
    expect(await poolerCheck(pool, 'session', { timeoutMs: 1500 })).toMatchObject({ severity: 'warn', message: expect.stringContaining('did not answer') });
  });
});
