import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { emitterBinder } from '../../src/adapters/bind-emitter.js';
import { createTenancy, type Tenancy, type Tenant } from '../../src/index.js';

async function tenancyWith(...ids: string[]): Promise<{ tenancy: Tenancy; tenants: Tenant[] }> {
  const tenancy = createTenancy();
  const tenants: Tenant[] = [];
  for (const id of ids) tenants.push(await tenancy.registry.create({ id }));
  return { tenancy, tenants };
}

/** Where each listener call ran: the active tenant's id, or null. */
function recorder(tenancy: Tenancy, emitter: EventEmitter): (string | null)[] {
  const seen: (string | null)[] = [];
  emitter.on('data', () => seen.push(tenancy.current()?.id ?? null));
  return seen;
}

describe('emitterBinder', () => {
  it("runs the listeners of an event emitted outside the scope in the request's scope", async () => {
    const { tenancy, tenants } = await tenancyWith('acme', 'globex');
    const bindRequest = emitterBinder(tenancy);
    const request = new EventEmitter();
    const seen = recorder(tenancy, request);
    tenancy.runTenant(tenants[0]!, () => bindRequest(request));

    request.emit('data'); // no scope (the HTTP parser's context)
    tenancy.runTenant(tenants[1]!, () => request.emit('data')); // another tenant's
    tenancy.runTenant(tenants[0]!, () => request.emit('data')); // its own: emitted directly
    tenancy.runShared(() => request.emit('data'));
    expect(seen).toEqual(['acme', 'acme', 'acme', 'acme']);
  });

  it('emits an event nobody listens to as it would unbound: false, and an unheard error throws', async () => {
    const { tenancy, tenants } = await tenancyWith('acme');
    const request = new EventEmitter();
    tenancy.runTenant(tenants[0]!, () => emitterBinder(tenancy)(request));
    expect(request.emit('readable')).toBe(false);
    expect(() => request.emit('error', new Error('socket hang up'))).toThrow('socket hang up');
  });

  it('binds the shared scope too', async () => {
    const { tenancy, tenants } = await tenancyWith('acme');
    const bindRequest = emitterBinder(tenancy);
    const request = new EventEmitter();
    const seen: unknown[] = [];
    request.on('data', () => seen.push(tenancy.scope()?.kind));
    tenancy.runShared(() => bindRequest(request));
    tenancy.runTenant(tenants[0]!, () => request.emit('data'));
    expect(seen).toEqual(['shared']);
  });

  it('takes the newer scope when bound again, and keeps an emit the emitter had of its own', async () => {
    const { tenancy, tenants } = await tenancyWith('acme', 'globex');
    const bindRequest = emitterBinder(tenancy);
    const request = new EventEmitter();
    const emitted: string[] = [];
    const ownEmit = request.emit.bind(request);
    request.emit = (event: string | symbol, ...args: unknown[]) => {
      emitted.push(String(event));
      return ownEmit(event, ...args);
    };
    const seen = recorder(tenancy, request);
    tenancy.runTenant(tenants[0]!, () => bindRequest(request));
    tenancy.runTenant(tenants[1]!, () => bindRequest(request));
    expect(request.emit('data')).toBe(true);
    expect(seen).toEqual(['globex']);
    expect(emitted).toEqual(['data']);
  });

  it("falls back to the tenancy's public bind for a tenancy of another copy of tenantry", async () => {
    const { tenancy, tenants } = await tenancyWith('acme');
    const foreign: Tenancy = { ...tenancy };
    const bindRequest = emitterBinder(foreign);
    const request = new EventEmitter();
    const seen = recorder(tenancy, request);
    tenancy.runTenant(tenants[0]!, () => bindRequest(request));
    request.emit('data');
    expect(seen).toEqual(['acme']);
  });

  it('gives every adapter of one tenancy the same binder, so binding twice (nested apps) cannot loop', async () => {
    const { tenancy, tenants } = await tenancyWith('acme', 'globex');
    expect(emitterBinder(tenancy)).toBe(emitterBinder(tenancy));
    const request = new EventEmitter();
    const seen = recorder(tenancy, request);
    tenancy.runTenant(tenants[0]!, () => emitterBinder(tenancy)(request));
    // Something wraps emit between the two binds (an APM, a logger).
    const wrapped = request.emit;
    let calls = 0;
    request.emit = function (this: EventEmitter, ...args: Parameters<EventEmitter['emit']>) {
      calls += 1;
      return Reflect.apply(wrapped, this, args);
    };
    tenancy.runTenant(tenants[1]!, () => emitterBinder(tenancy)(request));
    request.emit('data');
    expect(seen).toEqual(['globex']);
    expect(calls).toBe(1);
  });

  it('keeps each of two tenancies bound to the same request in its own scope', async () => {
    const first = await tenancyWith('acme');
    const second = await tenancyWith('globex');
    const request = new EventEmitter();
    const seen: string[] = [];
    request.on('data', () => seen.push(`${first.tenancy.current()?.id}/${second.tenancy.current()?.id}`));
    first.tenancy.runTenant(first.tenants[0]!, () => emitterBinder(first.tenancy)(request));
    second.tenancy.runTenant(second.tenants[0]!, () => emitterBinder(second.tenancy)(request));
    request.emit('data');
    expect(seen).toEqual(['acme/globex']);
  });
});

