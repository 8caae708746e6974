import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, type Tenancy } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { serverQuery, serverUrl, useTestDatabase } from '../helpers/database.js';
import { seededRandom } from '../helpers/seeded-random.js';

const db = useTestDatabase();
/** Tenant databases are named after their schemas: this file's own prefix, dropped after it. */
const PREFIX = `tdb${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}_`;
const BUDGET = 8;

afterAll(async () => {
  const rows = await serverQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [PREFIX]);
  for (const { datname } of rows) await serverQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
}, 120_000);

describe("strategy: 'database' under its connection budget", () => {
  // Five times the budget: enough for every connection to change database many times over.
  const COUNT = 40;
  let tenancy: Tenancy;

  beforeAll(async () => {
    tenancy = createTenancy({
      pool: db.pool,
      strategy: 'database',
      schemaPrefix: PREFIX,
      databases: { maxConnections: BUDGET },
      migrations: { tenant: [{ name: '001_products', checksum: '1', up: (client) => client.query('CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL)') }] },
    });
    await tenancy.migrate.shared();
    const ids = Array.from({ length: COUNT }, (_, index) => `t${index}`);
    for (let start = 0; start < ids.length; start += 8) {
      await Promise.all(ids.slice(start, start + 8).map((id) => tenancy.registry.create({ id })));
    }
    return () => tenancy.close();
  }, 120_000);

  it('serves random-tenant traffic above the budget without an error and without more backends than the budget', async () => {
    const scoped = tenantPool(tenancy, db.pool);
    const random = seededRandom(17);
    const sampler = new pg.Client({ connectionString: serverUrl() });
    await sampler.connect();
    let highest = 0;
    let sampling = true;
    const sampled = (async () => {
      while (sampling) {
        const { rows } = await sampler.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(datname, $1)', [PREFIX]);
        highest = Math.max(highest, rows[0]!.n);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const errors: unknown[] = [];
    const wrong: string[] = [];
    let done = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 12; i += 1) {
        const id = `t${Math.floor(random() * COUNT)}`;
        try {
          const { rows } = await tenancy.run(id, () => scoped.query<{ db: string }>('SELECT current_database() AS db, count(*) FROM products'));
          if (rows[0]?.db !== `${PREFIX}${id}`) wrong.push(`${id} ran in ${rows[0]?.db}`);
          done += 1;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: BUDGET * 3 }, worker));
    sampling = false;
    await sampled;
    await sampler.end();
    expect(errors).toEqual([]);
    expect(wrong).toEqual([]);
    expect(done).toBe(BUDGET * 3 * 12);
    expect(highest).toBeGreaterThan(0);
    expect(highest).toBeLessThanOrEqual(BUDGET);
  }, 60_000);
});

