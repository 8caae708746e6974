/**
 * sameRolePrefix: whether two owners came from tenancies with the same tenant-role prefix (the
 * part before the first NUL), which decides whether a connection is cleaned between them.
 */
import { describe, expect, it } from 'vitest';
import { sameRolePrefix } from '../../src/pg/scope-setting.js';

describe('sameRolePrefix', () => {
  it('compares the parts before the first NUL', () => {
    expect(sameRolePrefix('app_\0acme\0tenant_acme', 'app_\0globex\0tenant_globex')).toBe(true);
    expect(sameRolePrefix('\0acme\0tenant_acme', '\0globex\0tenant_globex')).toBe(true);
    expect(sameRolePrefix('app_\0acme\0tenant_acme', '\0acme\0tenant_acme')).toBe(false);
    expect(sameRolePrefix('app_\0acme', 'app2_\0acme')).toBe(false);
    expect(sameRolePrefix('app_\0acme', 'apx_\0acme')).toBe(false);
  });

  it('takes an owner without a NUL whole, as its own prefix', () => {
    expect(sameRolePrefix('app_', 'app_')).toBe(true);
    expect(sameRolePrefix('app_', 'app_\0acme')).toBe(true);
    expect(sameRolePrefix('app_', 'app')).toBe(false);
  });
});
