import { describe, expect, it } from 'vitest';
import { createTenancy, domainResolver, InvalidDomainError, type Tenancy } from '../../src/index.js';
import { requestOf, thrown } from './request.js';

function memoryTenancy(): Tenancy {
  return createTenancy({
    resolver: domainResolver(),
    tenants: [
      { id: 'acme', domains: ['shop.acme.com', 'acme.example.com'] },
      { id: 'globex', domains: ['globex.io'] },
      { id: 'sleepy', status: 'suspended', domains: ['sleepy.io'] },
    ],
  });
}

describe('domainResolver (in-memory registry)', () => {
  it('resolves a registered domain, whatever its case, port or trailing dot', async () => {
    const tenancy = memoryTenancy();
    const resolve = domainResolver();
    for (const host of ['shop.acme.com', 'SHOP.Acme.COM', 'shop.acme.com.', 'shop.acme.com:8443', 'Shop.Acme.Com.:443', 'acme.example.com']) {
      expect(await resolve(requestOf({ host }), { tenancy }), host).toBe('acme');
    }
    expect(await resolve(requestOf({ host: 'globex.io' }), { tenancy })).toBe('globex');
  });

  it('resolves suspended tenants too (the adapter decides what to do with them)', async () => {
    const tenancy = memoryTenancy();
    expect(await domainResolver()(requestOf({ host: 'sleepy.io' }), { tenancy })).toBe('sleepy');
    expect((await tenancy.resolveRequest(requestOf({ host: 'sleepy.io' })))?.tenant.status).toBe('suspended');
  });

  it('does not match unknown domains, sub- or parent domains of registered ones, IPs or a missing host', async () => {
    const tenancy = memoryTenancy();
    const resolve = domainResolver();
    for (const host of ['unknown.com', 'acme.com', 'www.shop.acme.com', 'globex.io.evil.net', '127.0.0.1', '[::1]:80', 'localhost']) {
      expect(await resolve(requestOf({ host }), { tenancy }), host).toBeNull();
    }
    expect(await resolve(requestOf(), { tenancy })).toBeNull();
  });

  it('refuses a host that is not a host name with InvalidDomainError (400)', async () => {
    const tenancy = memoryTenancy();
    for (const host of ['shop acme.com', 'shop_acme.com', '[::1', '', 'shop.acme.com:port']) {
      const error = await thrown(() => domainResolver()(requestOf({ host }), { tenancy }));
      expect(error, host).toBeInstanceOf(InvalidDomainError);
    }
  });

  it('sees domains added and removed after a miss was cached', async () => {
    const tenancy = memoryTenancy();
    const resolve = domainResolver();
    expect(await resolve(requestOf({ host: 'new.globex.io' }), { tenancy })).toBeNull();
    await tenancy.registry.addDomain('globex', 'new.globex.io');
    expect(await resolve(requestOf({ host: 'new.globex.io' }), { tenancy })).toBe('globex');
    await tenancy.registry.removeDomain('new.globex.io');
    expect(await resolve(requestOf({ host: 'new.globex.io' }), { tenancy })).toBeNull();
  });

  it('gives tenancy.resolveRequest the registered tenant', async () => {
    const tenancy = memoryTenancy();
    const found = await tenancy.resolveRequest(requestOf({ host: 'shop.acme.com:3000', path: '/products' }));
    expect(found?.tenant.id).toBe('acme');
    expect(found?.path).toBeUndefined();
    expect(await tenancy.resolveRequest(requestOf({ host: 'nobody.com' }))).toBeNull();
  });
});
