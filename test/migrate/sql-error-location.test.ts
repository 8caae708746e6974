/**
 * A SQL migration that fails names its file, line and column, counted as PostgreSQL counts
 * (characters, not bytes or UTF-16 units).
 */
import { describe, expect, it } from 'vitest';
import { createTenancy, MigrationFailedError } from '../../src/index.js';
import { lineAndColumn, locateSqlError } from '../../src/migrate/sql-error-location.js';
import { useTestDatabase } from '../helpers/database.js';
import { migrationFolder, uniqueNames } from './migration-folder.js';

const db = useTestDatabase();

describe('lineAndColumn', () => {
  it('counts lines and characters from 1', () => {
    expect(lineAndColumn('SELECT 1;', 1)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('SELECT 1;\nSELEC 2;', 11)).toEqual({ line: 2, column: 1 });
    expect(lineAndColumn('a\n\nbc', 5)).toEqual({ line: 3, column: 2 });
    // 'é' and '😀' are one character each for PostgreSQL.
    expect(lineAndColumn("SELECT 'é😀', nope", 15)).toEqual({ line: 1, column: 15 });
  });

  it('leaves an error without a position as it is', () => {
    const error = new Error('connection lost');
    expect(locateSqlError(error, 'x.sql', 'SELECT 1')).toBe(error);
    expect(error.message).toBe('connection lost');
  });
});

describe('a failing SQL migration', () => {
  it('reports the file, line and column of the error', async () => {
    const tenant = await migrationFolder({
      '001_items.sql': 'CREATE TABLE items (id int);',
      '002_bad.sql': "-- adds the sku\nALTER TABLE items ADD COLUMN sku text;\nUPDATE items SET sku = 'é😀' || nope;\n",
    });
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('loc'), migrations: { tenant: tenant.path } });
    await tenancy.migrate.shared();
    const failed = await tenancy.registry.create({ id: 'acme' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(MigrationFailedError);
    expect((failed as Error).message).toMatch(/column "nope" does not exist \(002_bad\.sql, line 3, column 32\)/);
    expect((failed as Error).cause).toMatchObject({ line: 3, column: 32 });
  });
});
