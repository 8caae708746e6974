/**
 * Turns any error into one line a person can act on, and the exit code it ends the command with.
 *
 * @module
 */
import { sqlState } from '../db.js';
import { isTenancyError } from '../errors.js';
import { CliError, ExitCode } from './cli-error.js';
import type { DatabaseTarget } from './database-target.js';
import { showTarget } from './database-target.js';

/**
 * An error, explained.
 *
 * @example
 * ```ts
 * const explained: Explained = { code: 'TENANTRY_TENANT_NOT_FOUND', exitCode: 2, message: 'Unknown tenant "ghost": …' };
 * ```
 */
export interface Explained {
  /** A stable code: the error's own (`TENANTRY_…`, a SQLSTATE, `ECONNREFUSED`), or `ERROR`. */
  readonly code: string;
  /** One line: what went wrong and what to do. */
  readonly message: string;
  readonly exitCode: number;
}

/**
 * What the command knew when the error happened, to make the message concrete.
 *
 * @example
 * ```ts
 * explainError(error, { target: databaseTarget(url), sharedSchema: 'public' });
 * ```
 */
export interface ErrorHints {
  readonly target?: DatabaseTarget | undefined;
  readonly sharedSchema?: string | undefined;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT', 'EPIPE']);
const SET_URL = 'set DATABASE_URL or pass --database-url';

/**
 * Explains an error: a connection that failed says where it tried and to set `DATABASE_URL` or
 * `--database-url`; an unknown tenant says how to list tenants; an edited migration says to
 * restore the file or pass `--allow-changed`. Exit code 2 for what stops the command from
 * running as given (usage, configuration, database, unknown or invalid tenant), 1 otherwise.
 *
 * @example
 * ```ts
 * explainError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { target });
 * // { code: 'ECONNREFUSED', exitCode: 2,
 * //   message: 'Cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED): start the server, or set DATABASE_URL or pass --database-url' }
 * ```
 */
export function explainError(error: unknown, hints: ErrorHints = {}): Explained {
  if (error instanceof CliError) return { code: error.code, message: oneLine(error.message), exitCode: error.exitCode };
  const connection = connectionProblem(error, hints.target);
  if (connection !== undefined) return { ...connection, message: oneLine(connection.message) };
  if (isTenancyError(error)) {
    const usage = ExitCode.usage;
    switch (error.code) {
      case 'TENANTRY_TENANT_NOT_FOUND':
        return explained(error.code, `${error.message.replace(/^No tenant (".*") is registered$/, 'Unknown tenant $1')}: tenantry tenants list shows the registered tenants`, usage);
      case 'TENANTRY_INVALID_TENANT_ID':
        return explained(error.code, `${error.message} (a tenant id is a DNS label: a-z, 0-9 and "-", at most 63 characters, no "-" at either end)`, usage);
      case 'TENANTRY_INVALID_CONFIG':
        return explained(error.code, `${error.message}${causeDetail(error.cause)}`, usage);
      case 'TENANTRY_INVALID_DOMAIN':
      case 'TENANTRY_INVALID_SCHEMA_NAME':
        return explained(error.code, error.message, usage);
      case 'TENANTRY_MIGRATION_CHECKSUM':
        return explained(error.code, checksumMessage(error), ExitCode.failed);
      case 'TENANTRY_MIGRATION_FAILED':
        if (isTenancyError(error.cause) && error.cause.code === 'TENANTRY_MIGRATION_CHECKSUM') return explainError(error.cause, hints);
        return explained(error.code, error.message, ExitCode.failed);
      default:
        return explained(error.code, error.message, ExitCode.failed);
    }
  }
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  if (state === '42P01' && /tenantry_(tenants|domains)/.test(message)) {
    const schema = hints.sharedSchema ?? 'public';
    return explained(state, `The tenant registry is not set up in schema "${schema}": run tenantry migrate --shared first`, ExitCode.usage);
  }
  return explained(state ?? stringCode(error) ?? 'ERROR', message, ExitCode.failed);
}

/**
 * The migration and the one-line reason of a tenant that failed to migrate.
 *
 * @example
 * ```ts
 * explainFailure(new MigrationFailedError('acme', '002_sku', { cause: new Error('column "sku" already exists') }));
 * // { migration: '002_sku', code: 'TENANTRY_MIGRATION_FAILED', message: 'column "sku" already exists' }
 * ```
 */
export function explainFailure(error: unknown, hints: ErrorHints = {}): { readonly migration: string | undefined; readonly code: string; readonly message: string } {
  const migration = migrationOf(error);
  if (isTenancyError(error) && error.code === 'TENANTRY_MIGRATION_FAILED' && !isTenancyError(error.cause)) {
    const cause = error.cause;
    const connection = connectionProblem(cause, hints.target);
    const message = connection?.message ?? (cause instanceof Error ? cause.message : String(cause));
    return { migration, code: sqlState(cause) ?? error.code, message: oneLine(message) };
  }
  const { code, message } = explainError(error, hints);
  return { migration, code, message };
}

function migrationOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 3; depth += 1) {
    const migration = (current as { migration?: unknown }).migration;
    if (typeof migration === 'string') return migration;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function connectionProblem(error: unknown, target: DatabaseTarget | undefined): Explained | undefined {
  const state = sqlState(error);
  const where = target === undefined ? 'the database server' : `PostgreSQL at ${showTarget(target)}`;
  if (state === '28P01' || state === '28000') {
    const user = target?.user === undefined ? '' : ` for user "${target.user}"`;
    return explained(state, `${where} refused the login${user} (${messageOf(error)}): fix the user or password, ${SET_URL}`, ExitCode.usage);
  }
  if (state === '3D000') {
    const name = target?.database === undefined ? 'The database' : `Database "${target.database}"`;
    return explained(state, `${name} does not exist on ${where}: create it, or ${SET_URL} to one that exists`, ExitCode.usage);
  }
  if (state === '57P03') return explained(state, `${where} is not accepting connections yet (${messageOf(error)}): try again shortly`, ExitCode.usage);
  const code = networkCode(error);
  if (code !== undefined) {
    const address = target === undefined ? addressOf(error) : showTarget(target);
    return explained(code, `Cannot reach PostgreSQL at ${address ?? 'the configured address'} (${code}): start the server, or ${SET_URL} to a reachable database`, ExitCode.usage);
  }
  if (error instanceof Error && /timeout expired|connection timeout/i.test(error.message)) {
    return explained('ETIMEDOUT', `Timed out connecting to ${where}: check that it is reachable from here, or ${SET_URL}`, ExitCode.usage);
  }
  return undefined;
}

function networkCode(error: unknown): string | undefined {
  const candidates = [error, ...(((error as { errors?: unknown }).errors as unknown[] | undefined) ?? [])];
  for (const candidate of candidates) {
    const code = stringCode(candidate);
    if (code !== undefined && UNREACHABLE.has(code) && typeof (candidate as { syscall?: unknown }).syscall === 'string') return code;
  }
  return undefined;
}

function addressOf(error: unknown): string | undefined {
  const { address, port } = error as { address?: unknown; port?: unknown };
  if (typeof address !== 'string') return undefined;
  return port === undefined ? address : `${address}:${String(port)}`;
}

function checksumMessage(error: { readonly message: string; readonly migration?: unknown }): string {
  const schema = /schema (".*?")/.exec(error.message)?.[1];
  const migration = typeof error.migration === 'string' ? JSON.stringify(error.migration) : 'A migration';
  return (
    `Migration ${migration} was edited after it was applied${schema ? ` to schema ${schema}` : ''}: ` +
    'restore the original file (put the change in a new migration), or re-run with --allow-changed to accept the edit'
  );
}

function causeDetail(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  const code = stringCode(cause);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?ts/.test(messageOf(cause))) {
    return `: Node.js ${process.version} cannot load TypeScript migrations; use Node.js 22.18 or later, or compile them to .js`;
  }
  return `: ${messageOf(cause)}`;
}

function stringCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function explained(code: string, message: string, exitCode: number): Explained {
  return { code, message: oneLine(message), exitCode };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
