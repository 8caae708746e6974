/**
 * Finds and loads `tenantry.config.{ts,mts,js,mjs}`. TypeScript is loaded with jiti, so no
 * build step is needed.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './cli-error.js';
import { CONFIG_KEYS, type TenantryConfig } from './define-config.js';

/**
 * The file names looked for in the working directory, in this order.
 *
 * @example
 * ```ts
 * CONFIG_FILES[0]; // 'tenantry.config.ts'
 * ```
 */
export const CONFIG_FILES = ['tenantry.config.ts', 'tenantry.config.mts', 'tenantry.config.js', 'tenantry.config.mjs'] as const;

/**
 * A configuration and where it came from.
 *
 * @example
 * ```ts
 * const loaded: LoadedConfig = { path: '/app/tenantry.config.ts', config: { migrations: { tenant: './migrations/tenant' } } };
 * ```
 */
export interface LoadedConfig {
  /** The absolute path of the file. */
  readonly path: string;
  readonly config: TenantryConfig;
}

/**
 * Loads the config file: `explicitPath` (resolved against `cwd`), else the one
 * `tenantry.config.*` in `cwd`. Resolves `undefined` when there is none. A default export that
 * is a function is called (and awaited). Throws {@link ConfigError} when the file is missing,
 * does not load, does not default-export an object, or has a key that is not an option, and when
 * `cwd` holds several config files.
 *
 * @example
 * ```ts
 * const loaded = await loadConfig(process.cwd());
 * loaded?.config.migrations; // { shared: './migrations/shared', tenant: './migrations/tenant' }
 * ```
 */
export async function loadConfig(cwd: string, explicitPath?: string): Promise<LoadedConfig | undefined> {
  const path = explicitPath === undefined ? findConfig(cwd) : resolve(cwd, explicitPath);
  if (path === undefined) return undefined;
  if (!existsSync(path)) throw new ConfigError(`The config file ${path} does not exist: check --config, or run tenantry init`);
  let exported: unknown;
  try {
    exported = await importDefault(path);
  } catch (error) {
    throw new ConfigError(`Cannot load ${basename(path)}: ${firstLine(error)}`, { cause: error });
  }
  if (typeof exported === 'function') {
    try {
      exported = await (exported as () => unknown)();
    } catch (error) {
      throw new ConfigError(`The function exported by ${basename(path)} failed: ${firstLine(error)}`, { cause: error });
    }
  }
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
    throw new ConfigError(
      `${basename(path)} must default-export the configuration object (or a function returning it), got ${exported === null ? 'null' : typeof exported}`,
    );
  }
  checkKeys(exported, path);
  return { path, config: exported as TenantryConfig };
}

/** Refuses a key that is not an option (a typo such as `migration` would otherwise be ignored). */
function checkKeys(config: object, path: string): void {
  const known: readonly string[] = CONFIG_KEYS;
  const unknown = Object.keys(config).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => JSON.stringify(key)).join(', ');
  throw new ConfigError(`Unknown ${unknown.length === 1 ? 'key' : 'keys'} ${names} in ${basename(path)}: the known keys are ${CONFIG_KEYS.join(', ')}`);
}

function findConfig(cwd: string): string | undefined {
  const found = CONFIG_FILES.filter((file) => existsSync(resolve(cwd, file)));
  if (found.length > 1) {
    throw new ConfigError(`Several config files in ${cwd} (${found.join(', ')}): keep one, or pick one with --config`);
  }
  return found[0] === undefined ? undefined : resolve(cwd, found[0]);
}

/**
 * The default export of a module file: `.mjs` through Node's own import, anything else (`.ts`,
 * `.mts`, `.js`, `.cjs`) through jiti, so TypeScript needs no loader.
 *
 * @example
 * ```ts
 * const run = await importDefault('/app/scripts/recount.ts');
 * ```
 */
export async function importDefault(path: string): Promise<unknown> {
  if (extname(path) === '.mjs') {
    const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
    return module.default;
  }
  const { createJiti } = await import('jiti');
  const jiti = createJiti(path, { moduleCache: false, interopDefault: true });
  const module = await jiti.import<{ default?: unknown }>(path);
  return typeof module === 'object' && module !== null && 'default' in module ? module.default : undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

