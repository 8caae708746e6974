/**
 * Errors of the `tenantry` command. Each carries the exit code the command ends with.
 *
 * @module
 */

/**
 * The exit codes of the `tenantry` command.
 *
 * @example
 * ```ts
 * declare const report: MigrateTenantsReport;
 * process.exitCode = report.failed.length > 0 ? ExitCode.failed : ExitCode.ok;
 * ```
 */
export const ExitCode = Object.freeze({
  /** Everything asked for was done. */
  ok: 0,
  /** Some work failed (a tenant's migration, a shared migration, a refused change); the rest was done. */
  failed: 1,
  /** The command could not run as given: bad usage, configuration, or no reachable database. */
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT) after the work in flight finished; a re-run resumes. */
  interrupted: 130,
  /** Stopped by SIGTERM, the same way. */
  terminated: 143,
});

/**
 * The stable codes of the command's own errors.
 *
 * @example
 * ```ts
 * const code: CliErrorCode = 'TENANTRY_CLI_USAGE';
 * ```
 */
export type CliErrorCode = 'TENANTRY_CLI_USAGE' | 'TENANTRY_CLI_CONFIG' | 'TENANTRY_CLI_NOT_CONFIRMED';

/**
 * An error of the command itself (not of the library): a one-line message a person can act on,
 * and the exit code it ends the command with.
 *
 * @example
 * ```ts
 * throw new CliError('TENANTRY_CLI_NOT_CONFIRMED', ExitCode.failed, 'Not confirmed; nothing was deleted');
 * ```
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly code: CliErrorCode;
  readonly exitCode: number;

  constructor(code: CliErrorCode, exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/**
 * The command line is wrong: an unknown command or option, a missing or malformed value. Exit code 2.
 *
 * @example
 * ```ts
 * throw new UsageError('--concurrency must be a positive integer, got "0"');
 * ```
 */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super('TENANTRY_CLI_USAGE', ExitCode.usage, message);
  }
}

/**
 * The configuration is missing or cannot be used: no database URL, a config file that does not
 * load, a value of the wrong type. Exit code 2.
 *
 * @example
 * ```ts
 * throw new ConfigError('No database: set DATABASE_URL, pass --database-url, or run `tenantry init`');
 * ```
 */
export class ConfigError extends CliError {
  override name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TENANTRY_CLI_CONFIG', ExitCode.usage, message, options);
  }
}
