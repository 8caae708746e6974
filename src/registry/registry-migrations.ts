/**
 * The registry's own tables, applied by `tenancy.migrate.shared()` before the app's shared migrations.
 *
 * @module
 */
import { quoteIdent } from '../identifiers.js';
import type { Migration } from '../migrate/migration.js';
import { checksumOf } from '../migrate/migration.js';

/** The registry's table names, in the shared schema. */
export const TENANTS_TABLE = 'tenantry_tenants';
export const DOMAINS_TABLE = 'tenantry_domains';
/** The audit table of `tenancy.impersonate`, made when `createTenancy({ audit: true })`. */
export const AUDIT_TABLE = 'tenantry_audit';
/** The spare tenants of `createTenancy({ spares })`: schemas provisioned ahead, claimed by `registry.create`. */
export const SPARES_TABLE = 'tenantry_spares';

/**
 * A built-in shared migration from SQL text written for a quoted schema name; its checksum is
 * that of the text for the placeholder `$schema`, so it does not depend on the schema's name.
 *
 * @example
 * ```ts
 * const createThings = sqlMigration('tenantry:0900_things', (s) => `CREATE TABLE ${s}.things (id int)`);
 * createThings('public').name; // 'tenantry:0900_things'
 * ```
 */
export function sqlMigration(name: string, build: (schema: string) => string): (schema: string) => Migration {
  return (schema) => {
    const text = build(quoteIdent(schema));
    return { name, checksum: checksumOf(build('$schema')), up: (client) => client.query(text) };
  };
}

const createRegistry = sqlMigration(
  'tenantry:0001_registry',
  (s) => `
CREATE TABLE ${s}.${TENANTS_TABLE} (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name text NOT NULL,
  schema_name text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  placement text NOT NULL DEFAULT 'default',
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  migration_version text,
  migration_digest text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${TENANTS_TABLE}_status_id ON ${s}.${TENANTS_TABLE} (status, id);
CREATE INDEX ${TENANTS_TABLE}_digest ON ${s}.${TENANTS_TABLE} (migration_digest);
CREATE TABLE ${s}.${DOMAINS_TABLE} (
  domain text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES ${s}.${TENANTS_TABLE} (id) ON DELETE CASCADE,
  is_primary boolean NOT NULL DEFAULT false
);
CREATE INDEX ${DOMAINS_TABLE}_tenant ON ${s}.${DOMAINS_TABLE} (tenant_id);
CREATE UNIQUE INDEX ${DOMAINS_TABLE}_one_primary ON ${s}.${DOMAINS_TABLE} (tenant_id) WHERE is_primary;
`,
);

const movingStatus = sqlMigration(
  'tenantry:0002_moving_status',
  (s) => `
ALTER TABLE ${s}.${TENANTS_TABLE} DROP CONSTRAINT ${TENANTS_TABLE}_status_check;
ALTER TABLE ${s}.${TENANTS_TABLE} ADD CONSTRAINT ${TENANTS_TABLE}_status_check CHECK (status IN ('active', 'suspended', 'moving'));
`,
);

const tenantStrategy = sqlMigration(
  'tenantry:0003_tenant_strategy',
  (s) => `
ALTER TABLE ${s}.${TENANTS_TABLE} ADD COLUMN strategy text CHECK (strategy IN ('schema', 'rls'));
`,
);

const createAudit = sqlMigration(
  'tenantry:0101_audit',
  (s) => `
CREATE TABLE ${s}.${AUDIT_TABLE} (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  tenant_id text NOT NULL,
  actor text NOT NULL,
  reason text NOT NULL
);
CREATE INDEX ${AUDIT_TABLE}_tenant_at ON ${s}.${AUDIT_TABLE} (tenant_id, at);
`,
);

const createSpares = sqlMigration(
  'tenantry:0102_spares',
  (s) => `
CREATE TABLE ${s}.${SPARES_TABLE} (
  schema_name text PRIMARY KEY,
  role_name text,
  migration_version text,
  migration_digest text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ${SPARES_TABLE}_digest ON ${s}.${SPARES_TABLE} (migration_digest, created_at);
`,
);

/**
 * The spares table's migration, applied with the registry's when `createTenancy({ spares })` is
 * set. A row is a spare schema (and role) at a migration fingerprint; a claim deletes its row in
 * the transaction that renames the schema to the new tenant's.
 *
 * @example
 * ```ts
 * sparesMigration('public'); // { name: 'tenantry:0102_spares', … }
 * ```
 */
export function sparesMigration(schema: string): Migration {
  return createSpares(schema);
}

/**
 * The audit table's migration, applied with the registry's when `createTenancy({ audit: true })`.
 * Its rows outlive the tenant they name (no foreign key): an audit trail of a deleted tenant stays.
 *
 * @example
 * ```ts
 * auditMigration('public'); // { name: 'tenantry:0101_audit', … }
 * ```
 */
export function auditMigration(schema: string): Migration {
  return createAudit(schema);
}

/**
 * The registry migrations for a shared schema, in order.
 *
 * @example
 * ```ts
 * registryMigrations('public'); // [{ name: 'tenantry:0001_registry', … }]
 * ```
 */
export function registryMigrations(schema: string): readonly Migration[] {
  return [createRegistry(schema), movingStatus(schema), tenantStrategy(schema)];
}
