/**
 * What every copy (backup, restore, clone, export) reports and listens to.
 *
 * @module
 */

/**
 * How far a backup, restore or export is, reported after each chunk of rows and each table.
 *
 * @example
 * ```ts
 * const onProgress = (p: BackupProgress) => console.error(`${p.table}: ${p.rows} rows (${p.tableIndex + 1}/${p.tables})`);
 * ```
 */
export interface BackupProgress {
  /** The table being copied. */
  readonly table: string;
  /** Its position in the archive, from 0. */
  readonly tableIndex: number;
  /** How many tables the archive has. */
  readonly tables: number;
  /** Rows copied so far, all tables. */
  readonly rows: number;
  /** Bytes of COPY text copied so far, all tables (before compression). */
  readonly bytes: number;
  /** Whether `table` is complete. */
  readonly tableDone: boolean;
}

/**
 * Cancellation and progress of a copy.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const control: CopyControl = { signal: controller.signal, onProgress: (p) => p.tableDone && console.error(p.table) };
 * ```
 */
export interface CopyControl {
  /** Stops the copy (and rolls a restore back) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each chunk of rows and each table. */
  readonly onProgress?: ((progress: BackupProgress) => void) | undefined;
}
