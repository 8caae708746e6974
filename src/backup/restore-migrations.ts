/**
 * Which of the app's tenant migrations rebuild the schema an archive's rows were written under.
 *
 * @module
 */
import { BackupMigrationsError } from '../errors.js';
import type { Migration } from '../migrate/migration.js';
import type { BackupManifest } from './backup-manifest.js';

/**
 * Which migration differences a restore accepts.
 *
 * @example
 * ```ts
 * const allow: RestoreMigrationOptions = { allowChanged: true };
 * ```
 */
export interface RestoreMigrationOptions {
  /** Restore an archive whose migrations this app has with other checksums (edited). */
  readonly allowChanged?: boolean | undefined;
  /** Restore an archive whose migrations this app does not have (its tables must still fit). */
  readonly allowUnknown?: boolean | undefined;
}

/**
 * The app's migrations that the archive's schema had applied, in the app's order. Throws
 * {@link BackupMigrationsError} naming the first archive migration the app lacks (`unknown`) or
 * has with another checksum (`changed`), unless allowed. tenantry's own migrations
 * (`tenantry:…`, such as the tenant roles' marker) follow the target's settings, not the archive.
 *
 * @example
 * ```ts
 * declare const manifest: import('./backup-manifest.js').BackupManifest;
 * const atBackup = migrationsAtBackup(manifest.migrations, await tenancy.migrate.tenantMigrations());
 * ```
 */
export function migrationsAtBackup(
  archived: BackupManifest['migrations'],
  available: readonly Migration[],
  options: RestoreMigrationOptions = {},
): readonly Migration[] {
  const byName = new Map(available.map((migration) => [migration.name, migration]));
  for (const migration of archived) {
    if (migration.name.startsWith('tenantry:')) continue;
    const own = byName.get(migration.name);
    if (own === undefined) {
      if (options.allowUnknown !== true) throw new BackupMigrationsError(migration.name, 'unknown');
    } else if (own.checksum !== migration.checksum && options.allowChanged !== true) {
      throw new BackupMigrationsError(migration.name, 'changed');
    }
  }
  const names = new Set(archived.map((migration) => migration.name));
  return available.filter((migration) => names.has(migration.name));
}
