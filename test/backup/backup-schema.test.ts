import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { sourceOf } from './backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

const ROWS = 40_000;

describe('backup consistency', () => {
  it('copies every table from one instant while a writer moves rows between them', { timeout: 60_000 }, async () => {
    const names = uniqueNames('bkc');
    const tenancy = createTenancy({
      pool: db.pool,
      ...names,
      migrations: {
        tenant: [
          {
            name: '001_sides',
            checksum: '1',
            up: (client) =>
              client.query(`CREATE TABLE left_side (id serial PRIMARY KEY, amount int NOT NULL);
                            CREATE TABLE right_side (id serial PRIMARY KEY, amount int NOT NULL);
                            INSERT INTO left_side (amount) SELECT i % 100 FROM generate_series(1, ${ROWS}) AS i;`),
          },
        ],
      },
    });
    await tenancy.migrate.shared();
    const tenant = await tenancy.registry.create({ id: 'ledger' });
    const { rows: total } = await db.pool.query<{ sum: number }>(`SELECT sum(amount)::int AS sum FROM "${tenant.schema}".left_side`);

    // The writer moves rows from left to right in transactions: the sum and the count over both
    // tables never change at any committed instant; a copy of each table at another instant sees
    // moved rows twice or not at all.
    let moves = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const [from, to] = ['left_side', 'right_side'];
        await db.pool.query(
          `WITH moved AS (DELETE FROM "${tenant.schema}".${from} WHERE id IN (SELECT id FROM "${tenant.schema}".${from} ORDER BY id LIMIT 20) RETURNING amount)
           INSERT INTO "${tenant.schema}".${to} (amount) SELECT amount FROM moved`,
        );
        moves += 1;
      }
    })();

    // A slow destination: the backup takes a while, and the writer keeps committing meanwhile.
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        setTimeout(callback, 2);
      },
    });
    await sleep(50);
    let movesAfterFirstTable = -1;
    const movesAtStart = moves;
    const summary = await tenancy.backup('ledger', slow, {
      compression: 0,
      onProgress: (p) => {
        if (p.tableDone && p.tableIndex === 0) movesAfterFirstTable = moves;
      },
    });
    writing = false;
    await writer;
    // Rows moved after the backup began and before its second table was read.
    expect(movesAfterFirstTable).toBeGreaterThan(movesAtStart);

    expect(summary.tables.reduce((sum, table) => sum + table.rows, 0)).toBe(ROWS);
    const copy = await tenancy.restore(sourceOf(Buffer.concat(chunks), 64 * 1024), { id: 'ledger-copy' });
    const { rows } = await db.pool.query<{ n: number; sum: number }>(
      `SELECT (SELECT count(*) FROM "${copy.tenant.schema}".left_side) + (SELECT count(*) FROM "${copy.tenant.schema}".right_side) AS n,
              (SELECT coalesce(sum(amount), 0) FROM "${copy.tenant.schema}".left_side) + (SELECT coalesce(sum(amount), 0) FROM "${copy.tenant.schema}".right_side) AS sum`,
    );
    expect(rows).toEqual([{ n: String(ROWS), sum: String(total[0]!.sum) }]);
  });
});
