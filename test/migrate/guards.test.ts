import { describe, expect, it } from 'vitest';
import { createTenancy, type Migration } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { tableExists, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();

const table = (name: string): Migration => ({ name, checksum: name, up: (c) => c.query(`CREATE TABLE ${name} (id int)`) });

describe('migration guards', () => {
  it('refuses a migration that commits the transaction it runs in', async () => {
    const names = uniqueNames('commit');
    const committing: Migration = { name: '002_commits', checksum: 'c', up: (c) => c.query('CREATE TABLE sneaky (id int); COMMIT') };
    const tenancy = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [table('t001'), committing] } });
    await tenancy.migrate.shared();
    const error = await tenancy.registry.create({ id: 'acme' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TENANTRY_MIGRATION_FAILED', migration: '002_commits', tenantId: 'acme' });
    expect(String((error as Error).message)).toMatch(/ended the transaction/);
  });

  it('finishes every tenant before rethrowing an error of onProgress', async () => {
    const names = uniqueNames('progress');
    const v1 = [table('p001')];
    const first = createTenancy({ pool: db.pool, ...names, migrations: { tenant: v1 } });
    await first.migrate.shared();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    for (const id of ids) await first.registry.create({ id });
    const second = createTenancy({ pool: db.pool, ...names, migrations: { tenant: [...v1, table('p002')] } });
    const calls: string[] = [];
    await expect(
      second.migrate.tenants({
        concurrency: 2,
        onProgress: (progress) => {
          calls.push(progress.tenantId);
          if (progress.done === 1) throw new Error('progress bar broke');
        },
      }),
    ).rejects.toThrow('progress bar broke');
    expect(calls.sort()).toEqual(ids);
    for (const id of ids) expect(await tableExists(db.pool, `${names.schemaPrefix}${id}`, 'p002')).toBe(true);
  });

  it('refuses two migrations with one name with a typed error', async () => {
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('dupes'), migrations: { tenant: [table('x1'), table('x1')] } });
    await tenancy.migrate.shared();
    await expect(tenancy.registry.create({ id: 'acme' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
  });
});
