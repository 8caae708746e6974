/**
 * The team page: the business's users with their roles, and its invite code. Owners also get
 * the controls: change a role, remove a member, make a new invite code.
 *
 * @module
 */
import type { User } from '../domain/users.js';
import { html } from './html.js';
import { csrfField, type FormState, formatTime, formErrors, type Frame, page } from './layout.js';

/** What the team page shows. */
export interface TeamView {
  readonly users: readonly User[];
  readonly inviteCode: string | undefined;
  /** Where colleagues sign up. */
  readonly signupUrl: string;
  /** A failed change (the last owner, removing yourself). */
  readonly form: FormState;
}

/** The team page. */
export function teamPage(frame: Frame & { readonly member: NonNullable<Frame['member']> }, view: TeamView): string {
  const { base, member } = frame;
  const owner = member.role === 'owner';
  return page(
    { ...frame, title: 'Team', active: 'team' },
    html`<h1>Team</h1>
    ${formErrors(view.form, [])}
    <section class="card" id="team-list">
        <table>
          <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Since</th>${owner ? html`<th></th>` : ''}</tr></thead>
          <tbody>${view.users.map((user) => {
            const self = user.id === member.id;
            return html`<tr id="user-${user.id}">
              <td>${user.name}${self ? html` <span class="muted">(you)</span>` : ''}</td><td>${user.email}</td>
              <td>${
                owner
                  ? html`<form class="inline compact" method="post" action="${base}/team/${user.id}/role">
                      ${csrfField(member.csrfToken)}
                      <select name="role" aria-label="Role of ${user.name}">${(['owner', 'staff'] as const).map(
                        (role) => html`<option value="${role}"${role === user.role ? html` selected` : ''}>${role}</option>`,
                      )}</select>
                      <button type="submit" class="secondary">Change</button>
                    </form>`
                  : html`<span class="badge role">${user.role}</span>`
              }</td>
              <td>${formatTime(user.createdAt)}</td>
              ${
                owner
                  ? html`<td class="num">${
                      self
                        ? ''
                        : html`<form method="post" action="${base}/team/${user.id}/remove">${csrfField(member.csrfToken)}<button type="submit" class="danger">Remove</button></form>`
                    }</td>`
                  : ''
              }
            </tr>`;
          })}</tbody>
        </table>
        <p class="muted">Owners manage the team and may delete products; staff work the catalogue and the stock.</p>
    </section>
    <section class="card narrow-left" id="invite">
        <h2>Invite a colleague</h2>
        ${
          view.inviteCode === undefined
            ? html`<p class="empty">This business has no invite code.</p>`
            : html`<p>Send them to <a href="${view.signupUrl}">${view.signupUrl}</a> with the invite code <code class="pill" id="invite-code">${view.inviteCode}</code>. They join as staff.</p>`
        }
        <p class="muted">Anyone with the code can join this business, so share it only with your team.</p>
        ${
          owner
            ? html`<form method="post" action="${base}/team/invite-code" id="regenerate-invite">
                ${csrfField(member.csrfToken)}
                <button type="submit" class="secondary">Make a new invite code</button>
              </form>`
            : ''
        }
    </section>`,
  );
}
