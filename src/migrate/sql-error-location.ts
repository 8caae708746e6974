/**
 * Where in a SQL file its error is: PostgreSQL reports a character position in the text it got.
 *
 * @module
 */

/**
 * The 1-based line and column of a 1-based character `position` in `text`.
 *
 * @example
 * ```ts
 * lineAndColumn('SELECT 1;\nSELEC 2;', 11); // { line: 2, column: 1 }
 * ```
 */
export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  // PostgreSQL counts characters, not UTF-16 units: walk by code points.
  let line = 1;
  let column = 1;
  let index = 1;
  for (const character of text) {
    if (index >= position) break;
    if (character === '\n') {
      line += 1;
      column = 1;
    } else {
      column += 1;
    }
    index += 1;
  }
  return { line, column };
}

/**
 * Adds the file, line and column to a PostgreSQL error raised by a SQL file's text, as `line` and
 * `column` and at the end of its message, and returns it. Where the server gave a position, that
 * is where. For an error raised by one statement of the file, `statement.offset` is how many
 * characters of the file come before that statement (the server counts the position in the text
 * it got), and an error without a position (a constraint violation, say) points at the
 * statement's start. Anything else is returned as it is.
 *
 * @example
 * ```ts
 * declare const text: string;
 * await client.query(text).catch((error: unknown) => {
 *   throw locateSqlError(error, '002_sku.sql', text);
 * });
 * // error.message: 'syntax error at or near "SELEC" (002_sku.sql, line 2, column 1)'
 * ```
 */
export function locateSqlError(error: unknown, file: string, text: string, statement?: { readonly offset: number }): unknown {
  const located = error as { position?: unknown; message?: unknown; severity?: unknown; line?: number; column?: number } | null;
  if (located === null || typeof located !== 'object') return error;
  const position = typeof located.position === 'string' ? Number(located.position) : statement !== undefined && typeof located.severity === 'string' ? 1 : Number.NaN;
  if (!Number.isInteger(position) || position < 1) return error;
  const { line, column } = lineAndColumn(text, (statement?.offset ?? 0) + position);
  located.line = line;
  located.column = column;
  if (typeof located.message === 'string') located.message = `${located.message} (${file}, line ${line}, column ${column})`;
  return error;
}
