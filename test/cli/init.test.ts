import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/database.js';
import { cli, lines, recorded, tableExists, workspace } from './cli-harness.js';

const db = useTestDatabase();

/** Type-checks a config file's text with `tenantry` resolved to this repository's sources. */
function typeErrors(text: string): string[] {
  const file = resolve('tenantry.config.generated.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    skipLibCheck: true,
    baseUrl: resolve('.'),
    paths: { tenantry: ['src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (resolve(name) === file ? text : readFile(name));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file?.fileName !== undefined && resolve(diagnostic.file.fileName) === file)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

describe('tenantry init', () => {
  it('writes a TypeScript config and the migrations folders; the project then migrates', async () => {
    const cwd = await workspace();
    const result = await cli(['init'], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)).toEqual([
      'Wrote tenantry.config.ts, migrations/shared/001_plans.sql, migrations/tenant/001_products.sql',
      'Next: set DATABASE_URL (or connectionString in the config file), then run tenantry migrate',
    ]);
    const config = await readFile(join(cwd, 'tenantry.config.ts'), 'utf8');
    expect(config).toContain("shared: './migrations/shared'");
    expect(config).toContain('connectionString: process.env.DATABASE_URL');
    // Typed against tenantry's own config type: a misspelt key is a compile error in the editor.
    expect(typeErrors(config)).toEqual([]);
    expect(typeErrors(config.replace('migrations: {', 'migration: {'))).toEqual([expect.stringMatching(/'migration' does not exist in type 'TenantryConfig'/)]);

    // The generated files work as they are: the config (loaded with jiti) and both example migrations.
    const migrated = await cli(['migrate'], { cwd, databaseUrl: db.url });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(await tableExists(db.pool, 'public', 'plans')).toBe(true);
    expect((await cli(['tenants', 'create', 'acme'], { cwd, databaseUrl: db.url })).code).toBe(0);
    expect(await recorded(db.pool, 'tenant_acme')).toEqual(['001_products']);
  });

  it('refuses to overwrite without --force, and overwrites with it', async () => {
    const cwd = await workspace();
    await cli(['init'], { cwd });
    await writeFile(join(cwd, 'migrations/tenant/001_products.sql'), '-- mine');
    const again = await cli(['init'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      'tenantry: tenantry.config.ts, migrations/shared/001_plans.sql, migrations/tenant/001_products.sql already exist: pass --force to overwrite (nothing was written)\n',
    );
    expect(await readFile(join(cwd, 'migrations/tenant/001_products.sql'), 'utf8')).toBe('-- mine');
    expect((await cli(['init', '--force'], { cwd })).code).toBe(0);
    expect(await readFile(join(cwd, 'migrations/tenant/001_products.sql'), 'utf8')).toContain('CREATE TABLE products');

    const js = await cli(['init', '--js', '--force'], { cwd });
    expect(js.code).toBe(2);
    expect(js.stderr).toBe('tenantry: tenantry.config.ts already exists; remove it first (two config files would be ambiguous)\n');
  });

  it('--js writes tenantry.config.mjs, which loads', async () => {
    const cwd = await workspace();
    const result = await cli(['init', '--js', '--json'], { cwd });
    expect(JSON.parse(result.stdout)).toEqual({
      written: ['tenantry.config.mjs', 'migrations/shared/001_plans.sql', 'migrations/tenant/001_products.sql'],
    });
    const status = await cli(['status'], { cwd, databaseUrl: db.url });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^Shared schema "public": /);
  });
});
