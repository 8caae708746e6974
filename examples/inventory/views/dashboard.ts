/**
 * A business's dashboard.
 *
 * @module
 */
import type { Dashboard } from '../domain/dashboard.js';
import type { LowStockDigest } from '../domain/low-stock-digests.js';
import { type Html, html } from './html.js';
import { csrfField, formatCount, formatMoney, formatTime, type Frame, listOrEmpty, movementBadge, page, signedQuantity, stockCell } from './layout.js';

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
                <td><a href="${base}/products/${product.id}">${product.sku}</a></td><td><a href="${base}/products/${product.id}">${product.name}</a></td>
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
    ${digestCard(frame, data.lastDigest)}
    <p><a href="${base}/products">All products →</a></p>`,
  );
}

/** The last low-stock digest, and for owners the button that sends one now. */
function digestCard(frame: Frame, digest: LowStockDigest | null): Html {
  const { base, member } = frame;
  return html`<section class="card" id="digest">
    <h2>Low-stock digest</h2>
    ${
      digest === null
        ? html`<p class="empty">No digest yet: one is made every day at 07:00 UTC.</p>`
        : html`<p>Last digest ${formatTime(digest.createdAt)}: <strong id="digest-count">${digest.itemCount === 0 ? 'nothing' : formatCount(digest.itemCount)}</strong> ${
            digest.itemCount === 1 ? 'product was' : 'products were'
          } running low.</p>
          ${
            digest.items.length > 0
              ? html`<ul id="digest-items">${digest.items.map(
                  (item) => html`<li><code>${item.sku}</code> ${item.name}: ${formatCount(item.stock)} left (alert at ${formatCount(item.lowStockThreshold)})</li>`,
                )}</ul>`
              : ''
          }`
    }
    ${
      member?.role === 'owner'
        ? html`<form method="post" action="${base}/digests" id="send-digest">${csrfField(member.csrfToken)}<button type="submit" class="secondary">Send digest now</button></form>`
        : ''
    }
  </section>`;
}
