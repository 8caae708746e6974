/**
 * A business's dashboard.
 *
 * @module
 */
import type { Dashboard } from '../domain/dashboard.js';
import { html } from './html.js';
import { formatCount, formatMoney, formatTime, type Frame, listOrEmpty, movementBadge, page, signedQuantity, stockCell } from './layout.js';

/** The dashboard page. */
export function dashboardPage(frame: Frame, data: Dashboard): string {
  const base = frame.base;
  return page(
    { ...frame, title: 'Dashboard', active: 'dashboard' },
    html`<h1>Dashboard</h1>
    <section class="stats">
      <div class="stat"><div class="label">Stock value</div><div class="value" id="stock-value">${formatMoney(data.stockValueCents)}</div></div>
      <div class="stat"><div class="label">Products</div><div class="value">${formatCount(data.productCount)}</div></div>
      <div class="stat"><div class="label">Units in stock</div><div class="value">${formatCount(data.unitsInStock)}</div></div>
      <div class="stat"><div class="label">Running low</div><div class="value">${formatCount(data.lowStock.length)}</div></div>
    </section>
    <div class="grid">
      <section class="card" id="low-stock">
        <h2>Low stock</h2>
        ${listOrEmpty(
          data.lowStock,
          'Nothing is running low.',
          (products) => html`<table>
            <thead><tr><th>SKU</th><th>Product</th><th class="num">Stock</th><th class="num">Alert at</th></tr></thead>
            <tbody>${products.map(
              (product) => html`<tr>
                <td><a href="${base}/products/${product.id}">${product.sku}</a></td><td>${product.name}</td>
                <td class="num">${stockCell(product.stock, product.lowStock)}</td><td class="num">${formatCount(product.lowStockThreshold)}</td>
              </tr>`,
            )}</tbody>
          </table>`,
        )}
      </section>
      <section class="card" id="recent-movements">
        <h2>Recent movements</h2>
        ${listOrEmpty(
          data.recentMovements,
          'No stock has moved yet.',
          (movements) => html`<table>
            <thead><tr><th>When</th><th>Product</th><th>Kind</th><th class="num">Qty</th></tr></thead>
            <tbody>${movements.map(
              (movement) => html`<tr>
                <td>${formatTime(movement.createdAt)}</td>
                <td><a href="${base}/products/${movement.productId}">${movement.productName}</a></td>
                <td>${movementBadge(movement.kind)}</td><td class="num">${signedQuantity(movement.kind, movement.quantity)}</td>
              </tr>`,
            )}</tbody>
          </table>`,
        )}
      </section>
    </div>
    <p><a href="${base}/products">All products →</a></p>`,
  );
}
