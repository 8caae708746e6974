/**
 * The Kysely wiring of the README, docs/kysely.md, docs/tutorial.md and the inventory example,
 * written without a cast: `npm run typecheck` compiles it, so a change to tenantPool's types that
 * would make users cast again fails here. Nothing connects; the wiring is only type-checked.
 */
import { createRequire } from 'node:module';
import { type Generated, Kysely, PostgresDialect, type PostgresCursorConstructor, type PostgresPool } from 'kysely';
import pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { createTenancy } from '../../src/index.js';
import { tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';

interface Database {
  products: { id: Generated<number>; name: string };
  plans: { id: string };
}

/** The README's wiring, word for word (the pool and the tenancy as the README makes them). */
function readmeWiring(): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const tenancy = createTenancy({ pool });
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: tenantPool(tenancy, pool) }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
  });
  return kysely;
}

/** docs/kysely.md's wiring, with a cursor for `.stream()`: still no cast of the pool. */
function wiringWithCursor(): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const tenancy = createTenancy({ pool, migrations: { tenant: './migrations/tenant' } });
  return new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: tenantPool(tenancy, pool),
      cursor: createRequire(import.meta.url)('pg-cursor') as PostgresCursorConstructor,
    }),
    plugins: [tenantPlugin(tenancy, { sharedTables: ['plans'] })],
  });
}

/** Kysely also accepts a function that returns the pool. */
function lazyWiring(): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const tenancy = createTenancy({ pool });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: async () => tenantPool(tenancy, pool) }) });
}

describe('Kysely over tenantPool, without a cast', () => {
  it('tenantPool is a PostgresPool to TypeScript', () => {
    expectTypeOf<ReturnType<typeof tenantPool>>().toExtend<PostgresPool>();
  });

  it('compiles the documented wirings', () => {
    expectTypeOf(readmeWiring).returns.toEqualTypeOf<Kysely<Database>>();
    expectTypeOf(wiringWithCursor).returns.toEqualTypeOf<Kysely<Database>>();
    expectTypeOf(lazyWiring).returns.toEqualTypeOf<Kysely<Database>>();
  });
});
