/**
 * The platform's page (the main host): sign a business up, or go to yours.
 *
 * @module
 */
import type { Plan } from '../domain/businesses.js';
import { html } from './html.js';
import { field, type FormState, formatCount, formErrors, page, select } from './layout.js';

/** What the platform page shows. */
export interface PlatformView {
  readonly plans: readonly Plan[];
  /** What the address field is framed by: `` and `.localhost:3000`, or `127.0.0.1:3000/t/` and `/`. */
  readonly address: { readonly before: string; readonly after: string };
  readonly signup: FormState;
  readonly open: FormState;
}

/** The platform page. */
export function platformPage(view: PlatformView): string {
  const { signup, open } = view;
  return page(
    { title: 'Sign up your business', base: '' },
    html`<section class="hero">
      <h1>Inventory for every business</h1>
      <p class="muted">Products, stock movements and a dashboard. Each business gets its own address, its own users and its own
      PostgreSQL schema: nobody else sees its data.</p>
    </section>
    <div class="grid">
      <section class="card">
        <h2>Sign up your business</h2>
        ${formErrors(signup, ['id', 'name', 'plan', 'ownerName', 'email', 'password'])}
        <form class="stack" method="post" action="/businesses" id="signup">
          ${field(signup, { label: 'Business name', name: 'name', required: true, placeholder: 'Acme Tools' })}
          <label class="${signup.issues.id ? 'invalid' : ''}">Address
            <span class="hint">Lower-case letters, digits and “-”.</span>
            <span class="address">${view.address.before ? html`<span class="muted">${view.address.before}</span>` : ''}<input name="id" value="${signup.values.id ?? ''}" required placeholder="acme" autocomplete="off"><span class="muted">${view.address.after}</span></span>
            ${signup.issues.id ? html`<span class="field-error">${signup.issues.id}</span>` : ''}
          </label>
          ${select(
            signup,
            { label: 'Plan', name: 'plan' },
            view.plans.map((plan) => [plan.id, `${plan.name}: up to ${formatCount(plan.maxProducts)} products`] as const),
          )}
          ${field(signup, { label: 'Your name', name: 'ownerName', required: true, autocomplete: 'name' })}
          ${field(signup, { label: 'Your email', name: 'email', type: 'email', required: true, autocomplete: 'email' })}
          ${field(signup, { label: 'Password', name: 'password', type: 'password', required: true, hint: 'At least 10 characters.', autocomplete: 'new-password' })}
          <button type="submit">Create my business</button>
        </form>
      </section>
      <section class="card">
        <h2>Already signed up?</h2>
        <p class="muted">Go to your business's own address.</p>
        ${formErrors(open, ['business'])}
        <form class="inline" method="get" action="/open">
          ${field(open, { label: 'Business address', name: 'business', required: true, placeholder: 'acme' })}
          <button type="submit" class="secondary">Go</button>
        </form>
      </section>
    </div>`,
  );
}
