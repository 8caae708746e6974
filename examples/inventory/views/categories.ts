/**
 * The categories page.
 *
 * @module
 */
import type { Category } from '../domain/categories.js';
import { html } from './html.js';
import { csrfField, field, type FormState, formatCount, formErrors, type Frame, listOrEmpty, page } from './layout.js';

/**
 * The categories page: the list with a rename form and a delete button per category, and the
 * new-category form. `rename` is a failed rename (its `values.id` says which category).
 */
export function categoriesPage(frame: Frame & { readonly member: NonNullable<Frame['member']> }, categories: readonly Category[], form: FormState, rename: FormState): string {
  const { base, member } = frame;
  const renaming = rename.values.id;
  return page(
    { ...frame, title: 'Categories', active: 'categories' },
    html`<h1>Categories</h1>
    <div class="grid">
      <section class="card" id="category-list">
        ${listOrEmpty(
          categories,
          'No categories yet.',
          (list) => html`<table>
            <thead><tr><th>Name</th><th class="num">Products</th><th>Rename</th><th></th></tr></thead>
            <tbody>${list.map((category) => {
              const state = String(category.id) === renaming ? rename : { values: { name: category.name }, issues: {} };
              const issue = state.issues.name ?? state.error;
              return html`<tr id="category-${category.id}">
                <td><a href="${base}/products?categoryId=${category.id}">${category.name}</a></td>
                <td class="num">${formatCount(category.productCount)}</td>
                <td>
                  <form class="inline compact" method="post" action="${base}/categories/${category.id}">
                    ${csrfField(member.csrfToken)}
                    <input name="name" value="${state.values.name ?? ''}" required aria-label="New name for ${category.name}" class="${issue ? 'invalid' : ''}">
                    <button type="submit" class="secondary">Rename</button>
                  </form>
                  ${issue ? html`<span class="field-error">${issue}</span>` : ''}
                </td>
                <td class="num"><form method="post" action="${base}/categories/${category.id}/delete">${csrfField(member.csrfToken)}<button type="submit" class="secondary">Delete</button></form></td>
              </tr>`;
            })}</tbody>
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
