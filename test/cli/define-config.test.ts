/**
 * defineConfig's types: every option is accepted, and a key that is not one is a type error, in
 * an object and in what a function (sync or async) returns. `npm run typecheck` checks the
 * `@ts-expect-error` lines; vitest checks the `expectTypeOf` ones and the run-time refusal.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { CONFIG_KEYS, defineConfig, type TenantryConfig } from '../../src/cli/define-config.js';
import { loadConfig } from '../../src/cli/load-config.js';
import { defineConfig as exported } from '../../src/index.js';

describe('defineConfig types', () => {
  it('accepts a configuration object and returns it typed', () => {
    const config = defineConfig({
      connectionString: 'postgres://postgres@127.0.0.1:5432/app',
      sharedSchema: 'public',
      schemaPrefix: 'tenant_',
      migrations: { shared: './migrations/shared', tenant: './migrations/tenant' },
      poolOptions: { statement_timeout: 10_000 },
      tenantRoles: true,
    });
    expectTypeOf(config).toEqualTypeOf<TenantryConfig>();
    expectTypeOf(exported).toEqualTypeOf(defineConfig);
  });

  it('accepts a function, sync or async, and returns it as it is', () => {
    const sync = defineConfig(() => ({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/app' }));
    expectTypeOf(sync).returns.toEqualTypeOf<{ databaseUrl: string }>();
    const async = defineConfig(async () => ({ migrations: { tenant: './migrations/tenant' } }));
    expectTypeOf(async).returns.resolves.toEqualTypeOf<{ migrations: { tenant: string } }>();
    const conditional = defineConfig(async () => (process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : {}));
    expectTypeOf(conditional).toBeFunction();
  });

  it('makes a key that is not an option a type error', () => {
    // @ts-expect-error -- `migration` is not an option (a typo of `migrations`).
    defineConfig({ migration: { tenant: './migrations/tenant' } });
    // @ts-expect-error -- nested keys are checked in an object too.
    defineConfig({ migrations: { tenants: './migrations/tenant' } });
    // @ts-expect-error -- `url` is not an option (`connectionString` or `databaseUrl` is).
    defineConfig(() => ({ url: 'postgres://postgres@127.0.0.1:5432/app' }));
    // @ts-expect-error -- the same in what an async function resolves to.
    defineConfig(async () => ({ sharedSchema: 'public', shemaPrefix: 'tenant_' }));
    // @ts-expect-error -- a value of the wrong type is an error as before.
    defineConfig({ sharedSchema: 42 });
    expect(true).toBe(true);
  });

  it('lists every key of TenantryConfig in CONFIG_KEYS, sorted', () => {
    expectTypeOf<(typeof CONFIG_KEYS)[number]>().toEqualTypeOf<keyof TenantryConfig>();
    expect([...CONFIG_KEYS]).toEqual([...CONFIG_KEYS].sort());
  });
});

describe('loadConfig', () => {
  const folders: string[] = [];
  afterAll(async () => {
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

  async function configFile(source: string): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'tenantry-config-'));
    folders.push(folder);
    await writeFile(join(folder, 'tenantry.config.mjs'), source);
    return folder;
  }

  it('refuses unknown keys with a ConfigError that names them and the known keys', async () => {
    const cwd = await configFile("export default { connectionString: 'postgres://x', url: 'postgres://y', shemaPrefix: 't_' };");
    const error = await loadConfig(cwd).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ name: 'ConfigError', code: 'TENANTRY_CLI_CONFIG', exitCode: 2 });
    expect((error as Error).message).toBe(`Unknown keys "url", "shemaPrefix" in tenantry.config.mjs: the known keys are ${CONFIG_KEYS.join(', ')}`);
  });

  it('loads a configuration that uses only known keys', async () => {
    const cwd = await configFile("export default { sharedSchema: 'app', migrations: { tenant: './t' } };");
    expect((await loadConfig(cwd))?.config).toEqual({ sharedSchema: 'app', migrations: { tenant: './t' } });
  });
});
