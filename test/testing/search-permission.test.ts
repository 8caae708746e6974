import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { grantSearchPermission } from '../../src/testing/search-permission.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('grantSearchPermission', () => {
  let base: string | undefined;
  afterEach(async () => {
    if (base !== undefined) await rm(base, { recursive: true, force: true });
  });

  it('adds o+x to the closed directories above a file, and nothing else to anything', async () => {
    base = await mkdtemp(join(tmpdir(), 'tenantry-search-'));
    const closed = join(base, 'closed');
    const open = join(closed, 'open');
    await mkdir(open, { recursive: true });
    const file = join(open, 'initdb');
    await writeFile(file, '');
    const { chmod } = await import('node:fs/promises');
    await chmod(base, 0o700);
    await chmod(closed, 0o750);
    await chmod(open, 0o755);
    await chmod(file, 0o600);

    expect(await grantSearchPermission(file)).toEqual([base, closed]);
    expect(await modeOf(base)).toBe(0o701);
    expect(await modeOf(closed)).toBe(0o751);
    expect(await modeOf(open)).toBe(0o755);
    expect(await modeOf(file)).toBe(0o600);
    expect(await grantSearchPermission(file)).toEqual([]);
  });
});
