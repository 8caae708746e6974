/**
 * The products of the active business as CSV, out and in. Export streams every product, a page
 * of SKUs at a time (memory stays flat). Import checks every line first and reports each bad one;
 * then, in one transaction, it creates the products whose SKU is new and updates the others, or
 * changes nothing at all. Exporting and importing the file again leaves the catalogue as it was.
 *
 * Columns: `sku`, `name`, `category` (a name; missing categories are created), `unit_price`
 * (dollars, `12.50`), `low_stock_threshold` (blank: 5) and `stock`, which export writes for
 * reading and import ignores (stock changes through movements only).
 *
 * @module
 */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import { sql } from 'kysely';
import type { Inventory } from '../inventory.js';
import { currentPlan } from './businesses.js';
import { InventoryError, isInventoryError, type Issues } from './errors.js';
import { listProductPage, parsePriceCents, readProductValues } from './products.js';
import { Fields } from './validate.js';

/** The columns, in the order export writes them. */
export const PRODUCT_CSV_COLUMNS = ['sku', 'name', 'category', 'unit_price', 'low_stock_threshold', 'stock'] as const;

/** The columns a file to import must have. */
const REQUIRED_COLUMNS = ['sku', 'name', 'unit_price'] as const;

/** What import accepts: the file's size, its lines, and how many bad lines it lists. */
export const CSV_IMPORT_LIMITS = { maxBytes: 1024 * 1024, maxRows: 10_000, reportedLines: 50 } as const;

/** Products per page of the export's reads. */
const EXPORT_PAGE = 500;

/** The CSV column of each field the domain names. */
const COLUMN_OF: Readonly<Record<string, string>> = { unitPriceCents: 'unit_price', lowStockThreshold: 'low_stock_threshold', categoryId: 'category' };

/**
 * Writes every product of the active business to `destination` as CSV, by SKU, and ends it.
 *
 * @example
 * ```ts
 * res.type('text/csv');
 * await writeProductCsv(inventory, res);
 * ```
 */
export async function writeProductCsv(inventory: Inventory, destination: Writable): Promise<void> {
  // The stream pulls pages from its own callbacks: each read enters the business's scope itself.
  const tenant = inventory.tenancy.require();
  async function* lines(): AsyncGenerator<string[]> {
    let after: string | undefined;
    do {
      const page = await inventory.tenancy.run(tenant, () => listProductPage(inventory, {}, { limit: EXPORT_PAGE, ...(after === undefined ? {} : { after }) }));
      for (const product of page.products) {
        const price = (product.unitPriceCents / 100).toFixed(2);
        yield [product.sku, guard(product.name), guard(product.categoryName ?? ''), price, String(product.lowStockThreshold), String(product.stock)];
      }
      after = page.next ?? undefined;
    } while (after !== undefined);
  }
  await pipeline(Readable.from(lines()), stringify({ header: true, columns: [...PRODUCT_CSV_COLUMNS] }), destination);
}

/** How many products an import created and updated. */
export interface CsvImportResult {
  readonly created: number;
  readonly updated: number;
  /** Categories the file named that did not exist yet. */
  readonly categoriesCreated: number;
}

/** One valid line of a file. */
interface ImportLine {
  readonly values: ReturnType<typeof readProductValues>;
  readonly category: string | null;
}

/**
 * Imports products from a CSV file into the active business: all lines or none. A file with bad
 * lines is a 400 `invalid_csv` whose `issues` say what is wrong, per line (`line 3`: `unit_price
 * must be an amount like 12.50`); a file over the size limit is a 413; more products than the plan
 * holds, a 403. Lines whose SKU exists update that product; the others create one.
 *
 * @example
 * ```ts
 * await importProductsCsv(inventory, 'sku,name,unit_price\nACME-ROPE,Rope,9.90\n'); // { created: 1, updated: 0, categoriesCreated: 0 }
 * ```
 */
export async function importProductsCsv(inventory: Inventory, csv: string | Buffer): Promise<CsvImportResult> {
  if (Buffer.byteLength(csv) > CSV_IMPORT_LIMITS.maxBytes) {
    throw new InventoryError(413, 'csv_too_large', `The file is larger than ${CSV_IMPORT_LIMITS.maxBytes / 1024 / 1024} MB: import it in parts`);
  }
  const lines = readLines(csv);
  const plan = await currentPlan(inventory);
  return inventory.db.transaction().execute(async (trx) => {
    // The same lock as creating a product: the plan's limit holds under concurrent writes.
    await trx.selectFrom('settings').select('id').forUpdate().execute();
    const categories = new Map((await trx.selectFrom('categories').select(['id', 'name']).execute()).map((row) => [row.name, row.id]));
    const missing = [...new Set(lines.map((line) => line.category).filter((name): name is string => name !== null && !categories.has(name)))];
    if (missing.length > 0) {
      const created = await trx.insertInto('categories').values(missing.map((name) => ({ name }))).returning(['id', 'name']).execute();
      for (const row of created) categories.set(row.name, row.id);
    }
    let created = 0;
    for (let start = 0; start < lines.length; start += EXPORT_PAGE) {
      const rows = lines.slice(start, start + EXPORT_PAGE).map(({ values, category }) => ({
        low_stock_threshold: 5,
        ...values,
        category_id: category === null ? null : categories.get(category)!,
      }));
      const written = await trx
        .insertInto('products')
        .values(rows)
        // Raw `excluded.…`: the table of the row that was refused, not one of the business's tables.
        .onConflict((conflict) =>
          conflict.columns(skuKey(inventory)).doUpdateSet({
            name: sql`excluded.name`,
            unit_price_cents: sql`excluded.unit_price_cents`,
            category_id: sql`excluded.category_id`,
            low_stock_threshold: sql`excluded.low_stock_threshold`,
          }),
        )
        .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
        .execute();
      created += written.filter((row) => row.inserted).length;
    }
    const { count } = await trx.selectFrom('products').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    if (Number(count) > plan.maxProducts) {
      throw new InventoryError(403, 'plan_limit_reached', `The ${plan.name} plan holds at most ${plan.maxProducts} products; after this import there would be ${count}. Nothing was imported.`);
    }
    return { created, updated: lines.length - created, categoriesCreated: missing.length };
  });
}

/** Parses and checks every line; throws a 400 listing the bad ones. */
function readLines(csv: string | Buffer): ImportLine[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with where it was (csv-parse's types do not say so).
    const options = { bom: true, info: true, relax_column_count: true, skip_empty_lines: true, max_record_size: 64 * 1024 };
    records = parse(csv, options) as unknown as typeof records;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines;
    throw invalidCsv({ [line === undefined ? 'file' : `line ${line}`]: `is not valid CSV: ${error.message.replace(/^Invalid [^:]*: /, '')}` }, 1);
  }
  const [header, ...body] = records;
  if (header === undefined) throw invalidCsv({ file: `is empty: the first line names the columns (${PRODUCT_CSV_COLUMNS.join(',')})` }, 1);
  const columns = header.record.map((name) => name.trim().toLowerCase());
  const headerIssues = [
    ...columns.filter((name) => !(PRODUCT_CSV_COLUMNS as readonly string[]).includes(name)).map((name) => `unknown column ${JSON.stringify(name.slice(0, 40))}`),
    ...REQUIRED_COLUMNS.filter((name) => !columns.includes(name)).map((name) => `missing column ${name}`),
    ...columns.filter((name, index) => columns.indexOf(name) !== index).map((name) => `column ${name} appears twice`),
  ];
  if (headerIssues.length > 0) throw invalidCsv({ [`line ${header.info.lines}`]: `${headerIssues.join('; ')} (expected ${PRODUCT_CSV_COLUMNS.join(',')})` }, 1);
  if (body.length === 0) throw invalidCsv({ file: 'has no products below its header' }, 1);
  if (body.length > CSV_IMPORT_LIMITS.maxRows) throw invalidCsv({ file: `has ${body.length} products; import at most ${CSV_IMPORT_LIMITS.maxRows} at a time` }, 1);

  const issues: Record<string, string> = {};
  const lines: ImportLine[] = [];
  const skus = new Map<string, number>();
  for (const { record, info } of body) {
    const problems: string[] = [];
    const cell = (column: string): string => (record[columns.indexOf(column)] ?? '').trim();
    if (record.length !== columns.length) problems.push(`has ${record.length} values, the header names ${columns.length} columns`);
    const line = readLine(cell, problems);
    const earlier = skus.get(line.values.sku);
    if (line.values.sku !== '' && earlier !== undefined) problems.push(`sku ${line.values.sku} is on line ${earlier} too`);
    else skus.set(line.values.sku, info.lines);
    if (problems.length > 0) issues[`line ${info.lines}`] = problems.join('; ');
    else lines.push(line);
  }
  if (Object.keys(issues).length > 0) throw invalidCsv(issues, Object.keys(issues).length);
  return lines;
}

/** One line's values, with what is wrong with them added to `problems`. */
function readLine(cell: (column: string) => string, problems: string[]): ImportLine {
  const price = cell('unit_price');
  const threshold = cell('low_stock_threshold');
  const fields = new Fields({
    sku: cell('sku'),
    name: unguard(cell('name')),
    unitPriceCents: parsePriceCents(price) ?? (price === '' ? undefined : -1),
    ...(threshold === '' ? {} : { lowStockThreshold: /^[0-9]{1,10}$/.test(threshold) ? Number(threshold) : threshold }),
  });
  const values = readProductValues(fields);
  const category = unguard(cell('category'));
  try {
    fields.done();
  } catch (error) {
    if (!isInventoryError(error) || error.issues === undefined) throw error;
    for (const [key, message] of Object.entries(error.issues)) {
      const column = COLUMN_OF[key] ?? key;
      problems.push(column === 'unit_price' && price !== '' ? `unit_price must be an amount like 12.50, got ${JSON.stringify(price.slice(0, 20))}` : `${column} ${message}`);
    }
  }
  if (category.length > 60) problems.push('category must be at most 60 characters');
  return { values, category: category === '' ? null : category };
}

/** A 400 that lists bad lines (the first {@link CSV_IMPORT_LIMITS}.reportedLines of them). */
function invalidCsv(issues: Issues, badLines: number): InventoryError {
  const entries = Object.entries(issues);
  const shown = Object.fromEntries(entries.slice(0, CSV_IMPORT_LIMITS.reportedLines));
  if (entries.length > CSV_IMPORT_LIMITS.reportedLines) shown.more = `and ${entries.length - CSV_IMPORT_LIMITS.reportedLines} more lines`;
  const what = badLines === 1 && 'file' in issues ? 'The file cannot be imported' : `${badLines} ${badLines === 1 ? 'line is' : 'lines are'} not valid`;
  return new InventoryError(400, 'invalid_csv', `${what}: nothing was imported`, { issues: shown });
}

/**
 * A text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`
 * on export; import takes it off again, so the round trip keeps the text.
 */
function guard(text: string): string {
  return /^[=+\-@'\t\r]/.test(text) ? `'${text}` : text;
}

function unguard(text: string): string {
  return /^'[=+\-@'\t\r]/.test(text) ? text.slice(1) : text;
}

/**
 * The columns of the products' unique key on the SKU: `sku` in a business's own schema, `tenant_id,
 * sku` in the shared tables of the row-level strategy. Named by columns rather than by constraint:
 * Citus routes a conflict target of columns to the worker unchanged.
 */
function skuKey(inventory: Inventory): ['sku'] {
  return (inventory.tenancy.strategy === 'rls' ? ['tenant_id', 'sku'] : ['sku']) as ['sku'];
}
