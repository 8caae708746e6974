/**
 * `tenantry/kysely`: the Kysely plugin and Kysely tenant migrations.
 *
 * @example
 * ```ts
 * import { tenantPlugin, kyselyMigrations } from 'tenantry/kysely';
 * ```
 *
 * @module
 */
export { tenantPlugin } from './tenant-plugin.js';
export type { TenantPluginOptions } from './tenant-plugin.js';
export { kyselyMigrations } from './kysely-migrations.js';
