/**
 * tenantry: multi-tenancy for Node.js and PostgreSQL.
 *
 * @example
 * ```ts
 * import { createTenancy } from 'tenantry';
 * const tenancy = createTenancy({ pool, migrations: { tenant: './migrations/tenant' } });
 * ```
 *
 * @module
 */
export { createTenancy } from './tenancy.js';
export type { Tenancy, TenancyOptions, Impersonator } from './tenancy.js';
export type { TenantRoleNames, TenantRolesOptions } from './strategy/tenant-roles.js';
export type { TenancyStrategy } from './strategy/tenancy-strategy.js';
export { tenantDatabase } from './strategy/database.js';
export type { DatabaseStrategyOptions } from './strategy/database.js';
export type { TenantSpares, SparesOptions, SparesStatus, SpareInfo, SparesFillReport, SparesFillProgress } from './provision/spare-pool.js';
export { channels } from './diagnostics.js';
export type {
  RequestResolvedEvent,
  ScopeEnteredEvent,
  QueryScopedEvent,
  TenantMigrationEvent,
  ProvisioningEvent,
  ImpersonationEvent,
  PoolDecisionEvent,
  BackupEvent,
} from './diagnostics.js';
export { TenantContext } from './context.js';
export type { TenantScope } from './context.js';
export type { Tenant, TenantDomain, TenantStatus } from './types.js';
export type { PoolLike, PoolClientLike, Queryable, QueryResultLike } from './db.js';
export {
  TenancyError,
  isTenancyError,
  InvalidTenantIdError,
  InvalidSchemaNameError,
  InvalidDomainError,
  InvalidConfigError,
  TenantNotFoundError,
  TenantExistsError,
  TenantSuspendedError,
  NoTenantError,
  TenantMismatchError,
  TenantForbiddenError,
  TenantRequiredError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  MigrationChecksumError,
  RegistryNotMigratedError,
  DatabaseUnavailableError,
  TenantsFailedError,
  RowSecurityBypassedError,
  SchemaPlacedTenantsError,
  SharedNameCollisionError,
  BackupArchiveError,
  BackupMigrationsError,
  UnknownServerError,
  TenantMovingError,
} from './errors.js';
export type { TenancyErrorCode } from './errors.js';
export {
  assertTenantId,
  isValidTenantId,
  tenantIdProblem,
  assertSchemaName,
  schemaNameProblem,
  defaultSchemaName,
  quoteIdent,
} from './identifiers.js';
export { normalizeDomain } from './domains.js';
export type {
  TenantRegistry,
  CreateTenantInput,
  UpdateTenantInput,
  ListTenantsInput,
  TenantPage,
  MigrationRecord,
} from './registry/registry.js';
export { PostgresRegistry } from './registry/postgres-registry.js';
export type { PostgresRegistryOptions } from './registry/postgres-registry.js';
export { MemoryRegistry } from './registry/memory-registry.js';
export type { MemoryRegistryOptions } from './registry/memory-registry.js';
export { folderMigrations } from './migrate/folder-source.js';
export { createReferenceTables } from './migrate/reference-tables.js';
export type { Migration, MigrationSource, MigrationsInput, SqlScript } from './migrate/migration.js';
export type {
  Migrator,
  MigrationResult,
  MigrationProgress,
  MigrateTenantsOptions,
  MigrateTenantsReport,
} from './migrate/migrator.js';
export type { RequestTenant } from './tenancy.js';
export { tenantJobData, tenantJobHandler } from './fleet/tenant-jobs.js';
export type { TenantJobData, JobLike } from './fleet/tenant-jobs.js';
export type { DriftReport, DriftOptions, TenantDrift, SchemaDifference } from './fleet/schema-drift.js';
export type { CatalogItemKind } from './fleet/schema-catalog.js';
export type { ForEachTenantOptions, ForEachTenantProgress, ForEachTenantCall, ForEachTenantReport, TenantFailure } from './fleet/for-each-tenant.js';
export type { TenancyCheckReport, CheckResult } from './check/startup-check.js';
export type { BackupOptions } from './backup/backup-tenant.js';
export type { BackupSummary } from './backup/backup-schema.js';
export type { WriteArchiveOptions } from './backup/archive-writer.js';
export type { BackupProgress, CopyControl } from './backup/copy-control.js';
export type { BackupManifest, BackupTable, BackupSequence, BackupTenant, TableEnd } from './backup/backup-manifest.js';
export type { RestoreOptions, RestoreSummary } from './backup/restore-tenant.js';
export type { MoveOptions, MoveSummary } from './provision/move-tenant.js';
export type { StrategyMoveSummary, StrategyTarget } from './strategy/strategy-move.js';
export type { ServerInput } from './placement/servers.js';
export type { RestoreMigrationOptions } from './backup/restore-migrations.js';
export type { CloneOptions } from './backup/clone-tenant.js';
export type { ExportOptions, ExportSummary } from './backup/export-tenant.js';
export type { TenantCacheOptions } from './registry/tenant-cache.js';
export { parseHost } from './hosts.js';
export type { ParsedHost } from './hosts.js';
export {
  subdomainResolver,
  domainResolver,
  pathResolver,
  headerResolver,
  chainResolvers,
} from './resolvers/index.js';
export type {
  TenantRequest,
  TenantMatch,
  TenantResolver,
  ResolverContext,
  SubdomainResolverOptions,
  PathResolverOptions,
  HeaderResolverOptions,
} from './resolvers/index.js';
export { defineConfig } from './cli/define-config.js';
export type { TenantryConfig, TenantryConfigInput, TenantryConfigFunction, KnownConfigKeysOnly, UnknownConfigKeys } from './cli/define-config.js';
export { CONFIG_KEYS } from './cli/define-config.js';
