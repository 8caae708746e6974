import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';
import {
  assertTenantId,
  InvalidConfigError,
  InvalidDomainError,
  InvalidSchemaNameError,
  InvalidTenantIdError,
  isTenancyError,
  MigrationChecksumError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  NoTenantError,
  TenancyError,
  TenantExistsError,
  TenantNotFoundError,
  TenantSuspendedError,
  TenantMovingError,
  UnknownServerError,
} from '../src/index.js';
import { thrown } from './helpers/thrown.js';

const cause = new Error('the underlying failure');

interface Case {
  readonly make: () => TenancyError;
  readonly type: abstract new (...args: never[]) => TenancyError;
  readonly name: string;
  readonly code: string;
  readonly httpStatus: number;
  /** Whether the constructor takes a cause (the `cause` above is passed where it does). */
  readonly keepsCause: boolean;
  readonly fields?: Record<string, unknown>;
}

/** The codes and statuses that clients and dashboards depend on: changing one is a breaking change. */
const cases: readonly Case[] = [
  {
    make: () => new TenancyError('TENANTRY_INVALID_CONFIG', 500, 'base', { cause }),
    type: TenancyError,
    name: 'TenancyError',
    code: 'TENANTRY_INVALID_CONFIG',
    httpStatus: 500,
    keepsCause: true,
  },
  {
    make: () => new InvalidTenantIdError('Acme!', 'only a-z'),
    type: InvalidTenantIdError,
    name: 'InvalidTenantIdError',
    code: 'TENANTRY_INVALID_TENANT_ID',
    httpStatus: 400,
    keepsCause: false,
    fields: { reason: 'only a-z' },
  },
  {
    make: () => new InvalidSchemaNameError('pg_catalog', 'reserved'),
    type: InvalidSchemaNameError,
    name: 'InvalidSchemaNameError',
    code: 'TENANTRY_INVALID_SCHEMA_NAME',
    httpStatus: 500,
    keepsCause: false,
    fields: { reason: 'reserved' },
  },
  {
    make: () => new InvalidDomainError('acme.com:80', 'no ports'),
    type: InvalidDomainError,
    name: 'InvalidDomainError',
    code: 'TENANTRY_INVALID_DOMAIN',
    httpStatus: 400,
    keepsCause: false,
    fields: { reason: 'no ports' },
  },
  {
    make: () => new InvalidConfigError('bad option', { cause }),
    type: InvalidConfigError,
    name: 'InvalidConfigError',
    code: 'TENANTRY_INVALID_CONFIG',
    httpStatus: 500,
    keepsCause: true,
  },
  {
    make: () => new TenantNotFoundError('ghost'),
    type: TenantNotFoundError,
    name: 'TenantNotFoundError',
    code: 'TENANTRY_TENANT_NOT_FOUND',
    httpStatus: 404,
    keepsCause: false,
    fields: { tenantId: 'ghost' },
  },
  {
    make: () => new TenantExistsError('acme', 'schema taken', { cause }),
    type: TenantExistsError,
    name: 'TenantExistsError',
    code: 'TENANTRY_TENANT_EXISTS',
    httpStatus: 409,
    keepsCause: true,
    fields: { tenantId: 'acme' },
  },
  {
    make: () => new TenantSuspendedError('acme'),
    type: TenantSuspendedError,
    name: 'TenantSuspendedError',
    code: 'TENANTRY_TENANT_SUSPENDED',
    httpStatus: 403,
    keepsCause: false,
    fields: { tenantId: 'acme' },
  },
  {
    make: () => new TenantMovingError('acme', 7),
    type: TenantMovingError,
    name: 'TenantMovingError',
    code: 'TENANTRY_TENANT_MOVING',
    httpStatus: 503,
    keepsCause: false,
    fields: { tenantId: 'acme', retryAfter: 7 },
  },
  {
    make: () => new UnknownServerError('mars', ['main', 'eu']),
    type: UnknownServerError,
    name: 'UnknownServerError',
    code: 'TENANTRY_UNKNOWN_SERVER',
    httpStatus: 500,
    keepsCause: false,
    fields: { server: 'mars' },
  },
  {
    make: () => new NoTenantError(),
    type: NoTenantError,
    name: 'NoTenantError',
    code: 'TENANTRY_NO_TENANT',
    httpStatus: 500,
    keepsCause: false,
  },
  {
    make: () => new MigrationFailedError('acme', '002_orders', { cause }),
    type: MigrationFailedError,
    name: 'MigrationFailedError',
    code: 'TENANTRY_MIGRATION_FAILED',
    httpStatus: 500,
    keepsCause: true,
    fields: { tenantId: 'acme', migration: '002_orders' },
  },
  {
    make: () => new MigrationLockTimeoutError('acme', '002_orders', { cause, attempts: 3, lockTimeoutMs: 5000 }),
    type: MigrationLockTimeoutError,
    name: 'MigrationLockTimeoutError',
    code: 'TENANTRY_MIGRATION_LOCK_TIMEOUT',
    httpStatus: 500,
    keepsCause: true,
    fields: { tenantId: 'acme', migration: '002_orders', attempts: 3, lockTimeoutMs: 5000 },
  },
  {
    make: () => new MigrationChecksumError('001_products', 'tenant_acme'),
    type: MigrationChecksumError,
    name: 'MigrationChecksumError',
    code: 'TENANTRY_MIGRATION_CHECKSUM',
    httpStatus: 500,
    keepsCause: false,
    fields: { migration: '001_products' },
  },
];

/** Every error class errors.ts exports, found by walking its exports (so a new class is checked too). */
const exportedClasses = Object.entries(errors as Record<string, unknown>).filter(
  (entry): entry is [string, new (...args: unknown[]) => TenancyError] =>
    typeof entry[1] === 'function' && (entry[1] === TenancyError || entry[1].prototype instanceof TenancyError),
);

describe('error classes', () => {
  it.each(cases)('$name has a stable code, httpStatus and name, and is a TenancyError', (c) => {
    const error = c.make();
    expect(error).toBeInstanceOf(c.type);
    expect(error).toBeInstanceOf(TenancyError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(c.name);
    expect(error.code).toBe(c.code);
    expect(error.httpStatus).toBe(c.httpStatus);
    expect(error.message.length).toBeGreaterThan(0);
    expect(String(error)).toBe(`${c.name}: ${error.message}`);
    expect(error.stack?.split('\n')[0]).toBe(`${c.name}: ${error.message}`);
    expect(isTenancyError(error)).toBe(true);
    expect(error.cause).toBe(c.keepsCause ? cause : undefined);
    if (c.fields !== undefined) expect(error).toMatchObject(c.fields);
    // the code is a plain, enumerable field: it survives JSON logging
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: c.code, httpStatus: c.httpStatus });
  });

  it('covers the classes it pins, and every exported class keeps the shared invariants', () => {
    const names = exportedClasses.map(([name]) => name);
    for (const c of cases) expect(names).toContain(c.name);
    const codes = new Map<string, string>();
    for (const [exportName, ErrorClass] of exportedClasses) {
      if (ErrorClass === TenancyError) continue; // takes its code and status as arguments
      // generic arguments every constructor accepts: a received value / id, a reason / detail, options with a cause
      const error = new ErrorClass('acme', 'some reason', { cause });
      expect(error.name, exportName).toBe(exportName);
      expect(error).toBeInstanceOf(Error);
      expect(isTenancyError(error), exportName).toBe(true);
      expect(error.code, exportName).toMatch(/^TENANTRY_[A-Z_]+$/);
      expect(Number.isInteger(error.httpStatus) && error.httpStatus >= 400 && error.httpStatus <= 599, exportName).toBe(true);
      expect(error.message.length, exportName).toBeGreaterThan(0);
      if (error.cause !== undefined) expect(error.cause, exportName).toBe(cause);
      // one code per class
      expect(codes.get(error.code), `${exportName} reuses the code of ${codes.get(error.code)}`).toBeUndefined();
      codes.set(error.code, exportName);
    }
    expect(codes.size).toBeGreaterThanOrEqual(cases.length - 1);
  });

  it('MigrationFailedError carries the database error message and says where it failed', () => {
    const shared = new MigrationFailedError(undefined, undefined, { cause: new Error('relation "x" does not exist') });
    expect(shared.message).toContain('shared schema');
    expect(shared.message).toContain('relation "x" does not exist');
    expect(shared.tenantId).toBeUndefined();
    const tenant = new MigrationFailedError('acme', '002_orders', { cause: 'not an Error' });
    expect(tenant.message).toContain('"acme"');
    expect(tenant.message).toContain('"002_orders"');
    expect(tenant.message).toContain('not an Error');
  });
});

describe('isTenancyError', () => {
  it('is true for every tenantry error', () => {
    for (const c of cases) expect(isTenancyError(c.make())).toBe(true);
  });

  it('is false for plain errors, look-alikes without the brand, and non-objects', () => {
    const lookAlike = Object.assign(new Error('no brand'), { code: 'TENANTRY_NO_TENANT', httpStatus: 500 });
    const wrongSymbol = Object.assign(new Error('private symbol'), { [Symbol('tenantry.error')]: true, code: 'TENANTRY_NO_TENANT' });
    const brandNotTrue = { [Symbol.for('tenantry.error')]: 'yes', code: 'TENANTRY_NO_TENANT' };
    const brandNoCode = { [Symbol.for('tenantry.error')]: true };
    const brandNumericCode = { [Symbol.for('tenantry.error')]: true, code: 42 };
    for (const value of [
      new Error('plain'),
      new TypeError('plain'),
      lookAlike,
      wrongSymbol,
      brandNotTrue,
      brandNoCode,
      brandNumericCode,
      { code: 'TENANTRY_NO_TENANT', httpStatus: 500 },
      {},
      Object.create(null),
      null,
      undefined,
      'TENANTRY_NO_TENANT',
      42,
      Symbol.for('tenantry.error'),
      () => {},
    ]) {
      expect(isTenancyError(value)).toBe(false);
    }
  });

  it('is true for an error from another copy of the package (same global brand, other class)', () => {
    // what a second installed copy, or the CommonJS build, would throw: its own classes, the shared brand
    const otherCopyBrand: unique symbol = Symbol.for('tenantry.error');
    class OtherCopyTenancyError extends Error {
      override name = 'TenantNotFoundError';
      readonly code = 'TENANTRY_TENANT_NOT_FOUND';
      readonly httpStatus = 404;
      readonly [otherCopyBrand] = true;
    }
    const foreign = new OtherCopyTenancyError('No tenant "acme" is registered');
    expect(foreign).not.toBeInstanceOf(TenancyError);
    expect(isTenancyError(foreign)).toBe(true);
    const plainObject = { [Symbol.for('tenantry.error')]: true, code: 'TENANTRY_NO_TENANT' };
    expect(isTenancyError(plainObject)).toBe(true);
    if (isTenancyError(foreign)) expect(foreign.code).toBe('TENANTRY_TENANT_NOT_FOUND');
  });

  it('the brand is the registered symbol, so our own errors are recognised by another copy too', () => {
    const error = new NoTenantError();
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('tenantry.error')]).toBe(true);
  });
});

describe('messages', () => {
  const huge = 'x'.repeat(100_000);

  it('say what arrived and why', () => {
    expect(thrown(() => assertTenantId('Acme!'))).toMatchObject({ message: expect.stringContaining('"Acme!"') });
    expect(new InvalidTenantIdError(42, 'expected a string').message).toContain('(number) 42');
    expect(new InvalidTenantIdError(null, 'expected a string').message).toContain('null');
    expect(new TenantNotFoundError('ghost').message).toContain('"ghost"');
    expect(new NoTenantError('Query "products"').message).toMatch(/^Query "products" needs a tenant/);
  });

  it('shorten huge inputs', () => {
    const made: TenancyError[] = [
      new InvalidTenantIdError(huge, 'too long'),
      new InvalidSchemaNameError(huge, 'too long'),
      new InvalidDomainError(huge, 'too long'),
      new TenantNotFoundError(huge),
      new TenantExistsError(huge),
      new TenantSuspendedError(huge),
      new MigrationChecksumError(huge, huge),
      new MigrationFailedError(huge, huge, { cause: new Error('boom') }),
      new InvalidTenantIdError(Array.from({ length: 10_000 }, () => 'item'), 'expected a string'),
      new InvalidTenantIdError({ toString: () => huge }, 'expected a string'),
    ];
    for (const error of made) {
      expect(error.message.length, error.name).toBeLessThan(400);
      expect(error.message, error.name).toContain('...');
    }
    expect(thrown(() => assertTenantId(huge))).toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID' });
    expect((thrown(() => assertTenantId(huge)) as Error).message.length).toBeLessThan(200);
  });

  it('escape control characters, so an input cannot forge log lines', () => {
    const message = new InvalidTenantIdError('acme\n2024-01-01 INFO admin logged in\r\u001b[31m', 'bad').message;
    for (const control of ['\n', '\r', '\u001b']) expect(message).not.toContain(control);
    expect(message).toContain('\\n');
  });

  it('never throw while describing an unprintable value', () => {
    const unprintable = [
      Object.create(null),
      {
        toString() {
          throw new Error('toString exploded');
        },
      },
      {
        [Symbol.toPrimitive]() {
          throw new Error('toPrimitive exploded');
        },
      },
      new Proxy(
        {},
        {
          get() {
            throw new Error('proxy exploded');
          },
        },
      ),
      Symbol('s'),
      10n,
    ];
    for (const value of unprintable) {
      const error = thrown(() => assertTenantId(value));
      expect(error).toBeInstanceOf(InvalidTenantIdError);
      expect((error as InvalidTenantIdError).message).toMatch(/^Invalid tenant id \((object|symbol|bigint)\) /);
      expect(new InvalidDomainError(value, 'expected a string').code).toBe('TENANTRY_INVALID_DOMAIN');
    }
  });
});
