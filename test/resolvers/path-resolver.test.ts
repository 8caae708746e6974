import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, InvalidTenantIdError, pathResolver, type TenantResolver } from '../../src/index.js';
import { contextOf, requestOf, thrown } from './request.js';

const context = contextOf();
const resolve = (resolver: TenantResolver, path: string) => resolver(requestOf({ path }), context);

describe('pathResolver', () => {
  const resolver = pathResolver({ prefix: '/t' });

  it('resolves the segment after the prefix and strips both from the path the app sees', async () => {
    expect(await resolve(resolver, '/t/acme')).toEqual({ tenantId: 'acme', path: '/' });
    expect(await resolve(resolver, '/t/acme/')).toEqual({ tenantId: 'acme', path: '/' });
    expect(await resolve(resolver, '/t/acme/products')).toEqual({ tenantId: 'acme', path: '/products' });
    expect(await resolve(resolver, '/t/big-co/products/7/edit')).toEqual({ tenantId: 'big-co', path: '/products/7/edit' });
    expect(await resolve(resolver, '/t/acme//x')).toEqual({ tenantId: 'acme', path: '//x' });
  });

  it('uses /t by default', async () => {
    expect(await resolve(pathResolver(), '/t/acme/x')).toEqual({ tenantId: 'acme', path: '/x' });
  });

  it('does not match paths outside the prefix', async () => {
    for (const path of ['/', '/t', '/t/', '/tx/acme', '/T/acme', '/acme', '/products/t/acme', 't/acme', '', '/%74/acme']) {
      expect(await resolve(resolver, path), path).toBeNull();
    }
  });

  it('normalises the prefix: trailing slashes, longer prefixes, and "/" for a bare first segment', async () => {
    expect(await resolve(pathResolver({ prefix: '/t/' }), '/t/acme/x')).toEqual({ tenantId: 'acme', path: '/x' });
    expect(await resolve(pathResolver({ prefix: '/t///' }), '/t/acme')).toEqual({ tenantId: 'acme', path: '/' });
    const nested = pathResolver({ prefix: '/api/tenants' });
    expect(await resolve(nested, '/api/tenants/acme/orders')).toEqual({ tenantId: 'acme', path: '/orders' });
    expect(await resolve(nested, '/api/acme/orders')).toBeNull();
    expect(await resolve(nested, '/api/tenantsx/acme')).toBeNull();
    const bare = pathResolver({ prefix: '/' });
    expect(await resolve(bare, '/acme/products')).toEqual({ tenantId: 'acme', path: '/products' });
    expect(await resolve(bare, '/acme')).toEqual({ tenantId: 'acme', path: '/' });
    expect(await resolve(bare, '/')).toBeNull();
  });

  it('decodes a percent-encoded tenant segment, and keeps the rest of the path as it came', async () => {
    expect(await resolve(resolver, '/t/ac%6De/x')).toEqual({ tenantId: 'acme', path: '/x' });
    expect(await resolve(resolver, '/t/%61%63%6d%65')).toEqual({ tenantId: 'acme', path: '/' });
    expect(await resolve(resolver, '/t/acme/a%2Fb%20c')).toEqual({ tenantId: 'acme', path: '/a%2Fb%20c' });
  });

  it('refuses a tenant segment that is not a valid id with InvalidTenantIdError (400)', async () => {
    for (const path of [
      '/t/ACME',
      '/t/Acme/x',
      '/t/%41cme',
      '/t/acme%2Fx',
      '/t/acme%2fx/y',
      '/t/..',
      '/t/../x',
      '/t/%2e%2e/x',
      '/t/.',
      '/t//x',
      '/t/%',
      '/t/%zz',
      '/t/%E0%A4%A',
      '/t/acme%00',
      '/t/-acme',
      '/t/acme-',
      '/t/ac_me',
      '/t/b%C3%BCcher',
      `/t/${'a'.repeat(64)}`,
      '/t/acme;x=1',
    ]) {
      const error = await thrown(() => resolve(resolver, path));
      expect(error, path).toBeInstanceOf(InvalidTenantIdError);
      expect((error as InvalidTenantIdError).code).toBe('TENANTRY_INVALID_TENANT_ID');
      expect((error as InvalidTenantIdError).httpStatus).toBe(400);
    }
  });

  it('refuses a prefix that is not plain path segments', () => {
    for (const prefix of ['t', 'tenants/', '/a b', '/t?x', '/t#x', '/t/%20', '//t/x/']) {
      expect(() => pathResolver({ prefix }), prefix).toThrow(InvalidConfigError);
    }
  });

  it('for any valid id and rest of path, /t/<id><rest> gives the id and <rest>', async () => {
    const id = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
    const segment = fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~%!$&\'()*+,;=:@'.split('')), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(id, fc.array(segment, { maxLength: 4 }), async (tenantId, segments) => {
        const rest = segments.map((s) => `/${s}`).join('');
        expect(await resolve(resolver, `/t/${tenantId}${rest}`)).toEqual({ tenantId, path: rest === '' ? '/' : rest });
      }),
      { numRuns: 500 },
    );
  });
});
