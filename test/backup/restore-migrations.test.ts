import { describe, expect, it } from 'vitest';
import { migrationsAtBackup } from '../../src/backup/restore-migrations.js';
import { dependencyOrder } from '../../src/backup/table-order.js';
import { BackupMigrationsError, type Migration } from '../../src/index.js';

const migration = (name: string, checksum = 'c'): Migration => ({ name, checksum, up: async () => undefined });

describe('migrationsAtBackup', () => {
  const app = [migration('001_a'), migration('002_b'), migration('003_c'), migration('tenantry:tenant-roles:x_')];

  it("returns the app's migrations the archive had, in the app's order", () => {
    const archived = [{ name: '002_b', checksum: 'c' }, { name: '001_a', checksum: 'c' }];
    expect(migrationsAtBackup(archived, app).map((m) => m.name)).toEqual(['001_a', '002_b']);
  });

  it("ignores tenantry's own markers of the source, and takes the target's only when the archive had them", () => {
    const archived = [{ name: '001_a', checksum: 'c' }, { name: 'tenantry:tenant-roles:other_', checksum: '1' }];
    expect(migrationsAtBackup(archived, app).map((m) => m.name)).toEqual(['001_a']);
    expect(migrationsAtBackup([{ name: 'tenantry:tenant-roles:x_', checksum: 'c' }], app).map((m) => m.name)).toEqual(['tenantry:tenant-roles:x_']);
  });

  it('refuses an unknown or changed migration unless allowed', () => {
    expect(() => migrationsAtBackup([{ name: '009_gone', checksum: 'c' }], app)).toThrow(BackupMigrationsError);
    expect(() => migrationsAtBackup([{ name: '002_b', checksum: 'old' }], app)).toThrow(/"002_b".*allowChanged/);
    expect(migrationsAtBackup([{ name: '009_gone', checksum: 'c' }, { name: '001_a', checksum: 'c' }], app, { allowUnknown: true }).map((m) => m.name)).toEqual(['001_a']);
    expect(migrationsAtBackup([{ name: '002_b', checksum: 'old' }], app, { allowChanged: true }).map((m) => m.name)).toEqual(['002_b']);
  });
});

describe('dependencyOrder', () => {
  it('puts a table after the tables it references, by name among equals, and a cycle last', () => {
    const t = (name: string, ...dependsOn: string[]) => ({ name, columns: ['id'], dependsOn });
    const ordered = dependencyOrder([t('lines', 'orders', 'products'), t('orders', 'customers'), t('products'), t('customers'), t('x', 'y'), t('y', 'x'), t('self', 'self', 'elsewhere')]);
    expect(ordered.map((table) => table.name)).toEqual(['customers', 'products', 'self', 'orders', 'lines', 'x', 'y']);
  });
});
