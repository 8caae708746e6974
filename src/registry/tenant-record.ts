/**
 * Validation and shaping shared by every registry implementation.
 *
 * @module
 */
import { normalizeDomain } from '../domains.js';
import { InvalidConfigError } from '../errors.js';
import { assertSchemaName, assertTenantId, defaultSchemaName } from '../identifiers.js';
import type { Tenant, TenantStatus } from '../types.js';
import type { CreateTenantInput, ListTenantsInput, UpdateTenantInput } from './registry.js';

/** A create input after validation, with every default filled in. */
export interface NewTenant {
  readonly id: string;
  readonly name: string;
  readonly schema: string;
  readonly status: TenantStatus;
  readonly placement: string;
  readonly metadata: Record<string, unknown>;
  readonly domains: readonly string[];
}

/** Checks a create input and fills in the defaults; bad input throws a typed error before any I/O. */
export function newTenant(input: CreateTenantInput, schemaPrefix: string): NewTenant {
  if (typeof input !== 'object' || input === null) throw new InvalidConfigError('registry.create expects { id, name? }');
  assertTenantId(input.id);
  const schema = input.schema ?? defaultSchemaName(input.id, schemaPrefix);
  assertSchemaName(schema);
  const domains = [...new Set((input.domains ?? []).map(normalizeDomain))];
  return {
    id: input.id,
    name: checkName(input.name ?? input.id),
    schema,
    status: checkStatus(input.status ?? 'active'),
    placement: checkPlacement(input.placement ?? 'default'),
    metadata: checkMetadata(input.metadata ?? {}),
    domains,
  };
}

/** Checks an update input; returns only the fields it sets. */
export function tenantChanges(input: UpdateTenantInput): UpdateTenantInput {
  if (typeof input !== 'object' || input === null) throw new InvalidConfigError('registry.update expects an object');
  return {
    ...(input.name === undefined ? {} : { name: checkName(input.name) }),
    ...(input.placement === undefined ? {} : { placement: checkPlacement(input.placement) }),
    ...(input.metadata === undefined ? {} : { metadata: checkMetadata(input.metadata) }),
  };
}

/** Checks list paging; returns the limit to use. */
export function listLimit(input: ListTenantsInput): number {
  const limit = input.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidConfigError(`list limit must be an integer from 1 to 1000, got ${String(limit)}`);
  }
  if (input.status !== undefined) checkStatus(input.status, true);
  return limit;
}

/** Builds the frozen Tenant object handed to users. */
export function freezeTenant(fields: Tenant): Tenant {
  return Object.freeze({
    id: fields.id,
    name: fields.name,
    schema: fields.schema,
    status: fields.status,
    placement: fields.placement,
    metadata: Object.freeze({ ...fields.metadata }),
    migrationVersion: fields.migrationVersion,
    strategy: fields.strategy ?? null,
    createdAt: new Date(fields.createdAt),
    updatedAt: new Date(fields.updatedAt),
  });
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200) {
    throw new InvalidConfigError('A tenant name must be a non-empty string of at most 200 characters');
  }
  return name;
}

/** A status a tenant may be created with; a listing may also ask for `moving` ones (tenancy.move sets it). */
function checkStatus(status: unknown, listing = false): TenantStatus {
  if (status !== 'active' && status !== 'suspended' && !(listing && status === 'moving')) {
    throw new InvalidConfigError(`A tenant status is "active" or "suspended"${listing ? ' (or "moving")' : ''}, got ${JSON.stringify(status)}`);
  }
  return status;
}

function checkPlacement(placement: unknown): string {
  if (typeof placement !== 'string' || !/^[a-zA-Z0-9_.:-]{1,63}$/.test(placement)) {
    throw new InvalidConfigError('A placement is 1 to 63 of letters, digits, "_", ".", ":" and "-"');
  }
  return placement;
}

function checkMetadata(metadata: unknown): Record<string, unknown> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidConfigError('Tenant metadata must be a plain object');
  }
  return metadata as Record<string, unknown>;
}

/**
 * A row of the registry's tenants table, as `SELECT id, name, schema_name, …` returns it.
 *
 * @example
 * ```ts
 * declare const row: TenantRow;
 * row.schema_name; // 'tenant_acme'
 * ```
 */
export interface TenantRow {
  id: string;
  name: string;
  schema_name: string;
  status: TenantStatus;
  placement: string;
  metadata: Record<string, unknown>;
  migration_version: string | null;
  /** Where the tenant lives when not where its tenancy's strategy puts tenants (`tenancy.move(id, { strategy })`). */
  strategy?: 'schema' | 'rls' | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * The frozen Tenant of a registry row.
 *
 * @example
 * ```ts
 * declare const row: TenantRow;
 * tenantFromRow(row).schema; // row.schema_name
 * ```
 */
export function tenantFromRow(row: TenantRow): Tenant {
  return freezeTenant({
    id: row.id,
    name: row.name,
    schema: row.schema_name,
    status: row.status,
    placement: row.placement,
    metadata: row.metadata,
    migrationVersion: row.migration_version,
    strategy: row.strategy ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
