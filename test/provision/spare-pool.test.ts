/**
 * Spare tenants: claimed by registry.create under concurrency, never behind the migrations,
 * refilled in the background, indistinguishable from a tenant provisioned in full; with tenant
 * roles on and off.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { channels, createTenancy, type Migration, type ProvisioningEvent, type Tenancy, type Tenant } from '../../src/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';

const db = useTestDatabase({ max: 12 });

const ITEMS: Migration = {
  name: '001_items',
  checksum: '1',
  up: (c) => c.query('CREATE TABLE items (id serial PRIMARY KEY, owner text NOT NULL); CREATE INDEX items_owner ON items (owner)'),
};
const NOTES: Migration = { name: '002_notes', checksum: '1', up: (c) => c.query('CREATE TABLE notes (id bigserial PRIMARY KEY, body text)') };

let counter = 0;
const open: Tenancy[] = [];
const listeners: (() => void)[] = [];

afterEach(async () => {
  for (const stop of listeners.splice(0)) stop();
  await Promise.all(open.splice(0).map((tenancy) => tenancy.close()));
});

interface Setup {
  readonly sharedSchema: string;
  readonly schemaPrefix: string;
  readonly rolePrefix: string | undefined;
}

function setup(roles: boolean): Setup {
  counter += 1;
  return { sharedSchema: `sp_shared_${counter}`, schemaPrefix: `sp${counter}_`, rolePrefix: roles ? `${db.rolePrefix}${counter}_` : undefined };
}

function tenancyOf(names: Setup, migrations: readonly Migration[], spares: { count: number; refill?: boolean }): Tenancy {
  const tenancy = createTenancy({
    pool: db.pool,
    sharedSchema: names.sharedSchema,
    schemaPrefix: names.schemaPrefix,
    migrations: { tenant: migrations },
    spares,
    ...(names.rolePrefix === undefined ? {} : { tenantRoles: { prefix: names.rolePrefix } }),
  });
  open.push(tenancy);
  return tenancy;
}

function listen(): ProvisioningEvent[] {
  const events: ProvisioningEvent[] = [];
  const onMessage = (message: unknown) => events.push(message as ProvisioningEvent);
  diagnostics.subscribe(channels.provisioning, onMessage);
  listeners.push(() => diagnostics.unsubscribe(channels.provisioning, onMessage));
  return events;
}

/** The next provisioning event that `matches`. */
function nextEvent(matches: (event: ProvisioningEvent) => boolean): Promise<ProvisioningEvent> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (!matches(message as ProvisioningEvent)) return;
      diagnostics.unsubscribe(channels.provisioning, onMessage);
      resolve(message as ProvisioningEvent);
    };
    diagnostics.subscribe(channels.provisioning, onMessage);
  });
}

async function spareSchemas(names: Setup): Promise<string[]> {
  const { rows } = await db.pool.query<{ name: string }>('SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1) ORDER BY 1', [
    `${names.schemaPrefix}_spare_`,
  ]);
  return rows.map((row) => row.name);
}

/** What makes a tenant's schema what it is, with its own names replaced, to compare two tenants. */
async function shapeOf(tenancy: Tenancy, tenant: Tenant): Promise<unknown> {
  const role = tenancy.tenantRoles?.roleOf(tenant.id);
  const anonymise = (text: string | null) =>
    text === null ? null : [[tenant.schema, 'SCHEMA'] as const, ...(role === undefined ? [] : [[role, 'ROLE'] as const])].reduce((acc, [from, to]) => acc.replaceAll(from, to), text);
  const { rows: schema } = await db.pool.query<{ owner: string; acl: string | null }>(
    'SELECT nspowner::regrole::text AS owner, nspacl::text AS acl FROM pg_namespace WHERE nspname = $1',
    [tenant.schema],
  );
  const { rows: relations } = await db.pool.query<{ name: string; kind: string; owner: string; acl: string | null }>(
    `SELECT c.relname AS name, c.relkind::text AS kind, c.relowner::regrole::text AS owner, c.relacl::text AS acl
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY c.relname`,
    [tenant.schema],
  );
  const { rows: tracked } = await db.pool.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "${tenant.schema}".tenantry_migrations ORDER BY name`);
  const { rows: memberships } = role === undefined ? { rows: [] } : await db.pool.query<{ role: string; member: string }>(
    `SELECT m.roleid::regrole::text AS role, m.member::regrole::text AS member FROM pg_auth_members m
      WHERE m.roleid = $1::regrole OR m.member = $1::regrole ORDER BY 1, 2`,
    [role],
  );
  const stored = await tenancy.registry.get(tenant.id);
  return {
    schema: schema.map((row) => ({ owner: row.owner, acl: anonymise(row.acl) })),
    relations: relations.map((row) => ({ ...row, acl: anonymise(row.acl) })),
    tracked,
    memberships: memberships.map((row) => ({ role: anonymise(row.role), member: anonymise(row.member) })),
    migrationVersion: stored?.migrationVersion,
  };
}

describe.each([
  ['tenant roles off', false],
  ['tenant roles on', true],
])('spare tenants, %s', (_, roles) => {
  it('20 concurrent creates with 5 spares: 5 claims, 15 full provisionings, no spare claimed twice, every tenant isolated', async () => {
    const names = setup(roles);
    const tenancy = tenancyOf(names, [ITEMS], { count: 5, refill: false });
    await tenancy.migrate.shared();
    const filled = await tenancy.spares!.fill();
    expect(filled.created).toHaveLength(5);
    expect(await tenancy.spares!.status()).toMatchObject({ count: 5, ready: 5, behind: 0 });
    expect(await spareSchemas(names)).toEqual([...filled.created].sort());

    const events = listen();
    const ids = Array.from({ length: 20 }, (_, i) => `shop-${i}`);
    const tenants = await Promise.all(ids.map((id) => tenancy.registry.create({ id })));
    const done = events.filter((event) => event.phase === 'done' && event.tenantId !== null);
    const claimed = done.filter((event) => event.spare !== undefined);
    expect(done).toHaveLength(20);
    expect(claimed).toHaveLength(5);
    expect(new Set(claimed.map((event) => event.spare))).toEqual(new Set(filled.created));
    expect(new Set(tenants.map((tenant) => tenant.schema)).size).toBe(20);
    expect(await spareSchemas(names)).toEqual([]);
    expect(await tenancy.spares!.status()).toMatchObject({ ready: 0, behind: 0, spares: [] });

    const one = tenantPool(tenancy, db.pool);
    await Promise.all(tenants.map((tenant) => tenancy.run(tenant, () => one.query('INSERT INTO items (owner) VALUES ($1), ($1)', [tenant.id]))));
    for (const tenant of tenants) {
      const { rows } = await tenancy.run(tenant, () => one.query<{ owner: string; path: string; who: string }>('SELECT owner, current_schema() AS path, current_user AS who FROM items'));
      expect(rows.map((row) => row.owner)).toEqual([tenant.id, tenant.id]);
      expect(rows[0]!.path).toBe(tenant.schema);
      if (roles) expect(rows[0]!.who).toBe(tenancy.tenantRoles!.roleOf(tenant.id));
    }
    if (roles) {
      const [a, b] = tenants;
      await expect(tenancy.run(a!, () => one.query(`SELECT * FROM "${b!.schema}".items`))).rejects.toMatchObject({ code: '42501' });
    }

    const claimedTenant = tenants[ids.indexOf(claimed[0]!.tenantId!)]!;
    const fullTenant = tenants.find((tenant) => !claimed.some((event) => event.tenantId === tenant.id))!;
    expect(await shapeOf(tenancy, claimedTenant)).toEqual(await shapeOf(tenancy, fullTenant));
    expect(claimedTenant.migrationVersion).toBe((await tenancy.migrate.tenantMigrations()).at(-1)!.name);
    expect(fullTenant.migrationVersion).toBe(claimedTenant.migrationVersion);
  });

  it('never claims a spare behind a new migration: a create provisions in full until migrate.tenants() brings the spares up', async () => {
    const names = setup(roles);
    const before = tenancyOf(names, [ITEMS], { count: 2, refill: false });
    await before.migrate.shared();
    await before.spares!.fill();

    const after = tenancyOf(names, [ITEMS, NOTES], { count: 2, refill: false });
    expect(await after.spares!.status()).toMatchObject({ ready: 0, behind: 2 });
    const events = listen();
    const full = await after.registry.create({ id: 'after-new-migration' });
    expect(events.find((event) => event.tenantId === full.id)?.spare).toBeUndefined();
    const latest = (await after.migrate.tenantMigrations()).at(-1)!.name;
    expect(latest).toBe(roles ? `tenantry:tenant-roles:${names.rolePrefix}` : '002_notes');
    expect(full.migrationVersion).toBe(latest);
    expect((await db.pool.query(`SELECT to_regclass('"${full.schema}".notes') IS NOT NULL AS found`)).rows[0]).toEqual({ found: true });
    expect(await spareSchemas(names)).toHaveLength(2);

    const report = await after.migrate.tenants();
    expect(report.failed).toEqual([]);
    expect(await after.spares!.status()).toMatchObject({ ready: 2, behind: 0 });
    const claimed = await after.registry.create({ id: 'claimed-after-migrate' });
    expect(events.find((event) => event.tenantId === claimed.id)?.spare).toBeDefined();
    expect(claimed.migrationVersion).toBe(latest);
    expect(await after.migrate.tenants()).toMatchObject({ total: 0 });
    expect(await shapeOf(after, claimed)).toEqual(await shapeOf(after, full));
  });

  it('refills in the background after a claim, without holding up the create', async () => {
    const names = setup(roles);
    const tenancy = tenancyOf(names, [ITEMS], { count: 2 });
    await tenancy.migrate.shared();
    await tenancy.spares!.fill();
    const events = listen();
    const refilled = nextEvent((event) => event.tenantId === null);
    const tenant = await tenancy.registry.create({ id: 'first' });
    expect(events.find((event) => event.tenantId === tenant.id)?.spare).toBeDefined();
    const spare = await refilled;
    expect(spare).toMatchObject({ phase: 'done', tenantId: null });
    await tenancy.close();
    expect(await tenancy.spares!.status()).toMatchObject({ ready: 2 });
  });
});

describe('spare tenants: failures and options', () => {
  it('reports a background refill that fails on the provisioning channel, never as an unhandled rejection, and the create still succeeds', async () => {
    const names = setup(false);
    let failing = false;
    const flaky: Migration = {
      name: '001_flaky',
      checksum: '1',
      up: async (c) => {
        if (failing) throw new Error('the refill broke');
        return c.query('CREATE TABLE items (id int)');
      },
    };
    const tenancy = tenancyOf(names, [flaky], { count: 1 });
    await tenancy.migrate.shared();
    await tenancy.spares!.fill();
    const failed = nextEvent((event) => event.phase === 'failed');
    failing = true;
    const tenant = await tenancy.registry.create({ id: 'claims-the-last' });
    expect(tenant.migrationVersion).toBe('001_flaky');
    const event = await failed;
    expect(event).toMatchObject({ phase: 'failed', tenantId: null });
    expect(String((event.error as Error).message)).toContain('the refill broke');
    await tenancy.close();
    expect(await spareSchemas(names)).toEqual([]);
  });

  it('clear drops every spare, its role and its row', async () => {
    const names = setup(true);
    const tenancy = tenancyOf(names, [ITEMS], { count: 3, refill: false });
    await tenancy.migrate.shared();
    const { created } = await tenancy.spares!.fill();
    expect(created).toHaveLength(3);
    expect(await tenancy.spares!.clear()).toBe(3);
    expect(await spareSchemas(names)).toEqual([]);
    const { rows } = await db.pool.query('SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)', [`${names.rolePrefix}spare_`]);
    expect(rows).toEqual([]);
    expect(await tenancy.spares!.status()).toMatchObject({ ready: 0, spares: [] });
  });

  it('says the shared migrations are due (RegistryNotMigratedError) until migrate.shared() made the spares table', async () => {
    const names = setup(false);
    const plain = createTenancy({ pool: db.pool, sharedSchema: names.sharedSchema, schemaPrefix: names.schemaPrefix, migrations: { tenant: [ITEMS] } });
    await plain.migrate.shared();
    const tenancy = tenancyOf(names, [ITEMS], { count: 1, refill: false });
    for (const call of [() => tenancy.spares!.status(), () => tenancy.spares!.fill(), () => tenancy.registry.create({ id: 'too-early' })]) {
      await expect(call()).rejects.toMatchObject({ code: 'TENANTRY_REGISTRY_NOT_MIGRATED' });
    }
    await expect(tenancy.check()).rejects.toMatchObject({ code: 'TENANTRY_REGISTRY_NOT_MIGRATED', missing: ['tenantry:0102_spares'] });
    expect((await tenancy.migrate.shared()).applied).toEqual(['tenantry:0102_spares']);
    expect((await tenancy.spares!.fill()).created).toHaveLength(1);
  });

  it('refuses a bad spares option, and spares without the PostgreSQL registry, with InvalidConfigError', () => {
    for (const spares of [{ count: -1 }, { count: 1.5 }, { count: '3' }, { count: 3, refill: 'yes' }, { count: 2, size: 3 }, null, 5]) {
      expect(() => createTenancy({ pool: db.pool, spares: spares as never })).toThrow(expect.objectContaining({ code: 'TENANTRY_INVALID_CONFIG' }));
    }
    expect(() => createTenancy({ spares: { count: 2 } })).toThrow(/PostgreSQL registry/);
    expect(() => createTenancy({ pool: db.pool, registry: 'memory', spares: { count: 2 } })).toThrow(/PostgreSQL registry/);
    expect(() => createTenancy({ pool: db.pool, strategy: 'rls', spares: { count: 2 } })).toThrow(/takes no spares/);
    expect(createTenancy({ pool: db.pool }).spares).toBeUndefined();
  });
});
