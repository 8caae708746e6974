/**
 * The categories page.
 *
 * @module
 */
import type { Category } from '../domain/categories.js';
import { html } from './html.js';
import { csrfField, field, type FormState, formatCount, formErrors, type Frame, listOrEmpty, page } from './layout.js';

/** The categories page: the list, delete buttons, and the new-category form. */
export function categoriesPage(frame: Frame & { readonly member: NonNullable<Frame['member']> }, categories: readonly Category[], form: FormState): string {
  const { base, member } = frame;
  return page(
    { ...frame, title: 'Categories', active: 'categories' },
    html`<h1>Categories</h1>
    <div class="grid">
      <section class="card">
        ${listOrEmpty(
          categories,
          'No categories yet.',
          (list) => html`<table>
            <thead><tr><th>Name</th><th class="num">Products</th><th></th></tr></thead>
            <tbody>${list.map(
              (category) => html`<tr>
                <td><a href="${base}/products?categoryId=${category.id}">${category.name}</a></td>
                <td class="num">${formatCount(category.productCount)}</td>
                <td class="num"><form method="post" action="${base}/categories/${category.id}/delete">${csrfField(member.csrfToken)}<button type="submit" class="secondary">Delete</button></form></td>
              </tr>`,
            )}</tbody>
          </table>`,
        )}
      </section>
      <section class="card">
        <h2>New category</h2>
        ${formErrors(form, ['name'])}
        <form class="stack" method="post" action="${base}/categories">
          ${csrfField(member.csrfToken)}
          ${field(form, { label: 'Name', name: 'name', required: true, placeholder: 'Tools' })}
          <button type="submit">Add category</button>
        </form>
        <p class="muted">Deleting a category keeps its products, without a category.</p>
      </section>
    </div>`,
  );
}
