import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDomainError, isTenancyError, parseHost } from '../../src/index.js';

function refusal(value: string): InvalidDomainError {
  try {
    parseHost(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDomainError);
    return error as InvalidDomainError;
  }
  throw new Error(`parseHost(${JSON.stringify(value)}) did not throw`);
}

describe('parseHost', () => {
  it('lower-cases names and drops the port and a trailing dot', () => {
    expect(parseHost('acme.example.com')).toEqual({ hostname: 'acme.example.com', ip: false });
    expect(parseHost('ACME.Example.COM')).toEqual({ hostname: 'acme.example.com', ip: false });
    expect(parseHost('acme.example.com.')).toEqual({ hostname: 'acme.example.com', ip: false });
    expect(parseHost('ACME.example.com.:3000')).toEqual({ hostname: 'acme.example.com', ip: false });
    expect(parseHost('acme.localhost:3000')).toEqual({ hostname: 'acme.localhost', ip: false });
    expect(parseHost('localhost')).toEqual({ hostname: 'localhost', ip: false });
    expect(parseHost('  acme.example.com  ')).toEqual({ hostname: 'acme.example.com', ip: false });
  });

  it('accepts ports of 1 to 5 digits and refuses anything else after a colon', () => {
    for (const port of ['0', '1', '80', '443', '8080', '65535']) {
      expect(parseHost(`acme.example.com:${port}`).hostname).toBe('acme.example.com');
    }
    for (const bad of ['acme.example.com:', 'acme.example.com:123456', 'acme.example.com:80:90', 'acme.example.com:http', 'acme.example.com: 80', 'acme.example.com:-1']) {
      expect(refusal(bad).reason).toMatch(/port/);
    }
  });

  it('recognises IPv4 addresses, with a port or a trailing dot', () => {
    expect(parseHost('127.0.0.1')).toEqual({ hostname: '127.0.0.1', ip: true });
    expect(parseHost('10.1.2.3:8080')).toEqual({ hostname: '10.1.2.3', ip: true });
    // A trailing dot does not turn an address into a name (WHATWG URL parses http://127.0.0.1./ as 127.0.0.1).
    expect(parseHost('127.0.0.1.')).toEqual({ hostname: '127.0.0.1', ip: true });
    expect(parseHost('127.0.0.1.:3000')).toEqual({ hostname: '127.0.0.1', ip: true });
  });

  it('recognises bracketed IPv6 literals, lower-cased and without brackets', () => {
    expect(parseHost('[::1]')).toEqual({ hostname: '::1', ip: true });
    expect(parseHost('[::1]:3000')).toEqual({ hostname: '::1', ip: true });
    expect(parseHost('[2001:DB8::1]:443')).toEqual({ hostname: '2001:db8::1', ip: true });
    expect(parseHost('[::ffff:127.0.0.1]')).toEqual({ hostname: '::ffff:127.0.0.1', ip: true });
  });

  it('refuses malformed IPv6 hosts', () => {
    for (const bad of ['::1', '[::1', '[::1]x', '[::1]:', '[::1]:123456', '[]', '[not-an-ip]', '[127.0.0.1]', '[::1]]', '2001:db8::1']) {
      refusal(bad);
    }
  });

  it('refuses values that are not host names, with InvalidDomainError (400)', () => {
    const tooLong = `${'a'.repeat(63)}.`.repeat(4) + 'com';
    for (const bad of [
      '',
      '   ',
      '.',
      '..',
      'evil host',
      'acme..example.com',
      '.acme.example.com',
      '-acme.example.com',
      'acme-.example.com',
      'acme_1.example.com',
      'acme.example.com/path',
      'user@acme.example.com',
      'b\u00fccher.example.com',
      '\u00e9.example.com',
      `${'a'.repeat(64)}.example.com`,
      tooLong,
    ]) {
      const error = refusal(bad);
      expect(isTenancyError(error)).toBe(true);
      expect(error.code).toBe('TENANTRY_INVALID_DOMAIN');
      expect(error.httpStatus).toBe(400);
    }
  });

  it('accepts the longest labels and names allowed, and punycode', () => {
    const label = 'a'.repeat(63);
    expect(parseHost(`${label}.example.com`).hostname).toBe(`${label}.example.com`);
    const name = [label, label, label, 'a'.repeat(61)].join('.');
    expect(name).toHaveLength(253);
    expect(parseHost(name).hostname).toBe(name);
    expect(parseHost('xn--bcher-kva.example.com').hostname).toBe('xn--bcher-kva.example.com');
  });

  it('for any input, returns a lower-case host without port or throws InvalidDomainError, nothing else', () => {
    const hostish = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: fc.constantFrom(...'aZ0-._:[]%@ \t/\u00fc'.split('')), maxLength: 40 }),
      fc.tuple(fc.domain(), fc.option(fc.integer({ min: 0, max: 999_999 }))).map(([d, p]) => (p === null ? d : `${d}:${p}`)),
      fc.tuple(fc.ipV6(), fc.option(fc.nat(70_000))).map(([ip, p]) => `[${ip}]${p === null ? '' : `:${p}`}`),
      fc.ipV4(),
    );
    fc.assert(
      fc.property(hostish, (value) => {
        let parsed;
        try {
          parsed = parseHost(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidDomainError);
          return;
        }
        expect(parsed.hostname).toBe(parsed.hostname.toLowerCase());
        expect(parsed.hostname.endsWith('.')).toBe(false);
        if (!parsed.ip) expect(parsed.hostname).toMatch(/^[a-z0-9.-]+$/);
      }),
      { numRuns: 2_000 },
    );
  });

  it('parses a host once: the same frozen result again, a bad host refused every time, past the bound too', () => {
    const first = parseHost('Acme.Example.COM:8080');
    expect(parseHost('Acme.Example.COM:8080')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => ((first as { hostname: string }).hostname = 'other.example.com')).toThrow(TypeError);
    for (let i = 0; i < 3_000; i += 1) expect(parseHost(`t-${i}.example.com`).hostname).toBe(`t-${i}.example.com`);
    expect(parseHost('Acme.Example.COM:8080')).toEqual({ hostname: 'acme.example.com', ip: false });
    for (let i = 0; i < 2; i += 1) expect(refusal('acme..example.com').code).toBe('TENANTRY_INVALID_DOMAIN');
  });
});
