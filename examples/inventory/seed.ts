/**
 * The demo's two businesses, Acme and Globex, each with a user, categories, products and some
 * stock movements. Seeding goes through the same domain functions as the app.
 *
 * @module
 */
import { createBusiness } from './domain/businesses.js';
import { createCategory } from './domain/categories.js';
import { createProduct } from './domain/products.js';
import { recordMovement } from './domain/stock.js';
import { inviteCode } from './domain/users.js';
import type { Inventory } from './inventory.js';

/** A demo business and what it starts with. */
export interface DemoBusiness {
  readonly id: string;
  readonly name: string;
  readonly plan: 'free' | 'pro';
  readonly owner: { readonly name: string; readonly email: string; readonly password: string };
  readonly categories: readonly string[];
  readonly products: readonly {
    readonly sku: string;
    readonly name: string;
    readonly priceCents: number;
    readonly category: string;
    readonly lowStockThreshold: number;
    /** Movements in order: positive `in`, negative `out`. */
    readonly moves: readonly number[];
  }[];
}

export const DEMO_BUSINESSES: readonly DemoBusiness[] = [
  {
    id: 'acme',
    name: 'Acme Tools',
    plan: 'pro',
    owner: { name: 'Wile E. Coyote', email: 'owner@acme.test', password: 'acme-demo-password' },
    categories: ['Tools', 'Transport', 'Bird seed'],
    products: [
      { sku: 'ACME-ANVIL', name: 'Anvil', priceCents: 4900, category: 'Tools', lowStockThreshold: 5, moves: [12] },
      { sku: 'ACME-MAGNET', name: 'Giant magnet', priceCents: 8950, category: 'Tools', lowStockThreshold: 5, moves: [6, -2] },
      { sku: 'ACME-SKATES', name: 'Rocket skates', priceCents: 19900, category: 'Transport', lowStockThreshold: 2, moves: [3, -1] },
      { sku: 'ACME-SEED', name: 'Bird seed, 10 kg', priceCents: 1299, category: 'Bird seed', lowStockThreshold: 10, moves: [40, -25, -15] },
    ],
  },
  {
    id: 'globex',
    name: 'Globex Supplies',
    plan: 'free',
    owner: { name: 'Hank Scorpio', email: 'owner@globex.test', password: 'globex-demo-password' },
    categories: ['Widgets', 'Parts'],
    products: [
      { sku: 'GLX-WIDGET', name: 'Widget', priceCents: 250, category: 'Widgets', lowStockThreshold: 50, moves: [400] },
      { sku: 'GLX-SPROCKET', name: 'Sprocket', priceCents: 110, category: 'Parts', lowStockThreshold: 100, moves: [1200, -300] },
      { sku: 'GLX-GADGET', name: 'Gadget', priceCents: 2400, category: 'Widgets', lowStockThreshold: 10, moves: [7] },
    ],
  },
];

/** A seeded business, for printing. */
export interface SeededBusiness {
  readonly business: DemoBusiness;
  /** false when it existed already (a `--persist` run). */
  readonly created: boolean;
  readonly inviteCode: string | undefined;
}

/**
 * Creates the demo businesses that do not exist yet.
 *
 * @example
 * ```ts
 * for (const { business, inviteCode } of await seedDemo(inventory)) console.log(business.id, inviteCode);
 * ```
 */
export async function seedDemo(inventory: Inventory, businesses: readonly DemoBusiness[] = DEMO_BUSINESSES): Promise<SeededBusiness[]> {
  const { tenancy } = inventory;
  const seeded: SeededBusiness[] = [];
  for (const business of businesses) {
    const created = (await tenancy.registry.get(business.id)) === undefined;
    if (created) {
      const { owner } = business;
      await tenancy.runShared(() =>
        createBusiness(inventory, { id: business.id, name: business.name, plan: business.plan, ownerName: owner.name, email: owner.email, password: owner.password }),
      );
      await tenancy.run(business.id, async () => {
        const categories = new Map<string, number>();
        for (const name of business.categories) categories.set(name, (await createCategory(inventory, { name })).id);
        for (const product of business.products) {
          const { id } = await createProduct(inventory, {
            sku: product.sku,
            name: product.name,
            unitPriceCents: product.priceCents,
            categoryId: categories.get(product.category) ?? null,
            lowStockThreshold: product.lowStockThreshold,
          });
          for (const [index, move] of product.moves.entries()) {
            const note = index === 0 ? 'opening stock' : move < 0 ? `order ${1000 + index}` : 'delivery';
            await recordMovement(inventory, id, { kind: move < 0 ? 'out' : 'in', quantity: Math.abs(move), note });
          }
        }
      });
    }
    seeded.push({ business, created, inviteCode: await tenancy.run(business.id, () => inviteCode(inventory)) });
  }
  return seeded;
}
