import type { IncomingMessage } from 'node:http';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { tenantRewriteUrl } from '../../src/adapters/fastify.js';
import { tenantRequestOf, withPath } from '../../src/adapters/identify-request.js';
import { problemOf } from '../../src/adapters/problem.js';
import { InvalidConfigError, InvalidTenantIdError, TenantNotFoundError, TenantRequiredError } from '../../src/index.js';

describe('tenantRequestOf', () => {
  it('splits the query string off the path and keeps the headers', () => {
    const headers = { host: 'acme.example.com', 'x-tenant-id': 'acme' };
    expect(tenantRequestOf({ url: '/t/acme/products?page=2&x=?', method: 'POST', headers }, false)).toEqual({
      host: 'acme.example.com',
      path: '/t/acme/products',
      method: 'POST',
      headers,
    });
    expect(tenantRequestOf({ headers: {} }, false)).toEqual({ host: undefined, path: '/', method: 'GET', headers: {} });
  });

  it('reads X-Forwarded-Host (its first value) only when the proxy is trusted', () => {
    const headers = { host: 'internal:8080', 'x-forwarded-host': ' acme.example.com , proxy.example.com' };
    expect(tenantRequestOf({ url: '/', headers }, false).host).toBe('internal:8080');
    expect(tenantRequestOf({ url: '/', headers }, true).host).toBe('acme.example.com');
    expect(tenantRequestOf({ url: '/', headers: { host: 'internal', 'x-forwarded-host': ['a.example.com', 'b.example.com'] } }, true).host).toBe('a.example.com');
    expect(tenantRequestOf({ url: '/', headers: { host: 'internal', 'x-forwarded-host': ' ' } }, true).host).toBe('internal');
    expect(tenantRequestOf({ url: '/', headers: { host: 'internal' } }, true).host).toBe('internal');
  });
});

describe('withPath', () => {
  it('replaces the path and keeps the query string', () => {
    expect(withPath('/t/acme/products?page=2', '/products')).toBe('/products?page=2');
    expect(withPath('/t/acme?x', '/')).toBe('/?x');
    expect(withPath('/t/acme', '/')).toBe('/');
  });
});

describe('tenantRewriteUrl', () => {
  it('removes the prefix and the tenant segment, keeping the query string', () => {
    const rewrite = tenantRewriteUrl({ prefix: '/t' });
    expect(rewrite({ url: '/t/acme/products?page=2' })).toBe('/products?page=2');
    expect(rewrite({ url: '/t/acme' })).toBe('/');
    expect(rewrite({ url: '/t/acme?x=1' })).toBe('/?x=1');
    expect(rewrite({ url: '/t/acme/?x=/t/y' })).toBe('/?x=/t/y');
    // Invalid segments are rewritten too: the plugin refuses them (400) from the original URL.
    expect(rewrite({ url: '/t/ACME/products' })).toBe('/products');
  });

  it('leaves other URLs alone', () => {
    const rewrite = tenantRewriteUrl();
    for (const url of ['/', '/products', '/t', '/t/', '/tx/acme', '/products?t=/t/acme', '*', 'http://host/t/acme']) {
      expect(rewrite({ url }), url).toBe(url);
    }
    expect(rewrite({ url: undefined })).toBe('/');
    expect(rewrite({})).toBe('/');
  });

  it("fits Fastify's rewriteUrl, which is handed an IncomingMessage whose url may be undefined", () => {
    expectTypeOf(tenantRewriteUrl()).toBeCallableWith({} as IncomingMessage);
  });

  it('refuses a prefix that is not plain path segments', () => {
    expect(() => tenantRewriteUrl({ prefix: 't' })).toThrow(InvalidConfigError);
  });
});

describe('problemOf', () => {
  it('maps tenantry errors to RFC 9457 problem details with the stable code', () => {
    expect(problemOf(new TenantNotFoundError('ghost'))).toEqual({
      type: 'urn:tenantry:tenant-not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No tenant "ghost" is registered',
      code: 'TENANTRY_TENANT_NOT_FOUND',
    });
    expect(problemOf(new InvalidTenantIdError('A', 'only lower-case letters'))).toMatchObject({ status: 400, title: 'Bad Request', type: 'urn:tenantry:invalid-tenant-id' });
    expect(problemOf(new TenantRequiredError())).toMatchObject({ status: 404, code: 'TENANTRY_TENANT_REQUIRED' });
    expect(problemOf(new InvalidConfigError('x'))).toMatchObject({ status: 500, title: 'Error' });
  });
});
