/**
 * The diagnostics channels: each one published where its event happens, with what its
 * subscribers need; nothing published without a subscriber. And `tenancy.impersonate`, which
 * reports who acted inside a tenant and why, and records it in the audit table when asked.
 */
import diagnostics from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import {
  channels,
  createTenancy,
  type ImpersonationEvent,
  InvalidConfigError,
  type ProvisioningEvent,
  type QueryScopedEvent,
  type RequestResolvedEvent,
  type ScopeEnteredEvent,
  subdomainResolver,
  TenantNotFoundError,
  type TenantMigrationEvent,
} from '../src/index.js';
import { tenancyMiddleware } from '../src/adapters/express.js';
import { tenantPool } from '../src/pg/index.js';
import { useTestDatabase } from './helpers/database.js';

const db = useTestDatabase();
let counter = 0;
const subscriptions: [string, (message: unknown) => void][] = [];

/** Collects what a channel publishes until the test ends. */
function listen<T>(name: string): T[] {
  const seen: T[] = [];
  const onMessage = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, onMessage);
  subscriptions.push([name, onMessage]);
  return seen;
}

afterEach(() => {
  for (const [name, onMessage] of subscriptions.splice(0)) diagnostics.unsubscribe(name, onMessage);
});

function freshTenancy(options: { audit?: boolean } = {}) {
  counter += 1;
  return createTenancy({
    pool: db.pool,
    sharedSchema: `diag${counter}_shared`,
    schemaPrefix: `diag${counter}_t_`,
    resolver: subdomainResolver({ baseDomain: 'example.com' }),
    migrations: { tenant: [{ name: '001_items', checksum: '1', up: (c) => c.query('CREATE TABLE items (id int)') }] },
    ...options,
  });
}

describe('diagnostics channels', () => {
  it('reports provisioning, tenant migrations, scopes entered and scoped queries', async () => {
    const tenancy = freshTenancy();
    await tenancy.migrate.shared();
    const provisioned = listen<ProvisioningEvent>(channels.provisioning);
    const migrations = listen<TenantMigrationEvent>(channels.tenantMigration);
    const scopes = listen<ScopeEnteredEvent>(channels.scopeEntered);
    const queries = listen<QueryScopedEvent>(channels.queryScoped);

    await tenancy.registry.create({ id: 'acme' });
    await expect(tenancy.registry.create({ id: 'acme' })).rejects.toThrow();
    expect(provisioned.map(({ phase, tenantId }) => [phase, tenantId])).toEqual([
      ['done', 'acme'],
      ['failed', 'acme'],
    ]);
    expect(provisioned.every((event) => event.durationMs >= 0)).toBe(true);
    expect((provisioned[1]!.error as Error).name).toBe('TenantExistsError');

    await tenancy.migrate.tenants();
    await tenancy.migrate.tenant('acme');
    expect(migrations.map(({ phase, tenantId, applied }) => [phase, tenantId, applied])).toEqual([
      ['start', 'acme', undefined],
      ['done', 'acme', []],
    ]);

    const raw = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const scoped = tenantPool(tenancy, raw);
      await tenancy.run('acme', async () => {
        await scoped.query('select 1');
        await scoped.query('select 2');
      });
      await tenancy.runShared(() => scoped.query('select 3'));
    } finally {
      await raw.end();
    }
    expect(scopes.map(({ tenant }) => tenant?.id ?? null)).toEqual(['acme', null]);
    expect(queries).toEqual([
      { tenantId: 'acme', setScope: true, cleaned: false },
      { tenantId: 'acme', setScope: false, cleaned: false },
      { tenantId: null, setScope: true, cleaned: false },
    ]);
  });

  it('reports each HTTP request resolved or refused, with its status', async () => {
    const tenancy = freshTenancy();
    await tenancy.migrate.shared();
    await tenancy.registry.create({ id: 'acme' });
    await tenancy.registry.create({ id: 'globex' });
    await tenancy.registry.suspend('globex');
    const resolved = listen<RequestResolvedEvent>(channels.requestResolved);
    const app = express();
    app.use(tenancyMiddleware(tenancy));
    app.get('/', (_req, res) => res.send('ok'));
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      for (const host of ['acme.example.com', 'globex.example.com', 'nobody.example.com', 'example.com']) {
        await new Promise((resolve, reject) => get({ host: '127.0.0.1', port, path: '/?x=1', headers: { host } }, (response) => response.resume().on('end', resolve)).on('error', reject));
      }
    } finally {
      server.close();
    }
    expect(resolved).toEqual([
      { outcome: 'tenant', tenantId: 'acme', host: 'acme.example.com', path: '/?x=1' },
      { outcome: 'refused', tenantId: null, status: 403, code: 'TENANTRY_TENANT_SUSPENDED', host: 'globex.example.com', path: '/?x=1' },
      { outcome: 'refused', tenantId: null, status: 404, code: 'TENANTRY_TENANT_NOT_FOUND', host: 'nobody.example.com', path: '/?x=1' },
      { outcome: 'refused', tenantId: null, status: 404, code: 'TENANTRY_TENANT_REQUIRED', host: 'example.com', path: '/?x=1' },
    ]);
  });

  it('publishes nothing without a subscriber', async () => {
    expect(diagnostics.channel(channels.queryScoped).hasSubscribers).toBe(false);
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }] });
    const seen = listen<ScopeEnteredEvent>(channels.scopeEntered);
    await tenancy.run('acme', () => undefined);
    expect(seen).toHaveLength(1);
  });
});

describe('tenancy.impersonate', () => {
  it("runs in the tenant's scope, reports who, why and when, and records it in the audit table", async () => {
    const tenancy = freshTenancy({ audit: true });
    expect((await tenancy.migrate.shared()).applied).toContain('tenantry:0101_audit');
    await tenancy.registry.create({ id: 'acme' });
    const reported = listen<ImpersonationEvent>(channels.impersonation);
    const inside = await tenancy.impersonate('acme', { actor: 'support:jane', reason: 'ticket 4711' }, () => tenancy.require().id);
    expect(inside).toBe('acme');
    expect(reported).toEqual([{ tenantId: 'acme', actor: 'support:jane', reason: 'ticket 4711', at: expect.any(Date) }]);
    const { rows } = await db.pool.query(`SELECT action, tenant_id, actor, reason, at FROM "${tenancy.sharedSchema}".tenantry_audit`);
    expect(rows).toEqual([{ action: 'impersonate', tenant_id: 'acme', actor: 'support:jane', reason: 'ticket 4711', at: reported[0]!.at }]);
  });

  it('refuses without an actor or a reason, and for an unknown tenant, before running anything', async () => {
    const tenancy = freshTenancy({ audit: true });
    await tenancy.migrate.shared();
    let ran = false;
    const work = () => {
      ran = true;
    };
    for (const by of [{ actor: '', reason: 'x' }, { actor: 'a', reason: ' ' }, { actor: 'a' }, undefined, { actor: 'a'.repeat(201), reason: 'x' }]) {
      await expect(tenancy.impersonate('acme', by as never, work)).rejects.toBeInstanceOf(InvalidConfigError);
    }
    await expect(tenancy.impersonate('nobody', { actor: 'a', reason: 'b' }, work)).rejects.toBeInstanceOf(TenantNotFoundError);
    expect(ran).toBe(false);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${tenancy.sharedSchema}".tenantry_audit`);
    expect(rows[0].n).toBe(0);
  });

  it('does not run when the audit row cannot be written (the table was never migrated)', async () => {
    const tenancy = freshTenancy({ audit: true });
    await tenancy.migrate.shared();
    await tenancy.registry.create({ id: 'acme' });
    await db.pool.query(`DROP TABLE "${tenancy.sharedSchema}".tenantry_audit`);
    let ran = false;
    await expect(tenancy.impersonate('acme', { actor: 'a', reason: 'b' }, () => (ran = true))).rejects.toThrow(/tenantry_audit/);
    expect(ran).toBe(false);
  });
});
