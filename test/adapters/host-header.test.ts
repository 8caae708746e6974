import { describe, expect, it } from 'vitest';
import { hostHeader } from '../../src/adapters/host-header.js';
import { InvalidDomainError } from '../../src/index.js';

const http11 = { httpVersionMajor: 1, httpVersionMinor: 1 };

describe('hostHeader', () => {
  it('is the one Host header, whatever the case of its name', () => {
    expect(hostHeader({ headers: { host: 'acme.example.com' }, rawHeaders: ['Accept', '*/*', 'hOsT', 'acme.example.com'], ...http11 })).toBe('acme.example.com');
    expect(hostHeader({ headers: { host: '' }, rawHeaders: ['Host', ''], ...http11 })).toBe('');
  });

  it('counts the raw lines, as Node keeps only the first Host in headers', () => {
    for (const rawHeaders of [
      ['Host', 'acme.example.com', 'Host', 'globex.example.com'],
      ['host', 'acme.example.com', 'X-Other', 'x', 'HOST', 'acme.example.com'],
      ['Host', 'acme.example.com', 'Host', ''],
      ['Host', 'a', 'Host', 'b', 'Host', 'c'],
    ]) {
      expect(() => hostHeader({ headers: { host: rawHeaders[1] }, rawHeaders, ...http11 }), rawHeaders.join(' ')).toThrow(InvalidDomainError);
    }
    expect(() => hostHeader({ headers: { host: 'a' }, rawHeaders: ['Host', 'a', 'Host', 'b'] })).toThrow('Invalid domain "a, b": a request may have one Host header, and this one has 2');
  });

  it('is not confused by names that only look like Host', () => {
    const rawHeaders = ['Host', 'acme.example.com', 'Hosts', 'x', 'X-Host', 'y', 'Hos', 'z', 'Ho\u0013t', 'w', 'X-Forwarded-Host', 'v'];
    expect(hostHeader({ headers: { host: 'acme.example.com' }, rawHeaders, ...http11 })).toBe('acme.example.com');
  });

  it('refuses an HTTP/1.1 request without Host, and lets HTTP/1.0 and HTTP/2 have none', () => {
    expect(() => hostHeader({ headers: {}, rawHeaders: ['Accept', '*/*'], ...http11 })).toThrow(/an HTTP\/1.1 request must have a Host header/);
    expect(hostHeader({ headers: {}, rawHeaders: [], httpVersionMajor: 1, httpVersionMinor: 0 })).toBeUndefined();
    expect(hostHeader({ headers: {}, rawHeaders: [':authority', 'acme.example.com'], httpVersionMajor: 2, httpVersionMinor: 0 })).toBeUndefined();
  });

  it('reads headers alone when there are no raw headers', () => {
    expect(hostHeader({ headers: { host: 'acme.example.com' } })).toBe('acme.example.com');
    expect(hostHeader({ headers: {} })).toBeUndefined();
  });
});
