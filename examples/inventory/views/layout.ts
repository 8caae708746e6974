/**
 * The page frame, form controls and formatting every view shares.
 *
 * @module
 */
import type { Issues } from '../domain/errors.js';
import type { Role } from '../domain/roles.js';
import { type Html, html, type HtmlValue } from './html.js';
import { STYLESHEET_PATH } from './styles.js';

/** What the frame of a page shows. */
export interface Frame {
  readonly title: string;
  /** `/t/acme` under path routing, else `` (every link starts with it). */
  readonly base: string;
  /** The business, on its pages. */
  readonly business?: { readonly id: string; readonly name: string };
  /** The logged-in user and the CSRF token of their session. */
  readonly member?: { readonly id: number; readonly name: string; readonly email: string; readonly role: Role; readonly csrfToken: string };
  readonly active?: 'dashboard' | 'products' | 'categories' | 'team';
  /** A key of {@link NOTICES} (from `?notice=` after a redirect). */
  readonly notice?: string | undefined;
}

/** Messages shown after a redirect; only these fixed texts can appear, whatever the query says. */
export const NOTICES: Readonly<Record<string, string>> = {
  'business-created': 'Your business is ready. Log in with the email and password you just chose.',
  'business-ready': 'Your business is ready, and you are logged in.',
  'logged-out': 'You are logged out.',
  welcome: 'Welcome!',
  'product-created': 'Product created. Record an “in” movement to put it in stock.',
  'product-updated': 'Product saved.',
  'product-deleted': 'Product deleted.',
  'movement-recorded': 'Stock movement recorded.',
  'category-created': 'Category created.',
  'category-deleted': 'Category deleted.',
  'category-renamed': 'Category renamed.',
  'products-imported': 'The CSV file is imported.',
  'member-removed': 'Team member removed.',
  'role-changed': 'Role changed.',
  'invite-code-regenerated': 'New invite code made: the old one no longer works.',
  'digest-requested': 'The low-stock digest is on its way: it shows below in a few seconds (reload).',
};

/**
 * A whole HTML document.
 *
 * @example
 * ```ts
 * res.send(page({ title: 'Products', base, business, member, active: 'products' }, html`<h1>Products</h1>`));
 * ```
 */
export function page(frame: Frame, content: Html): string {
  const { base, business, member } = frame;
  const link = (key: NonNullable<Frame['active']>, path: string, label: string): Html =>
    html`<a href="${base}${path}" class="${frame.active === key ? 'active' : ''}">${label}</a>`;
  const notice = frame.notice === undefined ? undefined : NOTICES[frame.notice];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title}${business ? ` · ${business.name}` : ''} · Inventory</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="bar"><div class="inner">
  ${
    business
      ? html`<a class="brand" href="${base}/">${business.name}<small>${business.id}</small></a>`
      : html`<a class="brand" href="/">Inventory<small>for every business</small></a>`
  }
  <nav>${
    business && member
      ? [link('dashboard', '/', 'Dashboard'), link('products', '/products', 'Products'), link('categories', '/categories', 'Categories'), link('team', '/team', 'Team')]
      : ''
  }</nav>
  ${
    member
      ? html`<form class="who" method="post" action="${base}/logout">
          <span title="${member.email}">${member.name}</span>
          ${csrfField(member.csrfToken)}
          <button type="submit">Log out</button>
        </form>`
      : ''
  }
</div></header>
<main>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${content}
</main>
<footer>A tenantry example: one PostgreSQL schema per business.</footer>
</body>
</html>`.toString();
}

/** The hidden field that carries the session's CSRF token. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A form's state when it is shown again after an error: what was typed, and what is wrong. */
export interface FormState {
  readonly values: Readonly<Record<string, string>>;
  readonly issues: Issues;
  /** A message about the whole form (a conflict, a wrong password). */
  readonly error?: string | undefined;
}

/** An empty form, or one filled with defaults. */
export function blankForm(values: Readonly<Record<string, string>> = {}): FormState {
  return { values, issues: {} };
}

/** Options of {@link field}. */
export interface FieldOptions {
  readonly label: string;
  readonly name: string;
  /** The domain's name for the field when it differs (`unitPriceCents` for the form's `price`). */
  readonly issueKey?: string;
  readonly type?: 'text' | 'email' | 'password' | 'number';
  readonly hint?: string;
  readonly required?: boolean;
  readonly autocomplete?: string;
  readonly inputmode?: 'decimal' | 'numeric';
  readonly placeholder?: string;
}

/**
 * A labelled input, with the typed value (never for passwords) and its issue.
 *
 * @example
 * ```ts
 * field(form, { label: 'SKU', name: 'sku', required: true });
 * ```
 */
export function field(form: FormState, options: FieldOptions): Html {
  const issue = form.issues[options.issueKey ?? options.name];
  const type = options.type ?? 'text';
  const value = type === 'password' ? '' : (form.values[options.name] ?? '');
  return html`<label class="${issue ? 'invalid' : ''}">${options.label}
    ${options.hint ? html`<span class="hint">${options.hint}</span>` : ''}
    <input name="${options.name}" type="${type}" value="${value}"${options.required ? html` required` : ''}${
      options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''
    }${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''}>
    ${issue ? html`<span class="field-error">${issue}</span>` : ''}
  </label>`;
}

/**
 * A labelled select.
 *
 * @example
 * ```ts
 * select(form, { label: 'Category', name: 'categoryId' }, [['', 'None'], ['1', 'Tools']]);
 * ```
 */
export function select(form: FormState, options: Pick<FieldOptions, 'label' | 'name' | 'issueKey'>, choices: readonly (readonly [string, string])[]): Html {
  const issue = form.issues[options.issueKey ?? options.name];
  const current = form.values[options.name] ?? '';
  return html`<label class="${issue ? 'invalid' : ''}">${options.label}
    <select name="${options.name}">${choices.map(([value, label]) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`)}</select>
    ${issue ? html`<span class="field-error">${issue}</span>` : ''}
  </label>`;
}

/** The form-wide error, and issues of fields the form does not show. */
export function formErrors(form: FormState, shown: readonly string[]): Html {
  const others = Object.entries(form.issues).filter(([key]) => !shown.includes(key));
  if (form.error === undefined && others.length === 0) return html``;
  return html`<div class="error-box" role="alert">
    ${form.error ?? 'Please check the form.'}
    ${others.length > 0 ? html`<ul>${others.map(([key, message]) => html`<li>${key} ${message}</li>`)}</ul>` : ''}
  </div>`;
}

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const count = new Intl.NumberFormat('en-US');

/** `$1,234.50` from cents. */
export function formatMoney(cents: number): string {
  return money.format(cents / 100);
}

/** `12,000`. */
export function formatCount(value: number): string {
  return count.format(value);
}

/** `12.50` from 1250 (for a price input). */
export function centsToInput(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** A timestamp as `<time>`: `2025-01-31 14:05 UTC`. */
export function formatTime(date: Date): Html {
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** A movement's kind as a badge, and its quantity with a sign. */
export function movementBadge(kind: string): Html {
  return html`<span class="badge ${kind}">${kind}</span>`;
}

/** `+5`, `−3`. */
export function signedQuantity(kind: string, quantity: number): string {
  const delta = kind === 'out' ? -quantity : quantity;
  return delta > 0 ? `+${formatCount(delta)}` : `−${formatCount(-delta)}`;
}

/** A stock figure, with a badge when low or empty. */
export function stockCell(stock: number, lowStock: boolean): Html {
  if (stock === 0) return html`${formatCount(stock)} <span class="badge out">out</span>`;
  return lowStock ? html`${formatCount(stock)} <span class="badge low">low</span>` : html`${formatCount(stock)}`;
}

/** Renders a list, or a line saying it is empty. */
export function listOrEmpty<T>(items: readonly T[], empty: string, render: (items: readonly T[]) => HtmlValue): HtmlValue {
  return items.length === 0 ? html`<p class="empty">${empty}</p>` : render(items);
}
