/**
 * An app login that is not a superuser, on Citus: with CREATE on the shared schema `public`
 * without owning it, it migrates it (Citus refuses `CREATE SCHEMA IF NOT EXISTS public` from such
 * a login, so tenantry sends it only for a missing schema) and provisions tenants whose tables
 * use identity columns; with tenant roles, it deletes a tenant and its schema (dropping the role
 * at once, not by DROP OWNED under the tenant's role, which Citus reports as a distributed
 * deadlock); and, a Citus limitation docs/scaling.md describes, it cannot provision a tenant whose
 * migrations make a serial column.
 */
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { createTenancy, MigrationFailedError } from '../../src/index.js';
import { migrationFolder } from '../migrate/migration-folder.js';
import { describeCitus, IDENTITY_ITEMS, nodeUrl, query, useCitusDatabase } from './citus-database.js';

describeCitus('a login that is not a superuser, on Citus', () => {
  const db = useCitusDatabase();
  let app: pg.Pool;
  beforeAll(async () => {
    const role = `${db.rolePrefix}app`;
    await db.pool.query(`CREATE ROLE "${role}" LOGIN CREATEROLE`);
    await db.pool.query(`GRANT CREATE ON DATABASE "${db.database.name}" TO "${role}"`);
    await db.pool.query(`GRANT CREATE ON SCHEMA public TO "${role}"`);
    const url = new URL(db.url);
    url.username = role;
    app = new pg.Pool({ connectionString: url.toString(), max: 4 });
    app.on('error', () => {});
    return () => app.end();
  });

  it('migrates public, which it may create in but does not own, and provisions identity-column tenants', async () => {
    const folder = await migrationFolder({ '001_items.sql': IDENTITY_ITEMS });
    const tenancy = createTenancy({ pool: app, schemaPrefix: 'app_', migrations: { tenant: folder.path } });
    const shared = await tenancy.migrate.shared();
    expect(shared.applied.length).toBeGreaterThan(0);
    const acme = await tenancy.registry.create({ id: 'app-acme' });
    const { rows } = await app.query('SELECT 1 FROM citus_schemas WHERE schema_name::text = $1', [acme.schema]);
    expect(rows).toHaveLength(1);
    expect((await tenancy.migrate.drift({ only: ['app-acme'] })).drifted).toEqual([]);
  });

  it('cannot provision a tenant whose migration makes a serial column (Citus), and keeps nothing of it', async () => {
    const folder = await migrationFolder({ '001_serial.sql': 'CREATE TABLE counters (id serial PRIMARY KEY, n int NOT NULL DEFAULT 0);\n' });
    const tenancy = createTenancy({ pool: app, schemaPrefix: 'ser_', migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const failed = await tenancy.registry.create({ id: 'ser-acme' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(MigrationFailedError);
    expect((failed as Error).cause).toMatchObject({ code: '3F000', message: expect.stringMatching(/^schema "ser_\w+" does not exist/) });
    expect(await tenancy.registry.get('ser-acme')).toBeUndefined();
  });

  it('deletes a tenant with its schema and its role (tenant roles)', async () => {
    const folder = await migrationFolder({ '001_items.sql': IDENTITY_ITEMS });
    const prefix = `${db.rolePrefix}t_`;
    const tenancy = createTenancy({ pool: app, schemaPrefix: 'del_', tenantRoles: { prefix, login: true }, migrations: { tenant: folder.path } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'del-acme' });
    await tenancy.registry.delete('del-acme', { dropSchema: true });
    const left = 'SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1)::int AS schemas, (SELECT count(*) FROM pg_roles WHERE rolname = $2)::int AS roles';
    for (const url of [db.url, ...db.workers.map((worker) => nodeUrl(worker, db.database.name))]) {
      expect(await query(url, left, [acme.schema, `${prefix}del-acme`]), url).toEqual([{ schemas: 0, roles: 0 }]);
    }
  });
});
