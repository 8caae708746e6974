/**
 * The products pages: the list (with search and the new-product form) and one product (edit,
 * stock movements, delete).
 *
 * @module
 */
import type { Category } from '../domain/categories.js';
import type { Product, ProductFilter } from '../domain/products.js';
import type { Movement } from '../domain/stock.js';
import { type Html, html } from './html.js';
import {
  csrfField,
  field,
  type FormState,
  formatMoney,
  formatTime,
  formErrors,
  type Frame,
  listOrEmpty,
  movementBadge,
  page,
  select,
  signedQuantity,
  stockCell,
} from './layout.js';

/** What the products page shows. */
export interface ProductsView {
  readonly products: readonly Product[];
  readonly categories: readonly Category[];
  readonly filter: ProductFilter;
  readonly form: FormState;
  /** The CSV import form (a failed import's issues: one per bad line). */
  readonly imported: FormState;
  /** What the last import did, after its redirect. */
  readonly counts?: { readonly created: number; readonly updated: number };
  /** Links to the next and to the first page (paths after the base), when there are. */
  readonly pages?: { readonly next?: string | undefined; readonly first?: string | undefined };
}

/** The products page. */
export function productsPage(frame: Frame & { readonly member: NonNullable<Frame['member']> }, view: ProductsView): string {
  const { base } = frame;
  const { filter } = view;
  const categoryChoices = view.categories.map((category) => [String(category.id), category.name] as const);
  return page(
    { ...frame, title: 'Products', active: 'products' },
    html`<h1>Products</h1>
    <section class="card">
      <form class="inline" method="get" action="${base}/products">
        <label>Search<input name="q" value="${filter.q ?? ''}" placeholder="SKU or name"></label>
        ${select(
          { values: { categoryId: filter.categoryId === undefined ? '' : String(filter.categoryId) }, issues: {} },
          { label: 'Category', name: 'categoryId' },
          [['', 'All categories'], ...categoryChoices],
        )}
        <label>Only low stock<select name="lowStock"><option value="">No</option><option value="true"${filter.lowStock ? html` selected` : ''}>Yes</option></select></label>
        <button type="submit" class="secondary">Filter</button>
      </form>
    </section>
    <section class="card" id="product-list">
      ${listOrEmpty(
        view.products,
        filter.q || filter.categoryId || filter.lowStock ? 'No product matches.' : 'No products yet: add the first one below.',
        (products) => html`<table>
          <thead><tr><th>SKU</th><th>Name</th><th>Category</th><th class="num">Price</th><th class="num">Stock</th><th class="num">Value</th></tr></thead>
          <tbody>${products.map(
            (product) => html`<tr>
              <td><a href="${base}/products/${product.id}">${product.sku}</a></td>
              <td><a href="${base}/products/${product.id}">${product.name}</a></td><td>${product.categoryName ?? html`<span class="muted">—</span>`}</td>
              <td class="num">${formatMoney(product.unitPriceCents)}</td>
              <td class="num">${stockCell(product.stock, product.lowStock)}</td>
              <td class="num">${formatMoney(product.valueCents)}</td>
            </tr>`,
          )}</tbody>
        </table>`,
      )}
      ${view.pages?.next || view.pages?.first
        ? html`<nav class="actions" aria-label="Pages">
            ${view.pages.first ? html`<a href="${base}${view.pages.first}" rel="first">First page</a>` : ''}
            ${view.pages.next ? html`<a href="${base}${view.pages.next}" rel="next">Next page</a>` : ''}
          </nav>`
        : ''}
    </section>
    <div class="grid">
      <section class="card" id="new-product">
        <h2>New product</h2>
        ${productForm(frame, view.form, categoryChoices, `${base}/products`, 'Add product')}
      </section>
      ${csvCard(frame, view)}
    </div>`,
  );
}

/** What one product's page shows. */
export interface ProductView {
  readonly product: Product;
  readonly categories: readonly Category[];
  readonly movements: readonly Movement[];
  readonly edit: FormState;
  readonly movement: FormState;
  /** The delete form: the SKU typed to confirm. */
  readonly remove: FormState;
}

/** One product's page. */
export function productPage(frame: Frame & { readonly member: NonNullable<Frame['member']> }, view: ProductView): string {
  const { base, member } = frame;
  const { product } = view;
  const categoryChoices = view.categories.map((category) => [String(category.id), category.name] as const);
  const path = `${base}/products/${product.id}`;
  return page(
    { ...frame, title: product.name, active: 'products' },
    html`<p><a href="${base}/products">← Products</a></p>
    <h1>${product.name} <span class="muted">${product.sku}</span></h1>
    <section class="stats">
      <div class="stat"><div class="label">In stock</div><div class="value" id="stock">${stockCell(product.stock, product.lowStock)}</div></div>
      <div class="stat"><div class="label">Unit price</div><div class="value">${formatMoney(product.unitPriceCents)}</div></div>
      <div class="stat"><div class="label">Stock value</div><div class="value">${formatMoney(product.valueCents)}</div></div>
    </section>
    <div class="grid">
      <section class="card" id="record-movement">
        <h2>Record a stock movement</h2>
        ${formErrors(view.movement, ['kind', 'quantity', 'note'])}
        <form class="stack" method="post" action="${path}/movements">
          ${csrfField(member.csrfToken)}
          ${select(view.movement, { label: 'Kind', name: 'kind' }, [
            ['in', 'In: goods received'],
            ['out', 'Out: goods shipped'],
            ['adjustment', 'Adjustment: correct the count (+/−)'],
          ])}
          ${field(view.movement, { label: 'Quantity', name: 'quantity', type: 'number', required: true, hint: 'Adjustments may be negative.' })}
          ${field(view.movement, { label: 'Note', name: 'note', placeholder: 'Order 1042, stocktake…' })}
          <button type="submit">Record</button>
        </form>
      </section>
      <section class="card" id="edit-product">
        <h2>Edit</h2>
        ${productForm(frame, view.edit, categoryChoices, path, 'Save')}
      </section>
    </div>
    <section class="card" id="movements">
      <h2>Movements</h2>
      ${listOrEmpty(
        view.movements,
        'No stock has moved yet.',
        (movements) => html`<table>
          <thead><tr><th>When</th><th>Kind</th><th class="num">Qty</th><th>Note</th></tr></thead>
          <tbody>${movements.map(
            (movement) => html`<tr>
              <td>${formatTime(movement.createdAt)}</td><td>${movementBadge(movement.kind)}</td>
              <td class="num">${signedQuantity(movement.kind, movement.quantity)}</td><td>${movement.note ?? ''}</td>
            </tr>`,
          )}</tbody>
        </table>`,
      )}
    </section>
    ${
      member.role === 'owner'
        ? html`<section class="card" id="delete-product">
            <h2>Delete</h2>
            <p class="muted">Deletes ${product.sku} and all its stock movements. This cannot be undone.</p>
            ${formErrors(view.remove, ['confirm'])}
            <form class="stack" method="post" action="${path}/delete">
              ${csrfField(member.csrfToken)}
              ${field(view.remove, { label: `Type ${product.sku} to confirm`, name: 'confirm', required: true, placeholder: product.sku })}
              <div class="actions"><button type="submit" class="danger">Delete product</button></div>
            </form>
          </section>`
        : ''
    }`,
  );
}

/** Export and import of the products as CSV. */
function csvCard(frame: Frame & { readonly member: NonNullable<Frame['member']> }, view: ProductsView): Html {
  const { base, member } = frame;
  const { imported, counts } = view;
  const lines = Object.entries(imported.issues);
  return html`<section class="card" id="csv">
    <h2>CSV</h2>
    <p><a href="${base}/products/export" id="export-csv" download>Export all products</a> <span class="muted">(sku, name, category, unit_price, low_stock_threshold, stock)</span></p>
    ${counts ? html`<p class="notice" id="import-result">${counts.created} created, ${counts.updated} updated.</p>` : ''}
    ${
      imported.error !== undefined || lines.length > 0
        ? html`<div class="error-box" role="alert" id="import-errors">
            ${imported.error ?? 'Some lines are not valid: nothing was imported.'}
            ${lines.length > 0 ? html`<ul>${lines.map(([line, message]) => html`<li><strong>${capitalised(line)}</strong>: ${message}</li>`)}</ul>` : ''}
          </div>`
        : ''
    }
    <form class="stack" method="post" action="${base}/products/import" enctype="multipart/form-data" id="import-csv">
      ${csrfField(member.csrfToken)}
      <label>Import a CSV file
        <span class="hint">Lines with a known SKU update that product, the others create one; stock is not imported. Every line is checked first: one bad line and nothing is imported. At most 1 MB.</span>
        <input type="file" name="file" accept=".csv,text/csv" required>
      </label>
      <button type="submit">Import</button>
    </form>
  </section>`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function productForm(
  frame: { readonly member: NonNullable<Frame['member']> },
  form: FormState,
  categoryChoices: readonly (readonly [string, string])[],
  action: string,
  submit: string,
): Html {
  return html`${formErrors(form, ['sku', 'name', 'unitPriceCents', 'categoryId', 'lowStockThreshold'])}
  <form class="stack" method="post" action="${action}">
    ${csrfField(frame.member.csrfToken)}
    <div class="row">
      ${field(form, { label: 'SKU', name: 'sku', required: true, placeholder: 'ACME-ANVIL' })}
      ${field(form, { label: 'Name', name: 'name', required: true, placeholder: 'Anvil' })}
    </div>
    <div class="row">
      ${field(form, { label: 'Unit price ($)', name: 'price', issueKey: 'unitPriceCents', required: true, inputmode: 'decimal', placeholder: '49.00' })}
      ${select(form, { label: 'Category', name: 'categoryId' }, [['', 'None'], ...categoryChoices])}
      ${field(form, { label: 'Low-stock alert at', name: 'lowStockThreshold', type: 'number', placeholder: '5' })}
    </div>
    <div class="actions"><button type="submit">${submit}</button></div>
  </form>`;
}
