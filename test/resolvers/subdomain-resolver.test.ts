import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, InvalidDomainError, subdomainResolver, type TenantResolver } from '../../src/index.js';
import { contextOf, requestOf, thrown } from './request.js';

const context = contextOf();
const resolve = (resolver: TenantResolver, host: string | undefined) => resolver(requestOf(host === undefined ? {} : { host }), context);

describe('subdomainResolver', () => {
  const resolver = subdomainResolver({ baseDomain: 'example.com' });

  it('resolves the one label in front of the base domain', async () => {
    expect(await resolve(resolver, 'acme.example.com')).toBe('acme');
    expect(await resolve(resolver, 'big-co.example.com')).toBe('big-co');
    expect(await resolve(resolver, 'acme-2.example.com:443')).toBe('acme-2');
  });

  it('ignores case, ports and a trailing dot', async () => {
    expect(await resolve(resolver, 'ACME.Example.COM')).toBe('acme');
    expect(await resolve(resolver, 'acme.example.com.')).toBe('acme');
    expect(await resolve(resolver, 'Acme.Example.Com.:8443')).toBe('acme');
  });

  it('does not match the base domain itself, deeper names, other domains or look-alikes', async () => {
    for (const host of [
      'example.com',
      'example.com.',
      'example.com:80',
      'a.acme.example.com',
      'x.y.z.example.com',
      'acme.example.org',
      'acme.notexample.com',
      'acmeexample.com',
      'example.com.evil.net',
      'acme.example.com.evil.net',
      'localhost',
      'acme.localhost',
    ]) {
      expect(await resolve(resolver, host), host).toBeNull();
    }
  });

  it('does not match IP addresses, IPv4 or IPv6, with or without port', async () => {
    for (const host of ['127.0.0.1', '127.0.0.1:3000', '127.0.0.1.', '[::1]', '[::1]:3000', '[2001:db8::1]:443']) {
      expect(await resolve(resolver, host), host).toBeNull();
    }
  });

  it('does not match a request without a host', async () => {
    expect(await resolve(resolver, undefined)).toBeNull();
  });

  it('skips www and app by default, and a custom ignore list replaces them (case-insensitively)', async () => {
    expect(await resolve(resolver, 'www.example.com')).toBeNull();
    expect(await resolve(resolver, 'APP.example.com')).toBeNull();
    const custom = subdomainResolver({ baseDomain: 'example.com', ignore: ['API', 'status'] });
    expect(await resolve(custom, 'api.example.com')).toBeNull();
    expect(await resolve(custom, 'status.example.com')).toBeNull();
    expect(await resolve(custom, 'www.example.com')).toBe('www');
    const none = subdomainResolver({ baseDomain: 'example.com', ignore: [] });
    expect(await resolve(none, 'app.example.com')).toBe('app');
  });

  it('takes several base domains, also next to baseDomain', async () => {
    const several = subdomainResolver({ baseDomain: 'example.com', baseDomains: ['localhost', 'Example.NET.'] });
    expect(await resolve(several, 'acme.example.com')).toBe('acme');
    expect(await resolve(several, 'acme.localhost:3000')).toBe('acme');
    expect(await resolve(several, 'acme.example.net')).toBe('acme');
    expect(await resolve(several, 'localhost:3000')).toBeNull();
    expect(await resolve(several, 'example.net')).toBeNull();
  });

  it('with nested base domains, uses the most specific one, in any order', async () => {
    for (const baseDomains of [
      ['example.com', 'eu.example.com'],
      ['eu.example.com', 'example.com'],
    ]) {
      const nested = subdomainResolver({ baseDomains });
      expect(await resolve(nested, 'acme.eu.example.com'), baseDomains.join()).toBe('acme');
      expect(await resolve(nested, 'acme.example.com'), baseDomains.join()).toBe('acme');
      // A base domain is never a tenant, also when it is a subdomain of another base.
      expect(await resolve(nested, 'eu.example.com'), baseDomains.join()).toBeNull();
      expect(await resolve(nested, 'a.b.eu.example.com'), baseDomains.join()).toBeNull();
    }
  });

  it('refuses a host that is not a host name with InvalidDomainError (400), instead of guessing', async () => {
    for (const host of ['acme_1.example.com', 'ac me.example.com', '-acme.example.com', `${'a'.repeat(64)}.example.com`, 'acme.example.com:x', '']) {
      const error = await thrown(() => resolve(resolver, host));
      expect(error, host).toBeInstanceOf(InvalidDomainError);
      expect((error as InvalidDomainError).httpStatus).toBe(400);
    }
  });

  it('answers a host it has seen as before, refuses a bad host every time, and stays right past its memory', async () => {
    const fresh = subdomainResolver({ baseDomain: 'example.com' });
    for (let round = 0; round < 2; round += 1) {
      expect(await resolve(fresh, 'Acme.Example.com:8443')).toBe('acme');
      expect(await resolve(fresh, 'www.example.com')).toBeNull();
      expect(await thrown(() => resolve(fresh, 'acme_1.example.com'))).toBeInstanceOf(InvalidDomainError);
    }
    for (let i = 0; i < 2_500; i += 1) expect(await resolve(fresh, `t-${i}.example.com`)).toBe(`t-${i}`);
    expect(await resolve(fresh, 'Acme.Example.com:8443')).toBe('acme');
  });

  it('refuses bad configuration up front', () => {
    expect(() => subdomainResolver({})).toThrow(InvalidConfigError);
    expect(() => subdomainResolver({ baseDomains: [] })).toThrow(InvalidConfigError);
    expect(() => subdomainResolver({ baseDomain: 'example.com:8080' })).toThrow(InvalidDomainError);
    expect(() => subdomainResolver({ baseDomain: 'exa mple.com' })).toThrow(InvalidDomainError);
  });

  it('for any valid label, <label>.example.com resolves to the label unless ignored', async () => {
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    await fc.assert(
      fc.asyncProperty(label, fc.constantFrom('', ':1', ':65535', '.'), async (id, suffix) => {
        const host = suffix === '.' ? `${id}.example.com.` : `${id}.example.com${suffix}`;
        const expected = id === 'www' || id === 'app' ? null : id;
        expect(await resolve(resolver, host.toUpperCase())).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
