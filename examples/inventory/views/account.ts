/**
 * A business's log-in and sign-up pages.
 *
 * @module
 */
import { html } from './html.js';
import { field, type Frame, type FormState, formErrors, page } from './layout.js';

/** The log-in page. */
export function loginPage(frame: Frame, form: FormState): string {
  const base = frame.base;
  return page(
    { ...frame, title: 'Log in' },
    html`<section class="card narrow">
      <h1>Log in to ${frame.business?.name ?? 'your business'}</h1>
      ${formErrors(form, ['email', 'password'])}
      <form class="stack" method="post" action="${base}/login" id="login">
        ${field(form, { label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'username' })}
        ${field(form, { label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' })}
        <button type="submit">Log in</button>
      </form>
      <p class="muted">New here? <a href="${base}/signup">Sign up with your team's invite code</a>.</p>
    </section>`,
  );
}

/** The sign-up page (for colleagues: it asks for the business's invite code). */
export function signupPage(frame: Frame, form: FormState): string {
  const base = frame.base;
  return page(
    { ...frame, title: 'Sign up' },
    html`<section class="card narrow">
      <h1>Join ${frame.business?.name ?? 'your business'}</h1>
      <p class="muted">Ask a colleague for the invite code on the Team page.</p>
      ${formErrors(form, ['name', 'email', 'password', 'inviteCode'])}
      <form class="stack" method="post" action="${base}/signup" id="signup">
        ${field(form, { label: 'Invite code', name: 'inviteCode', required: true, autocomplete: 'off' })}
        ${field(form, { label: 'Your name', name: 'name', required: true, autocomplete: 'name' })}
        ${field(form, { label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'username' })}
        ${field(form, { label: 'Password', name: 'password', type: 'password', required: true, hint: 'At least 10 characters.', autocomplete: 'new-password' })}
        <button type="submit">Sign up</button>
      </form>
      <p class="muted">Have an account? <a href="${base}/login">Log in</a>.</p>
    </section>`,
  );
}
