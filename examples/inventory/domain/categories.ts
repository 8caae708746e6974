/**
 * Product categories of the active business.
 *
 * @module
 */
import type { Inventory } from '../inventory.js';
import { conflict, notFound, pgError, SQLSTATE } from './errors.js';
import { Fields, objectBody } from './validate.js';

/** A category and how many products it has. */
export interface Category {
  readonly id: number;
  readonly name: string;
  readonly productCount: number;
}

/**
 * The categories, by name.
 *
 * @example
 * ```ts
 * await tenancy.run('acme', () => listCategories(inventory)); // [{ id: 1, name: 'Tools', productCount: 2 }]
 * ```
 */
export async function listCategories(inventory: Inventory): Promise<Category[]> {
  const rows = await inventory.db
    .selectFrom('categories')
    .leftJoin('products', 'products.category_id', 'categories.id')
    .select(['categories.id', 'categories.name'])
    .select((eb) => eb.fn.count<string>('products.id').as('product_count'))
    .groupBy(['categories.id', 'categories.name'])
    .orderBy('categories.name')
    .execute();
  return rows.map((row) => ({ id: row.id, name: row.name, productCount: Number(row.product_count) }));
}

/**
 * Creates a category: `{ name }`, unique within the business (409 when taken).
 *
 * @example
 * ```ts
 * await createCategory(inventory, { name: 'Tools' });
 * ```
 */
export async function createCategory(inventory: Inventory, body: unknown): Promise<Category> {
  const name = readName(body);
  const row = await writeCategory(inventory.db.insertInto('categories').values({ name }).returning(['id', 'name']).executeTakeFirstOrThrow(), name);
  return { ...row, productCount: 0 };
}

/**
 * Renames a category: `{ name }`, unique within the business (409 when another has it; 404 when
 * there is no category with that id). Its products follow it.
 *
 * @example
 * ```ts
 * await renameCategory(inventory, 1, { name: 'Hand tools' });
 * ```
 */
export async function renameCategory(inventory: Inventory, id: number, body: unknown): Promise<Category> {
  const name = readName(body);
  const row = await writeCategory(inventory.db.updateTable('categories').set({ name }).where('id', '=', id).returning('id').executeTakeFirst(), name);
  if (row === undefined) throw notFound('category', id);
  const category = (await listCategories(inventory)).find((each) => each.id === id);
  if (category === undefined) throw notFound('category', id);
  return category;
}

/** The `{ name }` of a category body (1 to 60 characters), or a 400. */
function readName(body: unknown): string {
  const fields = new Fields(objectBody(body, ['name']));
  const name = fields.text('name', { max: 60 });
  fields.done();
  return name;
}

/** Awaits a write of a category's name, turning a taken name into a 409. */
async function writeCategory<T>(write: Promise<T>, name: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (pgError(error)?.code === SQLSTATE.uniqueViolation) throw conflict('category_exists', `There is a category named ${JSON.stringify(name)} already`, { name: 'is taken' });
    throw error;
  }
}

/** Deletes a category (its products stay, uncategorised); 404 when there is none with that id. */
export async function deleteCategory(inventory: Inventory, id: number): Promise<void> {
  const result = await inventory.db.deleteFrom('categories').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('category', id);
}
