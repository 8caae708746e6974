import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

/** A temporary migrations folder, removed after the test file. */
export interface MigrationFolder {
  readonly path: string;
  /** Writes (or overwrites) one file. */
  write(file: string, text: string): Promise<void>;
}

const folders: string[] = [];

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Makes a temporary folder holding `files` (name → text). */
export async function migrationFolder(files: Readonly<Record<string, string>> = {}): Promise<MigrationFolder> {
  const path = await mkdtemp(join(tmpdir(), 'tenantry-migrations-'));
  folders.push(path);
  const folder: MigrationFolder = {
    path,
    write: (file, text) => writeFile(join(path, file), text),
  };
  for (const [file, text] of Object.entries(files)) await folder.write(file, text);
  return folder;
}

/** sha256 of a text, hex: computed here independently of the code under test. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The rows of a schema's tracking table, in name order. */
export async function tracked(pool: pg.Pool, schema: string): Promise<{ name: string; checksum: string }[]> {
  const { rows } = await pool.query<{ name: string; checksum: string }>(
    `SELECT name, checksum FROM "${schema}".tenantry_migrations ORDER BY name COLLATE "C"`,
  );
  return rows;
}

/** Whether `schema.table` exists. */
export async function tableExists(pool: pg.Pool, schema: string, table: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`"${schema}"."${table}"`]);
  return rows[0]?.found !== null && rows[0]?.found !== undefined;
}

let counter = 0;

/** A fresh shared schema name and tenant schema prefix, so tests of one file (one database) never meet. */
export function uniqueNames(label: string): { sharedSchema: string; schemaPrefix: string } {
  counter += 1;
  return { sharedSchema: `${label}_shared_${counter}`, schemaPrefix: `${label}${counter}_` };
}

/**
 * Tolerates the pool's idle clients being terminated by the test database's teardown
 * (`pool.end()` resolves before its sockets close, then `DROP DATABASE … WITH (FORCE)` ends
 * them with 57P01). Any other idle-client error still surfaces.
 */
export function toleratePoolTeardown(db: { pool: pg.Pool }): void {
  beforeAll(() => {
    db.pool.on('error', ignoreAdminShutdown);
  });
}

/** An `error` listener for pools that ignores only "terminating connection due to administrator command". */
export function ignoreAdminShutdown(error: Error): void {
  if ((error as { code?: unknown }).code !== '57P01') throw error;
}
