import { describe, expect, it } from 'vitest';
import { absoluteTargetHost, splitAbsoluteTarget } from '../../src/adapters/request-target.js';

describe('splitAbsoluteTarget', () => {
  it('splits scheme, authority, path and query as received', () => {
    expect(splitAbsoluteTarget('http://globex.example.com/x/y?q=1&r=/z')).toEqual({
      scheme: 'http',
      authority: 'globex.example.com',
      origin: 'http://globex.example.com',
      path: '/x/y',
      query: '?q=1&r=/z',
    });
    expect(splitAbsoluteTarget('HTTPS://Globex.Example.com:8443')).toEqual({
      scheme: 'HTTPS',
      authority: 'Globex.Example.com:8443',
      origin: 'HTTPS://Globex.Example.com:8443',
      path: '/',
      query: '',
    });
    expect(splitAbsoluteTarget('http://[::1]:80?x=1')).toMatchObject({ authority: '[::1]:80', path: '/', query: '?x=1' });
    expect(splitAbsoluteTarget('http://user:pw@acme/x')).toMatchObject({ authority: 'user:pw@acme', path: '/x' });
    expect(splitAbsoluteTarget('http:///x')).toMatchObject({ authority: '', path: '/x' });
    expect(splitAbsoluteTarget('ftp://acme/x')).toMatchObject({ scheme: 'ftp', authority: 'acme', path: '/x' });
  });

  it('answers null for targets in another form', () => {
    for (const target of ['/', '/x?u=http://acme/', '//acme/x', '*', 'acme.example.com/x', 'http:acme/x', 'http:/x', '1http://acme/', '']) {
      expect(splitAbsoluteTarget(target), target).toBeNull();
    }
  });
});

describe('absoluteTargetHost', () => {
  const hostOf = (target: string): string => absoluteTargetHost(splitAbsoluteTarget(target)!, target);

  it('is the authority of an http or https target with a valid host and port', () => {
    expect(hostOf('http://globex.example.com/x')).toBe('globex.example.com');
    expect(hostOf('HTTPS://Globex.example.com.:8443/x')).toBe('Globex.example.com.:8443');
    expect(hostOf('http://127.0.0.1:3000/')).toBe('127.0.0.1:3000');
    expect(hostOf('http://[::1]/t/acme')).toBe('[::1]');
  });

  it('refuses user information, an empty host, a bad host or port and other schemes with InvalidDomainError (400)', () => {
    const cases: [string, RegExp][] = [
      ['http://user@globex.example.com/x', /user information/],
      ['http://user:secret@globex.example.com/x', /user information/],
      ['http://@globex.example.com/x', /user information/],
      ['http:///x', /names no host/],
      ['http://?x=1', /names no host/],
      ['http://globex.example.com:99x/x', /port/],
      ['http://globex.example.com:/x', /port/],
      ['http://globex.example.com:123456/x', /port/],
      ['http://bad_host.example.com/x', /Invalid domain/],
      ['http://[::1/x', /IPv6/],
      ['ftp://globex.example.com/x', /http or https/],
      ['git+ssh://globex.example.com/x', /http or https/],
    ];
    for (const [target, message] of cases) {
      expect(() => hostOf(target), target).toThrow(expect.objectContaining({ name: 'InvalidDomainError', httpStatus: 400, message: expect.stringMatching(message) }));
    }
  });
});
