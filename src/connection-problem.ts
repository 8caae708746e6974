/**
 * Tells a failed connection to PostgreSQL apart from other errors, and says what to fix.
 *
 * @module
 */
import { sqlState } from './db.js';
import { DatabaseUnavailableError } from './errors.js';

/**
 * Why a connection failed: the server cannot be reached (`unreachable`, `timeout`), it refused
 * the login (`login`; `no-user` when no user name was sent at all, as with a pool made without
 * settings), the database does not exist (`no-database`), the server is starting (`starting`), or
 * the client asked for SSL (`sslmode=require`, `ssl: true`) and the server does not accept it (`ssl`).
 *
 * @example
 * ```ts
 * const problem: ConnectionProblem = { kind: 'unreachable', code: 'ECONNREFUSED', address: '127.0.0.1:5432' };
 * ```
 */
export interface ConnectionProblem {
  readonly kind: 'unreachable' | 'timeout' | 'login' | 'no-user' | 'no-database' | 'starting' | 'ssl';
  /**
   * The SQLSTATE or the network error code (`ECONNREFUSED`), `ETIMEDOUT` for a timeout, or
   * `ENOSSL` when the server does not accept SSL (node-postgres gives that error no code).
   */
  readonly code: string;
  /** `host:port` the driver tried, when the error names it. */
  readonly address?: string | undefined;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT', 'EPIPE']);

/**
 * Classifies an error of node-postgres as a connection problem, or `undefined` for any other
 * error (a failed query, a bug).
 *
 * @example
 * ```ts
 * connectionProblem(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: 5432 }));
 * // { kind: 'unreachable', code: 'ECONNREFUSED', address: '127.0.0.1:5432' }
 * ```
 */
export function connectionProblem(error: unknown): ConnectionProblem | undefined {
  const state = sqlState(error);
  if (state === '28000' && /no PostgreSQL user name specified/i.test(messageOf(error))) return { kind: 'no-user', code: state };
  if (state === '28P01' || state === '28000') return { kind: 'login', code: state };
  if (state === '3D000') return { kind: 'no-database', code: state };
  if (state === '57P03') return { kind: 'starting', code: state };
  const candidates = [error, ...(((error as { errors?: unknown } | null)?.errors as unknown[] | undefined) ?? [])];
  for (const candidate of candidates) {
    const code = (candidate as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && UNREACHABLE.has(code) && typeof (candidate as { syscall?: unknown }).syscall === 'string') {
      return { kind: 'unreachable', code, address: addressOf(candidate) };
    }
  }
  if (error instanceof Error && /timeout expired|connection timeout/i.test(error.message)) return { kind: 'timeout', code: 'ETIMEDOUT' };
  // node-postgres's answer to the server's "N" (no SSL) to its SSLRequest: a plain Error, no code.
  if (error instanceof Error && /^The server does not support SSL connections$/.test(error.message)) return { kind: 'ssl', code: 'ENOSSL' };
  return undefined;
}

/**
 * The {@link DatabaseUnavailableError} for a failed connection (with the error as its cause), or
 * `undefined` when `error` is not a connection problem.
 *
 * @example
 * ```ts
 * await pool.query('SELECT 1').catch((error) => {
 *   throw databaseUnavailable(error) ?? error;
 * });
 * ```
 */
export function databaseUnavailable(error: unknown): DatabaseUnavailableError | undefined {
  const problem = connectionProblem(error);
  if (problem === undefined) return undefined;
  const detail = messageOf(error);
  const message = {
    unreachable: `Cannot reach PostgreSQL${problem.address === undefined ? '' : ` at ${problem.address}`} (${problem.code}): start the server, or set DATABASE_URL to a reachable database`,
    timeout: 'Timed out connecting to PostgreSQL: check that it is reachable from here, or set DATABASE_URL to a reachable database',
    'no-user':
      `Cannot connect to PostgreSQL (${detail}): the pool has no connection settings; ` +
      'set DATABASE_URL (postgres://user:password@host:5432/database) and make the pool with { connectionString: process.env.DATABASE_URL }',
    login: `PostgreSQL refused the login (${detail}): fix the user or password in DATABASE_URL`,
    'no-database': `The database does not exist (${detail}): create it, or set DATABASE_URL to one that exists`,
    starting: `PostgreSQL is not accepting connections yet (${detail}): try again shortly`,
    ssl: `PostgreSQL does not accept SSL connections (${detail}): connect without SSL (remove sslmode=require from DATABASE_URL, or ssl from the pool's options), or enable ssl on the server`,
  }[problem.kind];
  return new DatabaseUnavailableError(message, { cause: error });
}

function addressOf(error: unknown): string | undefined {
  const { address, port } = error as { address?: unknown; port?: unknown };
  if (typeof address !== 'string') return undefined;
  return port === undefined ? address : `${address}:${String(port)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
