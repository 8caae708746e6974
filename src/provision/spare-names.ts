/**
 * The reserved names of spare tenants: names no tenant id can be given.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InvalidConfigError } from '../errors.js';
import type { TenantRoleNames } from '../strategy/tenant-roles.js';

const MAX_IDENTIFIER_BYTES = 63;
const RANDOM_HEX = 16;
const SCHEMA_MARK = '_spare_';
const ROLE_MARK = 'spare_';

/**
 * A spare's schema and role (`undefined` with tenant roles off).
 *
 * @example
 * ```ts
 * const names: SpareNames = { schema: 'tenant__spare_0f3a9c1d2e4b5a67', role: 'tenantry_spare_0f3a9c1d2e4b5a67' };
 * ```
 */
export interface SpareNames {
  readonly schema: string;
  readonly role: string | undefined;
}

/**
 * Refuses a schema prefix too long to leave room for a spare's name (prefix, `_spare_` and 16 hex
 * digits within 63 bytes).
 *
 * @example
 * ```ts
 * assertSparePrefix('tenant_'); // fine
 * ```
 */
export function assertSparePrefix(schemaPrefix: string): void {
  if (Buffer.byteLength(schemaPrefix) + SCHEMA_MARK.length + RANDOM_HEX > MAX_IDENTIFIER_BYTES) {
    throw new InvalidConfigError(
      `spares need a schemaPrefix of at most ${MAX_IDENTIFIER_BYTES - SCHEMA_MARK.length - RANDOM_HEX} bytes, got ${JSON.stringify(schemaPrefix)}`,
    );
  }
}

/**
 * New random names for a spare. The schema is the tenant prefix, `_spare_` and 16 hex digits: a
 * tenant's derived schema name has a letter or digit right after the prefix (ids start with one),
 * so none is a spare's. The role is the role prefix, `spare_` and the same digits: a tenant's role
 * has no `_` after the prefix unless it is cut to exactly 63 bytes, and a spare's role is shorter.
 *
 * @example
 * ```ts
 * newSpareNames('tenant_', undefined); // { schema: 'tenant__spare_…', role: undefined }
 * ```
 */
export function newSpareNames(schemaPrefix: string, roles: TenantRoleNames | undefined): SpareNames {
  const random = randomBytes(RANDOM_HEX / 2).toString('hex');
  return { schema: `${schemaPrefix}${SCHEMA_MARK}${random}`, role: roles === undefined ? undefined : `${roles.prefix}${ROLE_MARK}${random}` };
}
