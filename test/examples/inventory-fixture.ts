import pg from 'pg';
import { grantAppLogin, loginUrl, newAppLogin } from '../../examples/inventory/app-login.js';
import { afterAll, beforeAll } from 'vitest';
import { createInventory, type Inventory } from '../../examples/inventory/inventory.js';
import { DEMO_BUSINESSES, type DemoBusiness, seedDemo } from '../../examples/inventory/seed.js';
import { useTestDatabase } from '../helpers/database.js';

/** The demo businesses, by id. */
export const ACME: DemoBusiness = DEMO_BUSINESSES.find((business) => business.id === 'acme')!;
export const GLOBEX: DemoBusiness = DEMO_BUSINESSES.find((business) => business.id === 'globex')!;

/** The inventory app on this file's own database, migrated and seeded like the demo. */
export interface InventoryFixture {
  readonly inventory: Inventory;
  /** The file's database pool (plain pg, not scoped). */
  readonly pool: pg.Pool;
  /** Every error the app answered with a 500 (each test file expects none). */
  readonly unexpected: unknown[];
  /** The invite codes of the seeded businesses. */
  readonly inviteCodes: ReadonlyMap<string, string>;
}

/** A test file's database, as `useTestDatabase()` (or the Citus suite's `useCitusDatabase()`) gives it. */
export type UseDatabase = () => { readonly pool: pg.Pool; readonly url: string; readonly rolePrefix: string; readonly roleLogin?: boolean };

/**
 * Gives a test file the inventory app on a fresh database, closed after the file. Read it inside
 * tests or hooks. With `jobs`, the low-stock digest's queue runs too (pg-boss, polling twice a second).
 * `database` makes the file's database (default: one on the test server). With `strategy: 'rls'`
 * the app runs as the demo does with `--strategy rls`: shared tables under row-level security,
 * its pool on a plain login role, migrations and registry writes on the file's (owner's) pool.
 */
export function useInventory(options: { jobs?: boolean; database?: UseDatabase; strategy?: 'schema' | 'rls' } = {}): InventoryFixture {
  const database: ReturnType<UseDatabase> = (options.database ?? useTestDatabase)();
  const fixture = { unexpected: [] as unknown[], inviteCodes: new Map<string, string>() } as {
    inventory: Inventory;
    pool: pg.Pool;
    unexpected: unknown[];
    inviteCodes: Map<string, string>;
  };
  const login = options.strategy === 'rls' ? newAppLogin(database.rolePrefix) : undefined;
  let appPool: pg.Pool | undefined;
  beforeAll(async () => {
    fixture.pool = database.pool;
    if (login !== undefined) appPool = new pg.Pool({ connectionString: loginUrl(database.url, login), max: 10 });
    fixture.inventory = createInventory(appPool ?? database.pool, {
      rolePrefix: database.rolePrefix,
      roleLogin: database.roleLogin ?? false,
      logError: (error) => fixture.unexpected.push(error),
      ...(appPool === undefined ? {} : { strategy: 'rls' as const, admin: database.pool }),
    });
    await fixture.inventory.admin.migrate.shared();
    if (login !== undefined) await grantAppLogin(database.pool, login, fixture.inventory.tenancy.tenantRoles!.loginGroup);
    for (const seeded of await seedDemo(fixture.inventory)) fixture.inviteCodes.set(seeded.business.id, seeded.inviteCode!);
    if (options.jobs === true) await fixture.inventory.jobs.start({ connectionString: database.url, pollingIntervalSeconds: 0.5 });
  });
  afterAll(async () => {
    await fixture.inventory?.close();
    await appPool?.end();
  });
  return fixture;
}
