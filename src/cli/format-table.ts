/**
 * Plain-text tables for terminal output.
 *
 * @module
 */

/**
 * Lays rows out in columns padded to the widest cell, indented by two spaces. The last column
 * is not padded.
 *
 * @example
 * ```ts
 * formatTable([['ID', 'STATUS'], ['acme', 'active']]);
 * // ['  ID    STATUS', '  acme  active']
 * ```
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ')}`.trimEnd());
}
