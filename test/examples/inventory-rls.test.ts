import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { startExpress } from '../../examples/inventory/http/express.js';
import { inventoryApiSuite } from './inventory-api-suite.js';
import { useInventory } from './inventory-fixture.js';

// The demo's API flows on the row-level strategy (`npm run demo -- --strategy rls`).
inventoryApiSuite('express', startExpress, { strategy: 'rls' });

describe('the inventory app on the row-level strategy', () => {
  const fixture = useInventory({ strategy: 'rls' });

  it('passes the start-up check the demo runs: its login role is subject to row-level security, every table has its policy', async () => {
    const { warnings } = await fixture.inventory.tenancy.check();
    expect(warnings.filter((warning) => /polic|row-level|tenant_id|index/i.test(warning))).toEqual([]);
    const login = await fixture.inventory.tenancy.runShared(() => fixture.inventory.db.selectFrom('plans').select(sql<boolean>`current_setting('is_superuser') = 'on'`.as('superuser')).executeTakeFirstOrThrow());
    expect(login.superuser).toBe(false);
  });

  it("keeps each business's rows in the shared tables under its id, and shows it only those", async () => {
    const owners = await fixture.pool.query<{ tenant_id: string; n: number }>('SELECT tenant_id, count(*)::int AS n FROM products GROUP BY 1 ORDER BY 1');
    expect(owners.rows.map((row) => row.tenant_id)).toEqual(['acme', 'globex']);
    const seen = await fixture.inventory.tenancy.run('acme', () => fixture.inventory.db.selectFrom('products').select(sql<string>`tenant_id`.as('tenant')).execute());
    expect(new Set(seen.map((row) => row.tenant))).toEqual(new Set(['acme']));
    expect(seen).toHaveLength(owners.rows.find((row) => row.tenant_id === 'acme')!.n);
  });
});
