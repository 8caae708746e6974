/**
 * Turns any error into one line a person can act on, and the exit code it ends the command with.
 *
 * @module
 */
import { sqlState } from '../db.js';
import { connectionProblem } from '../connection-problem.js';
import { isTenancyError, type RegistryNotMigratedError } from '../errors.js';
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
 * import { databaseTarget } from './database-target.js';
 * declare const url: string;
 * explainError(error, { target: databaseTarget(url), sharedSchema: 'public' });
 * ```
 */
export interface ErrorHints {
  readonly target?: DatabaseTarget | undefined;
  readonly sharedSchema?: string | undefined;
}

const SET_URL = 'set DATABASE_URL or pass --database-url';

/**
 * Explains an error: a connection that failed says where it tried and to set `DATABASE_URL` or
 * `--database-url`; an unknown tenant says how to list tenants; an edited migration says to
 * restore the file or pass `--allow-changed`. Exit code 2 for what stops the command from
 * running as given (usage, configuration, database, unknown or invalid tenant), 1 otherwise.
 *
 * @example
 * ```ts
 * declare const target: import('./database-target.js').DatabaseTarget;
 * explainError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { target });
 * // { code: 'ECONNREFUSED', exitCode: 2,
 * //   message: 'Cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED): start the server, or set DATABASE_URL or pass --database-url' }
 * ```
 */
export function explainError(error: unknown, hints: ErrorHints = {}): Explained {
  if (error instanceof CliError) return { code: error.code, message: oneLine(error.message), exitCode: error.exitCode };
  const connection = explainConnection(isTenancyError(error) && error.code === 'TENANTRY_DATABASE_UNAVAILABLE' ? error.cause : error, hints.target);
  if (connection !== undefined) return connection;
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
      case 'TENANTRY_REGISTRY_NOT_MIGRATED': {
        const { sharedSchema } = error as RegistryNotMigratedError;
        return explained(error.code, `The tenant registry is not set up in schema ${JSON.stringify(sharedSchema)}: run tenantry migrate --shared first`, usage);
      }
      case 'TENANTRY_MIGRATION_CHECKSUM':
        return explained(error.code, checksumMessage(error), ExitCode.failed);
      case 'TENANTRY_MIGRATION_FAILED':
        if (isTenancyError(error.cause) && error.cause.code === 'TENANTRY_MIGRATION_CHECKSUM') return explainError(error.cause, hints);
        return explained(error.code, error.message, ExitCode.failed);
      default:
        return explained(error.code, error.message, ExitCode.failed);
    }
  }
  return explained(sqlState(error) ?? stringCode(error) ?? 'ERROR', messageOf(error), ExitCode.failed);
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
    const connection = explainConnection(cause, hints.target);
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

function explainConnection(error: unknown, target: DatabaseTarget | undefined): Explained | undefined {
  const problem = connectionProblem(error);
  if (problem === undefined) return undefined;
  const where = target === undefined ? 'the database server' : `PostgreSQL at ${showTarget(target)}`;
  const { code } = problem;
  switch (problem.kind) {
    case 'login':
    case 'no-user': {
      const user = target?.user === undefined ? '' : ` for user "${target.user}"`;
      return explained(code, `${where} refused the login${user} (${messageOf(error)}): fix the user or password, ${SET_URL}`, ExitCode.usage);
    }
    case 'no-database': {
      const name = target?.database === undefined ? 'The database' : `Database "${target.database}"`;
      return explained(code, `${name} does not exist on ${where}: create it, or ${SET_URL} to one that exists`, ExitCode.usage);
    }
    case 'starting':
      return explained(code, `${where} is not accepting connections yet (${messageOf(error)}): try again shortly`, ExitCode.usage);
    case 'unreachable': {
      const address = target === undefined ? problem.address : showTarget(target);
      return explained(code, `Cannot reach PostgreSQL at ${address ?? 'the configured address'} (${code}): start the server, or ${SET_URL} to a reachable database`, ExitCode.usage);
    }
    case 'timeout':
      return explained(code, `Timed out connecting to ${where}: check that it is reachable from here, or ${SET_URL}`, ExitCode.usage);
    case 'ssl':
      return explained(code, `${where} does not accept SSL connections: connect without SSL (remove sslmode=require from the database URL, or ssl from poolOptions), or enable ssl on the server`, ExitCode.usage);
  }
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
