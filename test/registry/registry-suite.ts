import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  createTenancy,
  isTenancyError,
  type Migration,
  type Tenancy,
  TenantExistsError,
  TenantNotFoundError,
} from '../../src/index.js';

let counter = 0;

/** Runs the registry behaviour every registry implementation must have. */
export function registrySuite(kind: 'postgres' | 'memory', db: { pool: pg.Pool }): void {
  const products: Migration = {
    name: '001_products',
    checksum: 'products-v1',
    up: (client) => client.query('CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL)'),
  };

  async function setup(tenantMigrations: readonly Migration[] = [products]): Promise<Tenancy> {
    counter += 1;
    const tenancy = createTenancy({
      pool: db.pool,
      registry: kind,
      sharedSchema: `shared_${kind}_${counter}`,
      schemaPrefix: `t${counter}_`,
      migrations: { tenant: tenantMigrations },
    });
    await tenancy.migrate.shared();
    return tenancy;
  }

  const schemaExists = async (schema: string) =>
    (await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;

  describe(`${kind} registry`, () => {
    it('creates a tenant with its schema and migrated tables, and reads it back', async () => {
      const tenancy = await setup();
      const acme = await tenancy.registry.create({ id: 'acme', name: 'Acme', metadata: { plan: 'pro' }, domains: ['Acme.Example.COM.'] });
      expect(acme).toMatchObject({ id: 'acme', name: 'Acme', status: 'active', placement: 'default', metadata: { plan: 'pro' }, migrationVersion: '001_products' });
      expect(Object.isFrozen(acme)).toBe(true);
      expect(acme.createdAt).toBeInstanceOf(Date);
      expect(await schemaExists(acme.schema)).toBe(true);
      await db.pool.query(`INSERT INTO "${acme.schema}".products (name) VALUES ('anvil')`);
      expect(await tenancy.registry.get('acme')).toEqual(acme);
      expect((await tenancy.registry.getByDomain('acme.example.com'))?.id).toBe('acme');
      expect(await tenancy.registry.domains('acme')).toEqual([{ domain: 'acme.example.com', tenantId: 'acme', primary: true }]);
    });

    it('answers undefined for unknown and invalid ids and domains', async () => {
      const tenancy = await setup();
      expect(await tenancy.registry.get('nobody')).toBeUndefined();
      expect(await tenancy.registry.get('NOT valid')).toBeUndefined();
      expect(await tenancy.registry.getByDomain('nobody.example.com')).toBeUndefined();
    });

    it('refuses invalid input with typed errors before touching the database', async () => {
      const tenancy = await setup();
      await expect(tenancy.registry.create({ id: 'Bad_Id' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID', httpStatus: 400 });
      await expect(tenancy.registry.create({ id: 'ok', domains: ['bad domain'] })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_DOMAIN' });
      await expect(tenancy.registry.create({ id: 'ok', schema: 'pg_catalog' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_SCHEMA_NAME' });
      await expect(tenancy.registry.create({ id: 'ok', schema: 'public' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_SCHEMA_NAME' });
      await expect(tenancy.registry.list({ limit: 0 })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
      expect(await tenancy.registry.get('ok')).toBeUndefined();
    });

    it('refuses a second tenant with the same id, schema or domain', async () => {
      const tenancy = await setup();
      const first = await tenancy.registry.create({ id: 'acme', domains: ['acme.test'] });
      await expect(tenancy.registry.create({ id: 'acme' })).rejects.toBeInstanceOf(TenantExistsError);
      await expect(tenancy.registry.create({ id: 'other', schema: first.schema })).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
      await expect(tenancy.registry.create({ id: 'other2', domains: ['acme.test'] })).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
      expect(await tenancy.registry.get('other')).toBeUndefined();
      expect(await tenancy.registry.get('other2')).toBeUndefined();
    });

    it('lets exactly one of two concurrent creates of one id succeed', async () => {
      const tenancy = await setup();
      const results = await Promise.allSettled([tenancy.registry.create({ id: 'race' }), tenancy.registry.create({ id: 'race' })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(TenantExistsError);
    });

    it('leaves no schema and no row when a tenant migration fails halfway', async () => {
      const failing: Migration = {
        name: '002_broken',
        checksum: 'broken',
        up: async (client) => {
          await client.query('CREATE TABLE half_done (id int)');
          await client.query('SELECT * FROM no_such_table');
        },
      };
      const tenancy = await setup([products, failing]);
      const error = await tenancy.registry.create({ id: 'doomed' }).catch((e: unknown) => e);
      expect(isTenancyError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'TENANTRY_MIGRATION_FAILED', tenantId: 'doomed', migration: '002_broken' });
      expect(await tenancy.registry.get('doomed')).toBeUndefined();
      expect(await schemaExists(`t${counter}_doomed`)).toBe(false);
      await expect(tenancy.registry.create({ id: 'doomed', domains: [] })).rejects.toMatchObject({ code: 'TENANTRY_MIGRATION_FAILED' });
    });

    it('lists by status in pages ordered by id', async () => {
      const tenancy = await setup([]);
      for (const id of ['c', 'a', 'e', 'b', 'd']) await tenancy.registry.create({ id });
      await tenancy.registry.suspend('b');
      const first = await tenancy.registry.list({ limit: 2 });
      expect(first.tenants.map((t) => t.id)).toEqual(['a', 'b']);
      expect(first.next).toBe('b');
      const second = await tenancy.registry.list({ limit: 2, after: first.next });
      expect(second.tenants.map((t) => t.id)).toEqual(['c', 'd']);
      const last = await tenancy.registry.list({ limit: 2, after: second.next });
      expect(last.tenants.map((t) => t.id)).toEqual(['e']);
      expect(last.next).toBeUndefined();
      expect((await tenancy.registry.list({ status: 'active' })).tenants.map((t) => t.id)).toEqual(['a', 'c', 'd', 'e']);
      expect((await tenancy.registry.list({ status: 'suspended' })).tenants.map((t) => t.id)).toEqual(['b']);
    });

    it('updates, suspends and resumes', async () => {
      const tenancy = await setup([]);
      const created = await tenancy.registry.create({ id: 'acme', name: 'Acme', metadata: { plan: 'free' } });
      const updated = await tenancy.registry.update('acme', { name: 'Acme GmbH', metadata: { plan: 'pro' } });
      expect(updated).toMatchObject({ name: 'Acme GmbH', metadata: { plan: 'pro' }, placement: 'default' });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
      expect((await tenancy.registry.suspend('acme')).status).toBe('suspended');
      await expect(tenancy.run('acme', () => 1)).rejects.toMatchObject({ code: 'TENANTRY_TENANT_SUSPENDED', httpStatus: 403 });
      expect((await tenancy.registry.resume('acme')).status).toBe('active');
      expect(await tenancy.run('acme', () => tenancy.require().id)).toBe('acme');
      await expect(tenancy.registry.update('ghost', { name: 'x' })).rejects.toBeInstanceOf(TenantNotFoundError);
      await expect(tenancy.registry.suspend('ghost')).rejects.toMatchObject({ httpStatus: 404 });
      await expect(tenancy.registry.update('acme', { name: '' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
    });

    it('adds, moves the primary flag between, and removes domains', async () => {
      const tenancy = await setup([]);
      await tenancy.registry.create({ id: 'acme', domains: ['acme.test'] });
      await tenancy.registry.create({ id: 'globex' });
      await tenancy.registry.addDomain('acme', 'shop.acme.com', { primary: true });
      expect(await tenancy.registry.domains('acme')).toEqual([
        { domain: 'shop.acme.com', tenantId: 'acme', primary: true },
        { domain: 'acme.test', tenantId: 'acme', primary: false },
      ]);
      await expect(tenancy.registry.addDomain('globex', 'SHOP.acme.com')).rejects.toMatchObject({ code: 'TENANTRY_TENANT_EXISTS' });
      await expect(tenancy.registry.addDomain('ghost', 'ghost.test')).rejects.toBeInstanceOf(TenantNotFoundError);
      await tenancy.registry.removeDomain('acme.test');
      expect(await tenancy.registry.getByDomain('acme.test')).toBeUndefined();
      await expect(tenancy.registry.removeDomain('acme.test')).rejects.toBeInstanceOf(TenantNotFoundError);
    });

    it('ensure creates a missing tenant, and returns an existing one as it is', async () => {
      const tenancy = await setup();
      const created = await tenancy.registry.ensure({ id: 'acme', name: 'Acme', domains: ['shop.acme.test'] });
      expect(created).toMatchObject({ id: 'acme', name: 'Acme', migrationVersion: '001_products' });
      expect(await schemaExists(created.schema)).toBe(true);
      expect(await tenancy.registry.ensure({ id: 'acme', name: 'Acme' })).toEqual(created);
      const differing = await tenancy.registry.ensure({ id: 'acme', name: 'Acme GmbH', metadata: { plan: 'pro' }, domains: ['other.test'], status: 'suspended' });
      expect(differing).toEqual(created);
      expect(await tenancy.registry.get('acme')).toEqual(created);
      expect(await tenancy.registry.getByDomain('other.test')).toBeUndefined();
      expect((await tenancy.registry.list()).tenants.map((t) => t.id)).toEqual(['acme']);
    });

    it('ensure checks its input first, and refuses a domain another tenant holds', async () => {
      const tenancy = await setup([]);
      await tenancy.registry.create({ id: 'acme', domains: ['acme.test'] });
      await expect(tenancy.registry.ensure({ id: 'Bad_Id' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID' });
      await expect(tenancy.registry.ensure({ id: 'acme', name: '' })).rejects.toMatchObject({ code: 'TENANTRY_INVALID_CONFIG' });
      await expect(tenancy.registry.ensure({ id: 'globex', domains: ['acme.test'] })).rejects.toBeInstanceOf(TenantExistsError);
      expect(await tenancy.registry.get('globex')).toBeUndefined();
    });

    it('lets concurrent ensures of one id all succeed with the same tenant', async () => {
      const tenancy = await setup();
      const results = await Promise.all([1, 2, 3].map(() => tenancy.registry.ensure({ id: 'race', domains: ['race.test'] })));
      for (const result of results) expect(result).toEqual(results[0]);
      expect((await tenancy.registry.list()).tenants.map((t) => t.id)).toEqual(['race']);
    });

    it('ensure after a create that failed creates the tenant', async () => {
      let fail = true;
      const flaky: Migration = {
        name: '001_flaky',
        checksum: 'flaky',
        up: async (client) => {
          if (fail) throw new Error('first attempt fails');
          await client.query('CREATE TABLE flaky (id int)');
        },
      };
      const tenancy = await setup([flaky]);
      const [first, second] = await Promise.allSettled([tenancy.registry.ensure({ id: 'retry' }), tenancy.registry.ensure({ id: 'retry' })]);
      expect(first.status).toBe('rejected');
      expect(second.status).toBe('rejected');
      fail = false;
      expect(await tenancy.registry.ensure({ id: 'retry' })).toMatchObject({ id: 'retry', migrationVersion: '001_flaky' });
    });

    it('deletes a tenant, keeping its schema unless asked to drop it', async () => {
      const tenancy = await setup();
      const kept = await tenancy.registry.create({ id: 'kept', domains: ['kept.test'] });
      const dropped = await tenancy.registry.create({ id: 'dropped' });
      await tenancy.registry.delete('kept');
      await tenancy.registry.delete('dropped', { dropSchema: true });
      expect(await tenancy.registry.get('kept')).toBeUndefined();
      expect(await tenancy.registry.getByDomain('kept.test')).toBeUndefined();
      expect(await schemaExists(kept.schema)).toBe(true);
      expect(await schemaExists(dropped.schema)).toBe(false);
      await expect(tenancy.registry.delete('kept')).rejects.toBeInstanceOf(TenantNotFoundError);
    });
  });
}
