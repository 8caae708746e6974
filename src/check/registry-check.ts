/**
 * The start-up check that the registry's tables are there, at the version this tenantry needs.
 *
 * @module
 */
import { RegistryNotMigratedError } from '../errors.js';
import { readSchemaState } from '../migrate/schema-state.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { passed, skipped } from './startup-check.js';

const NAME = 'registry';

/**
 * Compares the built-in registry migrations with those recorded in the shared schema; any not
 * applied throws `RegistryNotMigratedError` (run `tenancy.migrate.shared()`).
 *
 * @example
 * ```ts
 * declare const context: import('./startup-check.js').CheckContext;
 * await registryCheck(context); // throws RegistryNotMigratedError before the first migrate.shared()
 * ```
 */
export async function registryCheck({ pool, sharedSchema, builtInShared }: CheckContext): Promise<CheckResult> {
  if (pool === undefined || builtInShared.length === 0) return skipped(NAME, 'the registry keeps no tables in the database');
  const { pending } = await readSchemaState(pool, sharedSchema, builtInShared);
  if (pending.length > 0) {
    throw new RegistryNotMigratedError(sharedSchema, { missing: pending, present: pending.length < builtInShared.length });
  }
  return passed(NAME);
}
