/**
 * The start-up check that the app's shared migrations are applied.
 *
 * @module
 */
import { readSchemaState } from '../migrate/schema-state.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { counted, listSome, skipped, warnedIf } from './startup-check.js';

const NAME = 'shared migrations';

/**
 * Warns about shared migrations not applied yet, and about applied ones edited since.
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await sharedMigrationsCheck(context);
 * // { name: 'shared migrations', status: 'warned', warnings: ['1 shared migration is not applied in schema "public" (002_prices): …'] }
 * ```
 */
export async function sharedMigrationsCheck({ pool, sharedSchema, sharedMigrations }: CheckContext): Promise<CheckResult> {
  if (pool === undefined) return skipped(NAME, 'no pool');
  const migrations = await sharedMigrations.load();
  if (migrations.length === 0) return skipped(NAME, 'no shared migrations');
  const { pending, changed } = await readSchemaState(pool, sharedSchema, migrations);
  const schema = JSON.stringify(sharedSchema);
  const warnings: string[] = [];
  if (pending.length > 0) {
    warnings.push(
      `${counted(pending.length, 'shared migration', 'is', 'are')} not applied in schema ${schema} (${listSome(pending)}): ` +
        'run tenancy.migrate.shared() (or tenantry migrate --shared)',
    );
  }
  if (changed.length > 0) {
    warnings.push(
      `${counted(changed.length, 'shared migration', 'was', 'were')} edited after being applied to schema ${schema} (${listSome(changed)}): ` +
        'put the change in a new migration, or accept the edit with migrate.shared({ allowChanged: true })',
    );
  }
  return warnedIf(NAME, warnings);
}
