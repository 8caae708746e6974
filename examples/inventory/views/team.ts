/**
 * The team page: the business's users and its invite code.
 *
 * @module
 */
import type { User } from '../domain/users.js';
import { html } from './html.js';
import { formatTime, type Frame, page } from './layout.js';

/** The team page. */
export function teamPage(frame: Frame, users: readonly User[], inviteCode: string | undefined, signupUrl: string): string {
  return page(
    { ...frame, title: 'Team', active: 'team' },
    html`<h1>Team</h1>
    <div class="grid">
      <section class="card">
        <table>
          <thead><tr><th>Name</th><th>Email</th><th>Since</th></tr></thead>
          <tbody>${users.map((user) => html`<tr><td>${user.name}</td><td>${user.email}</td><td>${formatTime(user.createdAt)}</td></tr>`)}</tbody>
        </table>
      </section>
      <section class="card">
        <h2>Invite a colleague</h2>
        ${
          inviteCode === undefined
            ? html`<p class="empty">This business has no invite code.</p>`
            : html`<p>Send them to <a href="${signupUrl}">${signupUrl}</a> with the invite code <code class="pill" id="invite-code">${inviteCode}</code>.</p>`
        }
        <p class="muted">Anyone with the code can join this business, so share it only with your team.</p>
      </section>
    </div>`,
  );
}
