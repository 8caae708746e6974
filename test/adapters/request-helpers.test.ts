import type { IncomingMessage } from 'node:http';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { tenantRewriteUrl } from '../../src/adapters/fastify.js';
import { tenantRequestOf, withPath } from '../../src/adapters/identify-request.js';
import { problemOf } from '../../src/adapters/problem.js';
import { InvalidConfigError, InvalidDomainError, InvalidTenantIdError, TenantNotFoundError, TenantRequiredError } from '../../src/index.js';

describe('tenantRequestOf', () => {
  it('splits the query string off the path and keeps the headers', () => {
    const headers = { host: 'acme.example.com', 'x-tenant-id': 'acme' };
    expect(tenantRequestOf({ method: 'POST', headers }, '/t/acme/products?page=2&x=?', false)).toEqual({
      host: 'acme.example.com',
      path: '/t/acme/products',
      method: 'POST',
      headers,
    });
    expect(tenantRequestOf({ headers: {} }, undefined, false)).toEqual({ host: undefined, path: '/', method: 'GET', headers: {} });
    expect(tenantRequestOf({ headers: { host: 'acme' } }, '*', false).path).toBe('*');
  });

  it('reads X-Forwarded-Host (its first value) only when the proxy is trusted', () => {
    const headers = { host: 'internal:8080', 'x-forwarded-host': ' acme.example.com , proxy.example.com' };
    expect(tenantRequestOf({ headers }, '/', false).host).toBe('internal:8080');
    expect(tenantRequestOf({ headers }, '/', true).host).toBe('acme.example.com');
    expect(tenantRequestOf({ headers: { host: 'internal', 'x-forwarded-host': ['a.example.com', 'b.example.com'] } }, '/', true).host).toBe('a.example.com');
    expect(tenantRequestOf({ headers: { host: 'internal', 'x-forwarded-host': ' ' } }, '/', true).host).toBe('internal');
    expect(tenantRequestOf({ headers: { host: 'internal' } }, '/', true).host).toBe('internal');
  });

  it('takes the host and path of an absolute-form target, not the Host header (RFC 9112 §3.2.2)', () => {
    const headers = { host: 'acme.example.com' };
    const rawHeaders = ['Host', 'acme.example.com'];
    expect(tenantRequestOf({ headers, rawHeaders }, 'http://globex.example.com/x?q=1', false)).toEqual({
      host: 'globex.example.com',
      path: '/x',
      method: 'GET',
      headers,
    });
    expect(tenantRequestOf({ headers }, 'HTTPS://Globex.example.com:8443', false)).toMatchObject({ host: 'Globex.example.com:8443', path: '/' });
    expect(tenantRequestOf({ headers }, 'http://[::1]:3000?t=/t/acme', false)).toMatchObject({ host: '[::1]:3000', path: '/' });
  });

  it('lets a trusted X-Forwarded-Host win over an absolute-form target', () => {
    const headers = { host: 'internal', 'x-forwarded-host': 'big-co.example.com' };
    expect(tenantRequestOf({ headers }, 'http://globex.example.com/x', true)).toMatchObject({ host: 'big-co.example.com', path: '/x' });
    expect(tenantRequestOf({ headers }, 'http://globex.example.com/x', false).host).toBe('globex.example.com');
    // The target is checked also when the forwarded host is used.
    expect(() => tenantRequestOf({ headers }, 'http://user@globex.example.com/x', true)).toThrow(InvalidDomainError);
  });

  it('refuses two Host headers, a missing one on HTTP/1.1 and a malformed absolute-form target with InvalidDomainError (400)', () => {
    const twice = { headers: { host: 'acme.example.com' }, rawHeaders: ['Host', 'acme.example.com', 'host', 'globex.example.com'] };
    expect(() => tenantRequestOf(twice, '/', false)).toThrow(/"acme.example.com, globex.example.com": a request may have one Host header, and this one has 2/);
    expect(() => tenantRequestOf({ headers: {}, rawHeaders: [], httpVersionMajor: 1, httpVersionMinor: 1 }, '/t/acme', false)).toThrow(InvalidDomainError);
    for (const target of ['http://user@globex.example.com/x', 'http:///x', 'http://globex.example.com:99x/x', 'ftp://globex.example.com/x']) {
      expect(() => tenantRequestOf({ headers: { host: 'acme.example.com' } }, target, false), target).toThrow(expect.objectContaining({ name: 'InvalidDomainError', httpStatus: 400 }));
    }
  });
});

describe('withPath', () => {
  it('replaces the path and keeps the query string', () => {
    expect(withPath('/t/acme/products?page=2', '/products')).toBe('/products?page=2');
    expect(withPath('/t/acme?x', '/')).toBe('/?x');
    expect(withPath('/t/acme', '/')).toBe('/');
  });

  it('keeps the scheme and host of an absolute-form target', () => {
    expect(withPath('http://example.com/t/acme/products?page=2', '/products')).toBe('http://example.com/products?page=2');
    expect(withPath('HTTP://example.com:8080/t/acme', '/')).toBe('HTTP://example.com:8080/');
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

  it('rewrites the path of an absolute-form target and keeps its scheme and host', () => {
    const rewrite = tenantRewriteUrl({ prefix: '/t' });
    expect(rewrite({ url: 'http://example.com/t/acme/products?page=2' })).toBe('http://example.com/products?page=2');
    expect(rewrite({ url: 'https://example.com:8443/t/acme' })).toBe('https://example.com:8443/');
  });

  it('leaves other URLs alone', () => {
    const rewrite = tenantRewriteUrl();
    for (const url of ['/', '/products', '/t', '/t/', '/tx/acme', '/products?t=/t/acme', '*', 'http://host/products?t=/t/acme', 'http://host?t=/t/acme']) {
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
