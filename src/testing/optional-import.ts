/**
 * Imports an optional peer dependency, or says how to install it.
 *
 * @module
 */
import { InvalidConfigError } from '../errors.js';

/** Whether an import failed because the package is not installed (not because it threw while loading). */
export function isMissingModule(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(name);
}

/**
 * Imports `name`, or throws an error that says how to install it.
 *
 * @example
 * ```ts
 * const pg = await importOptional<typeof import('pg')>('pg', 'to create test databases');
 * ```
 */
export async function importOptional<T>(name: string, why: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (isMissingModule(error, name)) {
      throw new InvalidConfigError(`Cannot import \`${name}\`, needed ${why}. Make sure it is installed: npm install -D ${name}`, {
        cause: error,
      });
    }
    throw error;
  }
}
