import { describe, expect, it } from 'vitest';
import { connectionProblem, databaseUnavailable } from '../src/connection-problem.js';
import { DatabaseUnavailableError } from '../src/errors.js';

/** What node-postgres rejects with when it asked for SSL and the server answered "N". */
const noSsl = (): Error => new Error('The server does not support SSL connections');

describe('connectionProblem', () => {
  it('classifies a server that does not accept SSL as an ssl problem', () => {
    expect(connectionProblem(noSsl())).toEqual({ kind: 'ssl', code: 'ENOSSL' });
  });

  it('does not take a query error that quotes the message for an ssl problem', () => {
    expect(connectionProblem(new Error('relation "x" does not exist: The server does not support SSL connections'))).toBeUndefined();
    expect(connectionProblem('The server does not support SSL connections')).toBeUndefined();
  });

  it('still classifies the other problems', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 5432 });
    expect(connectionProblem(refused)).toEqual({ kind: 'unreachable', code: 'ECONNREFUSED', address: '127.0.0.1:5432' });
    expect(connectionProblem(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toEqual({ kind: 'no-database', code: '3D000' });
    expect(connectionProblem(new Error('boom'))).toBeUndefined();
  });
});

describe('databaseUnavailable', () => {
  it('says to connect without SSL or to enable it on the server, with the error as its cause', () => {
    const cause = noSsl();
    const error = databaseUnavailable(cause);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error?.code).toBe('TENANTRY_DATABASE_UNAVAILABLE');
    expect(error?.cause).toBe(cause);
    expect(error?.message).toBe(
      'PostgreSQL does not accept SSL connections (The server does not support SSL connections): ' +
        "connect without SSL (remove sslmode=require from DATABASE_URL, or ssl from the pool's options), or enable ssl on the server",
    );
  });
});
