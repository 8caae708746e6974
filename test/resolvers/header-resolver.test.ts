import { describe, expect, it } from 'vitest';
import { headerResolver, InvalidConfigError, InvalidTenantIdError, type TenantRequest } from '../../src/index.js';
import { contextOf, requestOf, thrown } from './request.js';

const context = contextOf();
const withHeaders = (headers: TenantRequest['headers']) => requestOf({ host: 'acme.example.com', headers });

describe('headerResolver', () => {
  const resolver = headerResolver();

  it('reads x-tenant-id by default', async () => {
    expect(await resolver(withHeaders({ 'x-tenant-id': 'acme' }), context)).toBe('acme');
    expect(await resolver(withHeaders({ 'x-tenant-id': 'big-co' }), context)).toBe('big-co');
  });

  it('does not match when the header is missing, empty or blank', async () => {
    expect(await resolver(withHeaders({}), context)).toBeNull();
    expect(await resolver(withHeaders({ 'x-tenant-id': undefined }), context)).toBeNull();
    expect(await resolver(withHeaders({ 'x-tenant-id': '' }), context)).toBeNull();
    expect(await resolver(withHeaders({ 'x-tenant-id': '  \t ' }), context)).toBeNull();
    expect(await resolver(withHeaders({ 'x-other': 'acme' }), context)).toBeNull();
  });

  it('trims surrounding whitespace, and takes the first of repeated values', async () => {
    expect(await resolver(withHeaders({ 'x-tenant-id': '  acme\t' }), context)).toBe('acme');
    expect(await resolver(withHeaders({ 'x-tenant-id': ['globex', 'acme'] }), context)).toBe('globex');
  });

  it('takes another header name, matched case-insensitively against the lower-case names Node gives', async () => {
    const custom = headerResolver({ name: 'X-Org' });
    expect(await custom(withHeaders({ 'x-org': 'acme' }), context)).toBe('acme');
    expect(await custom(withHeaders({ 'x-tenant-id': 'acme' }), context)).toBeNull();
  });

  it('refuses a value that is not a valid tenant id with InvalidTenantIdError (400), never lower-casing it', async () => {
    for (const value of ['ACME', 'Acme', 'acme, globex', 'ac me', 'acme;', '-acme', 'acme-', 'ac_me', '../acme', 'b\u00fccher', 'a'.repeat(64), '"acme"']) {
      const error = await thrown(() => resolver(withHeaders({ 'x-tenant-id': value }), context));
      expect(error, value).toBeInstanceOf(InvalidTenantIdError);
      expect((error as InvalidTenantIdError).httpStatus).toBe(400);
    }
  });

  it('refuses a header name that is not a token', () => {
    for (const name of ['', 'x tenant', 'x-tenant:', 'x\ntenant', 'tenant(id)']) {
      expect(() => headerResolver({ name }), JSON.stringify(name)).toThrow(InvalidConfigError);
    }
  });
});
