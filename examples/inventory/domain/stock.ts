/**
 * Stock movements: goods in, goods out, and adjustments after a count. The database keeps
 * stock right on its own (a trigger applies each movement to the product, `CHECK (stock >= 0)`
 * refuses to go below zero); this module turns its refusals into clear 4xx answers.
 *
 * @module
 */
import type { Inventory } from '../inventory.js';
import { INSUFFICIENT_STOCK_HINT, InventoryError, invalidInput, notFound, pgError, SQLSTATE } from './errors.js';
import { Fields, objectBody, parseId, queryValue } from './validate.js';

/** What a movement does: `in` adds, `out` takes away, `adjustment` corrects by a signed amount. */
export type MovementKind = 'in' | 'out' | 'adjustment';
export const MOVEMENT_KINDS: readonly MovementKind[] = ['in', 'out', 'adjustment'];

/** A stock movement, with its product's SKU and name. */
export interface Movement {
  readonly id: number;
  readonly productId: number;
  readonly sku: string;
  readonly productName: string;
  readonly kind: MovementKind;
  /** Positive for `in` and `out`; signed for `adjustment`. */
  readonly quantity: number;
  readonly note: string | null;
  readonly createdAt: Date;
}

/** The most one movement may move. */
export const MAX_QUANTITY = 1_000_000;

/**
 * Records a movement of a product: `{ kind, quantity, note? }`. Unknown product: 404. Taking out
 * more than is in stock: 400 `insufficient_stock`, and nothing changes.
 *
 * @example
 * ```ts
 * await recordMovement(inventory, 7, { kind: 'out', quantity: 2, note: 'order 1042' }); // { movement, stock: 10 }
 * ```
 */
export async function recordMovement(inventory: Inventory, productId: number, body: unknown): Promise<{ movement: Movement; stock: number }> {
  const fields = new Fields(objectBody(body, ['kind', 'quantity', 'note']));
  const kind = fields.oneOf('kind', MOVEMENT_KINDS);
  const quantity = fields.integer('quantity', kind === 'adjustment' ? { min: -MAX_QUANTITY, max: MAX_QUANTITY } : { min: 1, max: MAX_QUANTITY });
  if (kind === 'adjustment' && quantity === 0) fields.issue('quantity', 'must not be 0 for an adjustment');
  const note = fields.optionalText('note', { max: 200 });
  fields.done();

  return inventory.db.transaction().execute(async (trx) => {
    // Lock the product: its stock (for the message below) cannot change until we commit.
    const product = await trx.selectFrom('products').select(['id', 'sku', 'name', 'stock']).where('id', '=', productId).forUpdate().executeTakeFirst();
    if (product === undefined) throw notFound('product', productId);
    let inserted: { id: number; created_at: Date };
    try {
      inserted = await trx
        .insertInto('stock_movements')
        .values({ product_id: productId, kind, quantity, note })
        .returning(['id', 'created_at'])
        .executeTakeFirstOrThrow();
    } catch (error) {
      const pg = pgError(error);
      if (pg?.code === SQLSTATE.checkViolation && pg.hint === INSUFFICIENT_STOCK_HINT) {
        throw new InventoryError(400, 'insufficient_stock', `Only ${product.stock} of ${product.sku} in stock: cannot take ${Math.abs(quantity)} out`, {
          issues: { quantity: `must be at most ${product.stock}` },
        });
      }
      if (pg?.code === SQLSTATE.numericOutOfRange) throw invalidInput({ quantity: 'would take the stock past the largest number it can hold' });
      throw error;
    }
    const { stock } = await trx.selectFrom('products').select('stock').where('id', '=', productId).executeTakeFirstOrThrow();
    const movement: Movement = {
      id: inserted.id,
      productId,
      sku: product.sku,
      productName: product.name,
      kind,
      quantity,
      note,
      createdAt: inserted.created_at,
    };
    return { movement, stock };
  });
}

/**
 * Reads `?limit=&productId=` for {@link listMovements} (bad values are a 400).
 *
 * @example
 * ```ts
 * parseMovementQuery({ limit: '5' }); // { limit: 5 }
 * ```
 */
export function parseMovementQuery(query: Readonly<Record<string, unknown>>): { limit: number; productId?: number } {
  const limitText = queryValue(query, 'limit');
  const productText = queryValue(query, 'productId');
  let limit = 20;
  if (limitText !== undefined && limitText !== '') {
    if (!/^[0-9]{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 200) throw invalidInput({ limit: 'must be a whole number from 1 to 200' });
    limit = Number(limitText);
  }
  return productText ? { limit, productId: parseId(productText, 'productId') } : { limit };
}

/**
 * The latest movements, newest first; of one product when `productId` is given (404 when that
 * product does not exist).
 *
 * @example
 * ```ts
 * await listMovements(inventory, { limit: 10 });
 * ```
 */
export async function listMovements(inventory: Inventory, options: { limit?: number; productId?: number } = {}): Promise<Movement[]> {
  let query = inventory.db
    .selectFrom('stock_movements')
    .innerJoin('products', 'products.id', 'stock_movements.product_id')
    .select([
      'stock_movements.id',
      'stock_movements.product_id',
      'products.sku',
      'products.name',
      'stock_movements.kind',
      'stock_movements.quantity',
      'stock_movements.note',
      'stock_movements.created_at',
    ]);
  if (options.productId !== undefined) {
    const exists = await inventory.db.selectFrom('products').select('id').where('id', '=', options.productId).executeTakeFirst();
    if (exists === undefined) throw notFound('product', options.productId);
    query = query.where('stock_movements.product_id', '=', options.productId);
  }
  const rows = await query.orderBy('stock_movements.created_at', 'desc').orderBy('stock_movements.id', 'desc').limit(options.limit ?? 20).execute();
  return rows.map((row) => ({
    id: row.id,
    productId: row.product_id,
    sku: row.sku,
    productName: row.name,
    kind: row.kind,
    quantity: row.quantity,
    note: row.note,
    createdAt: row.created_at,
  }));
}
