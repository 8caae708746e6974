/**
 * HTML from template literals, escaped by default: every value interpolated into `html`…``
 * is escaped unless it is itself the result of `html` (a fragment built the same way).
 *
 * @module
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<b>"Tom" & Jerry</b>'); // '&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}

/** Markup that is already safe: made by {@link html} (or {@link trusted}). */
export class Html {
  readonly #markup: string;
  constructor(markup: string) {
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/** A value an `html` template takes: text (escaped), numbers, fragments, lists of them; nothing for null, undefined and false. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

/**
 * The template tag: escapes every interpolated value that is not an {@link Html} fragment.
 * Attribute values must be quoted in the template (`value="${x}"`).
 *
 * @example
 * ```ts
 * const name = '<script>alert(1)</script>';
 * html`<td>${name}</td>`.toString(); // '<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>'
 * html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let markup = strings[0]!;
  values.forEach((value, index) => {
    markup += render(value) + strings[index + 1]!;
  });
  return new Html(markup);
}

/**
 * Marks a constant string of the app's own (never user input) as safe markup.
 *
 * @example
 * ```ts
 * trusted('&nbsp;');
 * ```
 */
export function trusted(markup: string): Html {
  return new Html(markup);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}
