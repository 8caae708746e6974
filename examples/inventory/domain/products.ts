/**
 * Products of the active business: list and search, create, edit, delete. Stock is not edited
 * here: it changes only through stock movements (see stock.ts).
 *
 * @module
 */
import type { Db } from '../database.js';
import type { Inventory } from '../inventory.js';
import { currentPlan } from './businesses.js';
import { conflict, InventoryError, invalidInput, notFound, pgError, SQLSTATE } from './errors.js';
import { type Role, requireOwner } from './roles.js';
import { Fields, objectBody, parseId, queryValue } from './validate.js';

/** A product as the app shows it. */
export interface Product {
  readonly id: number;
  readonly sku: string;
  readonly name: string;
  readonly categoryId: number | null;
  readonly categoryName: string | null;
  readonly unitPriceCents: number;
  readonly stock: number;
  readonly lowStockThreshold: number;
  /** stock × unit price. */
  readonly valueCents: number;
  /** stock ≤ the low-stock threshold. */
  readonly lowStock: boolean;
}

/** Which products to list. */
export interface ProductFilter {
  /** Part of the SKU or the name, any case. */
  readonly q?: string;
  readonly categoryId?: number;
  /** Only products at or below their low-stock threshold. */
  readonly lowStock?: boolean;
}

/** SKUs: letters, digits, `.`, `_`, `-`, starting with a letter or digit; stored in upper case. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The highest unit price: 1,000,000.00. */
export const MAX_PRICE_CENTS = 100_000_000;
/** The highest low-stock threshold. */
export const MAX_THRESHOLD = 1_000_000;

const PRODUCT_FIELDS = ['sku', 'name', 'unitPriceCents', 'categoryId', 'lowStockThreshold'] as const;

/**
 * Reads `?q=&categoryId=&lowStock=` (bad values are a 400).
 *
 * @example
 * ```ts
 * parseProductFilter({ q: 'anvil', lowStock: 'true' }); // { q: 'anvil', lowStock: true }
 * ```
 */
export function parseProductFilter(query: Readonly<Record<string, unknown>>): ProductFilter {
  const q = queryValue(query, 'q')?.trim();
  const category = queryValue(query, 'categoryId');
  const lowStock = queryValue(query, 'lowStock');
  if (q !== undefined && q.length > 100) throw invalidInput({ q: 'must be at most 100 characters' });
  if (lowStock !== undefined && !['true', 'false', ''].includes(lowStock)) throw invalidInput({ lowStock: 'must be true or false' });
  return {
    ...(q ? { q } : {}),
    ...(category ? { categoryId: parseId(category, 'categoryId') } : {}),
    ...(lowStock === 'true' ? { lowStock: true } : {}),
  };
}

/**
 * The products matching a filter, by SKU.
 *
 * @example
 * ```ts
 * await tenancy.run('acme', () => listProducts(inventory, { q: 'anvil' }));
 * // select … from "tenant_acme"."products" left join "tenant_acme"."categories" … where (sku ilike $1 or name ilike $2)
 * ```
 */
export async function listProducts(inventory: Inventory, filter: ProductFilter = {}): Promise<Product[]> {
  const rows = await filteredProducts(inventory.db, filter).orderBy('products.sku').execute();
  return rows.map(toProduct);
}

/** A page of a product list: `limit` products after the SKU `after` (keyset pagination). */
export interface ProductPageQuery {
  readonly limit: number;
  /** The last SKU of the previous page (the `next` of its answer); none for the first page. */
  readonly after?: string;
}

/** Products per page when `?limit=` is not given, and the most one page can hold. */
export const PRODUCT_PAGE = { defaultLimit: 100, maxLimit: 500 } as const;

/**
 * Reads `?limit=&after=` (bad values are a 400).
 *
 * @example
 * ```ts
 * parseProductPage({ limit: '50', after: 'ACME-ANVIL' }); // { limit: 50, after: 'ACME-ANVIL' }
 * ```
 */
export function parseProductPage(query: Readonly<Record<string, unknown>>): ProductPageQuery {
  const limit = queryValue(query, 'limit')?.trim();
  const after = queryValue(query, 'after')?.trim();
  if (limit !== undefined && limit !== '' && !(/^[0-9]{1,4}$/.test(limit) && Number(limit) >= 1 && Number(limit) <= PRODUCT_PAGE.maxLimit)) {
    throw invalidInput({ limit: `must be a whole number from 1 to ${PRODUCT_PAGE.maxLimit}` });
  }
  if (after !== undefined && after !== '' && (after.length > 40 || !SKU_PATTERN.test(after))) throw invalidInput({ after: 'must be a SKU (the `next` of the previous page)' });
  return { limit: limit ? Number(limit) : PRODUCT_PAGE.defaultLimit, ...(after ? { after: after.toUpperCase() } : {}) };
}

/**
 * One page of the products matching a filter, by SKU, and `next`: the SKU to pass as `after`
 * for the following page (`null` on the last one). Keyset pagination: each page is one index
 * range scan of the SKUs, however deep it is, and a product added or deleted meanwhile does not
 * shift the pages.
 *
 * @example
 * ```ts
 * const first = await listProductPage(inventory, {}, { limit: 50 });
 * const second = await listProductPage(inventory, {}, { limit: 50, after: first.next! });
 * // … where "products"."sku" > $1 order by "products"."sku" limit $2
 * ```
 */
export async function listProductPage(inventory: Inventory, filter: ProductFilter, page: ProductPageQuery): Promise<{ products: Product[]; next: string | null }> {
  let query = filteredProducts(inventory.db, filter);
  if (page.after !== undefined) query = query.where('products.sku', '>', page.after);
  // One more than the page: whether there is a next page, without counting.
  const rows = await query.orderBy('products.sku').limit(page.limit + 1).execute();
  const products = rows.slice(0, page.limit).map(toProduct);
  return { products, next: rows.length > page.limit ? products.at(-1)!.sku : null };
}

function filteredProducts(db: Db, filter: ProductFilter) {
  let query = selectProducts(db);
  if (filter.q !== undefined) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, '\\$&')}%`;
    query = query.where((eb) => eb.or([eb('products.sku', 'ilike', pattern), eb('products.name', 'ilike', pattern)]));
  }
  if (filter.categoryId !== undefined) query = query.where('products.category_id', '=', filter.categoryId);
  if (filter.lowStock === true) query = query.whereRef('products.stock', '<=', 'products.low_stock_threshold');
  return query;
}

/** One product; 404 when the business has none with that id. */
export async function getProduct(inventory: Inventory, id: number): Promise<Product> {
  const row = await selectProducts(inventory.db).where('products.id', '=', id).executeTakeFirst();
  if (row === undefined) throw notFound('product', id);
  return toProduct(row);
}

/**
 * Creates a product: `{ sku, name, unitPriceCents, categoryId?, lowStockThreshold? }`, with no
 * stock (record an `in` movement for that). The SKU is unique within the business (409), and
 * the business's plan caps how many products it may have.
 *
 * @example
 * ```ts
 * await createProduct(inventory, { sku: 'ACME-ANVIL', name: 'Anvil', unitPriceCents: 4900 });
 * ```
 */
export async function createProduct(inventory: Inventory, body: unknown): Promise<Product> {
  const fields = new Fields(objectBody(body, PRODUCT_FIELDS));
  const values = readProductValues(fields);
  fields.done();
  const plan = await currentPlan(inventory);
  const id = await writeProduct(
    inventory.db.transaction().execute(async (trx) => {
      // Lock the business's settings row so that two concurrent creations cannot both pass the limit.
      await trx.selectFrom('settings').select('id').forUpdate().execute();
      const { count } = await trx.selectFrom('products').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
      if (Number(count) >= plan.maxProducts) {
        throw new InventoryError(403, 'plan_limit_reached', `The ${plan.name} plan holds at most ${plan.maxProducts} products`);
      }
      const row = await trx.insertInto('products').values(values).returning('id').executeTakeFirstOrThrow();
      return row.id;
    }),
    values.sku,
  );
  return getProduct(inventory, id);
}

/**
 * Changes some fields of a product (the same fields as {@link createProduct}); 404 when it
 * does not exist. `stock` is refused: it changes through stock movements only.
 *
 * @example
 * ```ts
 * await updateProduct(inventory, 7, { unitPriceCents: 5200 });
 * ```
 */
export async function updateProduct(inventory: Inventory, id: number, body: unknown): Promise<Product> {
  const input = objectBody(body, [...PRODUCT_FIELDS, 'stock']);
  const fields = new Fields(input);
  if (fields.has('stock')) fields.issue('stock', 'changes only through stock movements (POST /api/products/:id/movements)');
  const changes = {
    ...(fields.has('sku') ? { sku: readSku(fields) } : {}),
    ...(fields.has('name') ? { name: fields.text('name', { max: 120 }) } : {}),
    ...(fields.has('unitPriceCents') ? { unit_price_cents: fields.integer('unitPriceCents', { min: 0, max: MAX_PRICE_CENTS }) } : {}),
    // `categoryId: null` removes the category, so look at the key, not the value.
    ...(Object.hasOwn(input, 'categoryId') ? { category_id: fields.optionalId('categoryId') } : {}),
    ...(fields.has('lowStockThreshold') ? { low_stock_threshold: fields.integer('lowStockThreshold', { min: 0, max: MAX_THRESHOLD }) } : {}),
  };
  fields.done();
  if (Object.keys(changes).length === 0) throw invalidInput({}, `Nothing to change: send at least one of ${PRODUCT_FIELDS.join(', ')}`);
  const updated = await writeProduct(
    inventory.db.updateTable('products').set(changes).where('id', '=', id).returning('id').executeTakeFirst(),
    changes.sku,
  );
  if (updated === undefined) throw notFound('product', id);
  return getProduct(inventory, id);
}

/**
 * The columns of a new product from the fields of {@link createProduct} (and of a CSV line):
 * placeholders where a field is invalid, so call `fields.done()` before using them.
 *
 * @example
 * ```ts
 * const fields = new Fields({ sku: 'acme-anvil', name: 'Anvil', unitPriceCents: 4900 });
 * const values = readProductValues(fields); // { sku: 'ACME-ANVIL', name: 'Anvil', unit_price_cents: 4900, category_id: null }
 * fields.done();
 * ```
 */
export function readProductValues(fields: Fields) {
  return {
    sku: readSku(fields),
    name: fields.text('name', { max: 120 }),
    unit_price_cents: fields.integer('unitPriceCents', { min: 0, max: MAX_PRICE_CENTS }),
    category_id: fields.optionalId('categoryId'),
    ...(fields.has('lowStockThreshold') ? { low_stock_threshold: fields.integer('lowStockThreshold', { min: 0, max: MAX_THRESHOLD }) } : {}),
  };
}

/**
 * An amount typed in dollars (`12.50`, `$1,299.5`) in cents, or `undefined` when it is not one.
 *
 * @example
 * ```ts
 * parsePriceCents('1,299.50'); // 129950
 * parsePriceCents('cheap');    // undefined
 * ```
 */
export function parsePriceCents(text: string): number | undefined {
  const price = text.trim().replace(/^\$/, '').replaceAll(',', '');
  if (!/^[0-9]{1,7}(?:\.[0-9]{1,2})?$/.test(price)) return undefined;
  const [whole, fraction = ''] = price.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** Deletes a product and its stock movements (owners only: 403 for staff); 404 when it does not exist. */
export async function deleteProduct(inventory: Inventory, actor: { readonly role: Role }, id: number): Promise<void> {
  requireOwner(actor, 'delete products');
  const result = await inventory.db.deleteFrom('products').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('product', id);
}

/** The product query every read shares: products with their category's name. */
function selectProducts(db: Db) {
  return db
    .selectFrom('products')
    .leftJoin('categories', 'categories.id', 'products.category_id')
    .select([
      'products.id',
      'products.sku',
      'products.name',
      'products.category_id',
      'categories.name as category_name',
      'products.unit_price_cents',
      'products.stock',
      'products.low_stock_threshold',
    ]);
}

type ProductRow = Awaited<ReturnType<ReturnType<typeof selectProducts>['executeTakeFirstOrThrow']>>;

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    categoryId: row.category_id,
    categoryName: row.category_name,
    unitPriceCents: row.unit_price_cents,
    stock: row.stock,
    lowStockThreshold: row.low_stock_threshold,
    valueCents: row.stock * row.unit_price_cents,
    lowStock: row.stock <= row.low_stock_threshold,
  };
}

function readSku(fields: Fields): string {
  return fields.text('sku', { max: 40, pattern: SKU_PATTERN, patternHint: 'letters, digits, ".", "_" and "-"' }).toUpperCase();
}

/**
 * Awaits a write of products, turning a taken SKU (409) and an unknown category (400) into their
 * errors. By SQLSTATE alone: the SKU is the only unique key a write sets, the category the only
 * reference it has.
 */
async function writeProduct<T>(write: Promise<T>, sku: string | undefined): Promise<T> {
  try {
    return await write;
  } catch (error) {
    const pg = pgError(error);
    if (pg?.code === SQLSTATE.uniqueViolation) {
      throw conflict('sku_taken', `This business already has a product with SKU ${JSON.stringify(sku)}`, { sku: 'is taken' });
    }
    if (pg?.code === SQLSTATE.foreignKeyViolation) {
      throw invalidInput({ categoryId: 'is not a category of this business' });
    }
    throw error;
  }
}
