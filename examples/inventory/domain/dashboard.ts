/**
 * The dashboard of the active business: what the stock is worth, what runs low, what moved.
 *
 * @module
 */
import { sql } from 'kysely';
import type { Inventory } from '../inventory.js';
import { lastLowStockDigest, type LowStockDigest } from './low-stock-digests.js';
import { listProducts, type Product } from './products.js';
import { listMovements, type Movement } from './stock.js';

/** The dashboard's figures. */
export interface Dashboard {
  readonly productCount: number;
  readonly unitsInStock: number;
  /** Σ stock × unit price, in cents. */
  readonly stockValueCents: number;
  /** Products at or below their low-stock threshold, emptiest first. */
  readonly lowStock: readonly Product[];
  /** The latest ten movements. */
  readonly recentMovements: readonly Movement[];
  /** The newest low-stock digest (`null` before the first). */
  readonly lastDigest: LowStockDigest | null;
}

/**
 * Reads the dashboard of the active business.
 *
 * @example
 * ```ts
 * const { stockValueCents } = await tenancy.run('acme', () => dashboard(inventory));
 * ```
 */
export async function dashboard(inventory: Inventory): Promise<Dashboard> {
  const [totals, lowStock, recentMovements, lastDigest] = await Promise.all([
    inventory.db
      .selectFrom('products')
      .select([
        sql<string>`count(*)`.as('product_count'),
        // bigint arithmetic: an integer stock times an integer price can pass 2^31.
        sql<string>`coalesce(sum(stock), 0)`.as('units'),
        sql<string>`coalesce(sum(stock::bigint * unit_price_cents), 0)`.as('value_cents'),
      ])
      .executeTakeFirstOrThrow(),
    listProducts(inventory, { lowStock: true }),
    listMovements(inventory, { limit: 10 }),
    lastLowStockDigest(inventory),
  ]);
  return {
    productCount: Number(totals.product_count),
    unitsInStock: Number(totals.units),
    stockValueCents: Number(totals.value_cents),
    lowStock: [...lowStock].sort((a, b) => a.stock - b.stock || a.sku.localeCompare(b.sku)),
    recentMovements,
    lastDigest: lastDigest ?? null,
  };
}
