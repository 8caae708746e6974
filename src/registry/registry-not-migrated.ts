/**
 * Recognises the database error of a registry whose tables were never created.
 *
 * @module
 */
import { sqlState } from '../db.js';
import { RegistryNotMigratedError } from '../errors.js';
import { DOMAINS_TABLE, SPARES_TABLE, TENANTS_TABLE } from './registry-migrations.js';

const REGISTRY_TABLE = new RegExp(`\\b(${TENANTS_TABLE}|${DOMAINS_TABLE}|${SPARES_TABLE})\\b`);
const STRATEGY_COLUMN = /^column "?(\w+\.)?strategy"? does not exist/;

/**
 * The {@link RegistryNotMigratedError} for an "undefined table" error (SQLSTATE 42P01) that names
 * a registry table, with that error as its cause; `undefined` for any other error.
 *
 * @example
 * ```ts
 * await pool.query('SELECT * FROM public.tenantry_tenants').catch((error) => {
 *   throw registryNotMigrated(error, 'public') ?? error;
 * });
 * ```
 */
export function registryNotMigrated(error: unknown, sharedSchema: string): RegistryNotMigratedError | undefined {
  if (!(error instanceof Error)) return undefined;
  const state = sqlState(error);
  if (state === '42P01' && REGISTRY_TABLE.test(error.message)) return new RegistryNotMigratedError(sharedSchema, { cause: error });
  // A registry made before tenantry:0003_tenant_strategy: its tenants table lacks the strategy column.
  if (state === '42703' && STRATEGY_COLUMN.test(error.message)) {
    return new RegistryNotMigratedError(sharedSchema, { cause: error, missing: ['tenantry:0003_tenant_strategy'], present: true });
  }
  return undefined;
}
