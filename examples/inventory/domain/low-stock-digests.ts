/**
 * The low-stock digest of the active business: which products are at or below their low-stock
 * threshold, written down by the daily job (jobs/low-stock-digest-jobs.ts) so the dashboard can
 * show when it last ran and what it found.
 *
 * @module
 */
import type { Inventory } from '../inventory.js';
import { listProducts } from './products.js';

/** A product as a digest lists it. */
export interface DigestItem {
  readonly sku: string;
  readonly name: string;
  readonly stock: number;
  readonly lowStockThreshold: number;
}

/** A digest: when it ran and the products that were low, emptiest first. */
export interface LowStockDigest {
  readonly id: number;
  readonly createdAt: Date;
  readonly itemCount: number;
  readonly items: readonly DigestItem[];
}

/**
 * Works out the active business's low-stock products and records them as its newest digest.
 *
 * @example
 * ```ts
 * const digest = await tenancy.run('acme', () => recordLowStockDigest(inventory)); // { itemCount: 3, items: [...] }
 * ```
 */
export async function recordLowStockDigest(inventory: Inventory): Promise<LowStockDigest> {
  const low = await listProducts(inventory, { lowStock: true });
  const items: DigestItem[] = low
    .sort((a, b) => a.stock - b.stock || a.sku.localeCompare(b.sku))
    .map((product) => ({ sku: product.sku, name: product.name, stock: product.stock, lowStockThreshold: product.lowStockThreshold }));
  const row = await inventory.db
    .insertInto('low_stock_digests')
    .values({ item_count: items.length, items: JSON.stringify(items) })
    .returning(['id', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, createdAt: row.created_at, itemCount: items.length, items };
}

/**
 * The active business's newest digest, or `undefined` when none has run yet.
 *
 * @example
 * ```ts
 * const last = await tenancy.run('acme', () => lastLowStockDigest(inventory));
 * ```
 */
export async function lastLowStockDigest(inventory: Inventory): Promise<LowStockDigest | undefined> {
  const row = await inventory.db
    .selectFrom('low_stock_digests')
    .select(['id', 'created_at', 'item_count', 'items'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { id: row.id, createdAt: row.created_at, itemCount: row.item_count, items: row.items as DigestItem[] };
}
