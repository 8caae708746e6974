/**
 * `tenantry init`: a commented config file and the two migrations folders, with an example each.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { ExitCode, UsageError } from '../cli-error.js';
import type { CommandContext } from '../command-context.js';
import { configTemplate, EXAMPLE_MIGRATIONS } from '../init-templates.js';
import { CONFIG_FILES } from '../load-config.js';

/**
 * Runs `tenantry init`: writes `tenantry.config.ts` (`.mjs` with `--js`, or the `--config` path)
 * and `migrations/shared`, `migrations/tenant` beside it, each with a first example migration.
 * Refuses (exit code 2, nothing written) when a file exists, unless `--force`; another config
 * file in the folder is never overwritten, since two would be ambiguous.
 *
 * @example
 * ```ts
 * declare const ctx: import('../command-context.js').CommandContext;
 * await initCommand(ctx); // tenantry init --js
 * ```
 */
export async function initCommand(ctx: CommandContext): Promise<number> {
  const { cwd } = ctx.io;
  const configPath = resolve(cwd, ctx.connection.config ?? (ctx.values.js === true ? 'tenantry.config.mjs' : 'tenantry.config.ts'));
  const extension = extname(configPath);
  if (!['.ts', '.mts', '.js', '.mjs'].includes(extension)) {
    throw new UsageError(`tenantry init writes a .ts, .mts, .js or .mjs config file, not ${JSON.stringify(configPath)}`);
  }
  const base = dirname(configPath);
  const files = new Map<string, string>([[configPath, configTemplate(extension.endsWith('ts') ? 'ts' : 'js')]]);
  for (const [path, text] of Object.entries(EXAMPLE_MIGRATIONS)) files.set(join(base, path), text);

  const others = CONFIG_FILES.map((file) => join(base, file)).filter((path) => path !== configPath && existsSync(path));
  if (others.length > 0) {
    throw new UsageError(`${others.map((path) => relative(cwd, path)).join(', ')} already exists; remove it first (two config files would be ambiguous)`);
  }
  const existing = [...files.keys()].filter((path) => existsSync(path));
  if (existing.length > 0 && ctx.values.force !== true) {
    throw new UsageError(`${existing.map((path) => relative(cwd, path)).join(', ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to overwrite (nothing was written)`);
  }
  for (const [path, text] of files) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
  const written = [...files.keys()].map((path) => relative(cwd, path));
  ctx.output.line(`Wrote ${written.join(', ')}`);
  ctx.output.line('Next: set DATABASE_URL (or connectionString in the config file), then run tenantry migrate');
  ctx.output.result({ written });
  return ExitCode.ok;
}
