import { describe, expect, it } from 'vitest';
import {
  chainResolvers,
  createTenancy,
  headerResolver,
  InvalidConfigError,
  InvalidDomainError,
  InvalidTenantIdError,
  pathResolver,
  subdomainResolver,
  type TenantResolver,
  TenantNotFoundError,
} from '../../src/index.js';
import { contextOf, requestOf, thrown } from './request.js';

const context = contextOf();
const subdomain = subdomainResolver({ baseDomain: 'example.com' });
const header = headerResolver();
const both = requestOf({ host: 'acme.example.com', headers: { 'x-tenant-id': 'globex' } });

describe('chainResolvers', () => {
  it('returns the first match, in the order given', async () => {
    expect(await chainResolvers(subdomain, header)(both, context)).toBe('acme');
    expect(await chainResolvers(header, subdomain)(both, context)).toBe('globex');
  });

  it('falls through resolvers that do not match, and gives null when none does', async () => {
    const chain = chainResolvers(subdomain, pathResolver({ prefix: '/t' }), header);
    expect(await chain(requestOf({ host: 'example.com', path: '/t/initech/x' }), context)).toEqual({ tenantId: 'initech', path: '/x' });
    expect(await chain(requestOf({ host: 'example.com', headers: { 'x-tenant-id': 'globex' } }), context)).toBe('globex');
    expect(await chain(requestOf({ host: 'example.com', path: '/products' }), context)).toBeNull();
    expect(await chainResolvers()(both, context)).toBeNull();
  });

  it('calls later resolvers only when earlier ones did not match, and passes them the context', async () => {
    const calls: string[] = [];
    const spy = (name: string, result: string | null): TenantResolver => async (_request, given) => {
      expect(given).toBe(context);
      calls.push(name);
      return result;
    };
    expect(await chainResolvers(spy('a', null), spy('b', 'acme'), spy('c', 'globex'))(both, context)).toBe('acme');
    expect(calls).toEqual(['a', 'b']);
  });

  it('stops at the first resolver that refuses the input: bad input is not skipped over', async () => {
    let reached = false;
    const after: TenantResolver = () => {
      reached = true;
      return 'acme';
    };
    const badHost = requestOf({ host: 'bad_host.example.com', headers: { 'x-tenant-id': 'acme' } });
    expect(await thrown(() => chainResolvers(subdomain, after)(badHost, context))).toBeInstanceOf(InvalidDomainError);
    const badHeader = requestOf({ host: 'example.com', headers: { 'x-tenant-id': 'ACME' } });
    expect(await thrown(() => chainResolvers(header, after)(badHeader, context))).toBeInstanceOf(InvalidTenantIdError);
    expect(reached).toBe(false);
  });

  it('refuses anything but functions, saying where', () => {
    expect(() => chainResolvers(subdomain, 'header' as unknown as TenantResolver)).toThrow(/position 1/);
    expect(() => chainResolvers(undefined as unknown as TenantResolver)).toThrow(InvalidConfigError);
  });

  it('takes a custom resolver written in a few lines, through tenancy.resolveRequest', async () => {
    // The tenant is in a cookie: `tenant=<id>`.
    const fromCookie: TenantResolver = (request) => /(?:^|;\s*)tenant=([^;]*)/.exec(String(request.headers.cookie ?? ''))?.[1] ?? null;
    const tenancy = createTenancy({
      tenants: [{ id: 'acme' }, { id: 'globex' }],
      resolver: chainResolvers(subdomain, fromCookie),
    });
    const found = await tenancy.resolveRequest(requestOf({ host: 'example.com', headers: { cookie: 'theme=dark; tenant=globex' } }));
    expect(found?.tenant.id).toBe('globex');
    expect((await tenancy.resolveRequest(requestOf({ host: 'acme.example.com', headers: { cookie: 'tenant=globex' } })))?.tenant.id).toBe('acme');
    expect(await tenancy.resolveRequest(requestOf({ host: 'example.com' }))).toBeNull();
    // What a custom resolver returns is checked like any other id: invalid → 400, unknown → 404.
    const invalid = await thrown(() => tenancy.resolveRequest(requestOf({ host: 'example.com', headers: { cookie: 'tenant=../etc' } })));
    expect(invalid).toBeInstanceOf(InvalidTenantIdError);
    const unknown = await thrown(() => tenancy.resolveRequest(requestOf({ host: 'example.com', headers: { cookie: 'tenant=ghost' } })));
    expect(unknown).toBeInstanceOf(TenantNotFoundError);
    expect((unknown as TenantNotFoundError).httpStatus).toBe(404);
  });

  it('passes a path match (and its stripped path) through resolveRequest', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }], resolver: chainResolvers(subdomain, pathResolver()) });
    const found = await tenancy.resolveRequest(requestOf({ host: 'example.com', path: '/t/acme/orders/1' }));
    expect(found?.tenant.id).toBe('acme');
    expect(found?.path).toBe('/orders/1');
  });
});
