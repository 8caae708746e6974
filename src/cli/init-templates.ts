/**
 * The files `tenantry init` writes.
 *
 * @module
 */

/**
 * The config file, commented, for TypeScript (`.ts`) or JavaScript (`.mjs`).
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('tenantry.config.ts', configTemplate('ts'));
 * ```
 */
export function configTemplate(language: 'ts' | 'js'): string {
  const loaded = language === 'ts' ? 'TypeScript, loaded as it is: no build step' : 'an ES module';
  // A type-only import: the editor checks the keys (an unknown one is an error), and nothing is
  // imported when the command loads the file.
  const typed = language === 'ts' ? "import type { TenantryConfig } from 'tenantry';\n\n" : '';
  const head = language === 'ts' ? 'export default {' : "/** @type {import('tenantry').TenantryConfig} */\nexport default {";
  const tail = language === 'ts' ? '} satisfies TenantryConfig;' : '};';
  return `${typed}/**
 * Configuration of the tenantry command (tenantry migrate, tenantry status, tenantry tenants …),
 * ${loaded}. It default-exports the options of createTenancy(), with a
 * database URL instead of a pool; it may also export a function (possibly async) returning them.
 */
${head}
  // The database. --database-url overrides it; when it is unset, the DATABASE_URL environment
  // variable is used.
  connectionString: process.env.DATABASE_URL,

  // Migration folders, relative to this file. Shared migrations run once, in the shared schema;
  // tenant migrations run in every tenant's schema, and in full when a tenant is created.
  // Both take .sql files and modules exporting up(client), applied in name order.
  migrations: {
    shared: './migrations/shared',
    tenant: './migrations/tenant',
  },

  // The schema of the tenant registry and the shared tables (default 'public').
  // sharedSchema: 'public',

  // The prefix of tenant schema names: tenant "acme" gets the schema "tenant_acme".
  // schemaPrefix: 'tenant_',

  // More options for the pg.Pool the command creates, for example TLS:
  // poolOptions: { ssl: { rejectUnauthorized: true } },
${tail}
`;
}

/**
 * The example migrations, by path relative to the config file's folder.
 *
 * @example
 * ```ts
 * Object.keys(EXAMPLE_MIGRATIONS); // ['migrations/shared/001_plans.sql', 'migrations/tenant/001_products.sql']
 * ```
 */
export const EXAMPLE_MIGRATIONS: Readonly<Record<string, string>> = {
  'migrations/shared/001_plans.sql': `-- A shared migration: it runs once, in the shared schema (public by default).
-- Shared tables hold what belongs to no tenant: plans, feature flags, the tenant registry.
-- Each file runs in a transaction; do not write BEGIN or COMMIT.
CREATE TABLE plans (
  id text PRIMARY KEY,
  name text NOT NULL
);
`,
  'migrations/tenant/001_products.sql': `-- A tenant migration: it runs in every tenant's schema, each tenant in its own transaction
-- (do not write BEGIN or COMMIT). Unqualified names are the tenant's tables; shared tables are
-- found after them, so a tenant table can reference plans (id).
-- A new tenant gets every tenant migration when it is created.
CREATE TABLE products (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
`,
};
