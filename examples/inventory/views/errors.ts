/**
 * Error pages.
 *
 * @module
 */
import { html } from './html.js';
import { type Frame, page } from './layout.js';

/** A page for a 4xx or 5xx answer; `detail` is shown as text. `home` is where the Home link goes (default the frame's base). */
export function errorPage(frame: Omit<Frame, 'title'>, status: number, title: string, detail: string, home = `${frame.base}/`): string {
  return page(
    { ...frame, title },
    html`<section class="card narrow">
      <h1>${title}</h1>
      <p>${detail}</p>
      <p class="muted">HTTP ${status} · <a href="${home}">Home</a></p>
    </section>`,
  );
}
