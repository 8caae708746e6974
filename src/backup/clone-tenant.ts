/**
 * `tenancy.clone(fromId, toId)`: a backup piped straight into a restore, with no file and no
 * compression between them.
 *
 * @module
 */
import type { BackupContext } from './backup-context.js';
import { backupTenant } from './backup-tenant.js';
import { pipeBackup } from './pipe-backup.js';
import type { RestoreOptions, RestoreSummary } from './restore-tenant.js';
import { restoreTenant } from './restore-tenant.js';

/**
 * Options of `tenancy.clone`: those of a restore, but the id is the clone's.
 *
 * @example
 * ```ts
 * const options: CloneOptions = { name: 'Acme (staging)', domains: ['acme.staging.example.com'] };
 * ```
 */
export type CloneOptions = Omit<RestoreOptions, 'id'>;

/**
 * Copies tenant `fromId` into a new tenant `toId`: the source is read from one snapshot while
 * the clone is provisioned and loaded in one transaction (two connections of the pool). The clone
 * gets no domains unless `options.domains` names some. A failure on either side stops both and
 * leaves no clone.
 *
 * @example
 * ```ts
 * declare const context: import('./backup-context.js').BackupContext;
 * const { tenant } = await cloneTenant(context, 'acme', 'acme-staging');
 * ```
 */
export async function cloneTenant(context: BackupContext, fromId: string, toId: string, options: CloneOptions = {}): Promise<RestoreSummary> {
  return pipeBackup(
    (pipe) => backupTenant(context, fromId, pipe, { compression: false, signal: options.signal }),
    (pipe) => restoreTenant(context, pipe, { ...options, id: toId }),
  );
}
