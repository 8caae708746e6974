/**
 * The `tenantry` command: parses the command line, runs the command, and turns any error into
 * one line and an exit code.
 *
 * @module
 */
import packageJson from '../../package.json' with { type: 'json' };
import { isTenancyError } from '../errors.js';
import { CliError, ExitCode, UsageError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import type { CommandName } from './command-specs.js';
import { COMMANDS } from './command-specs.js';
import { backupCommand } from './commands/backup-command.js';
import { initCommand } from './commands/init-command.js';
import { restoreCommand } from './commands/restore-command.js';
import { tenantsCloneCommand } from './commands/tenants-clone-command.js';
import { tenantsMoveCommand } from './commands/tenants-move-command.js';
import { tenantsExportCommand } from './commands/tenants-export-command.js';
import { migrateCommand } from './commands/migrate-command.js';
import { runCommand } from './commands/run-command.js';
import { statusCommand } from './commands/status-command.js';
import { doctorCommand } from './commands/doctor-command.js';
import { tenantsCommand } from './commands/tenants-command.js';
import { sparesCommand } from './commands/spares-command.js';
import { showTarget } from './database-target.js';
import { explainError } from './explain-error.js';
import { helpText } from './help-text.js';
import type { CliTenancy, ConnectionOptions, ResolvedSettings } from './open-tenancy.js';
import { openTenancy, resolveSettings } from './open-tenancy.js';
import type { CliIo } from './output.js';
import { Output } from './output.js';
import type { ParsedArguments } from './parse-arguments.js';
import { parseArguments } from './parse-arguments.js';

/**
 * Runs the command line `argv` (without `node` and the script) and resolves its exit code:
 * 0 done, 1 something failed, 2 bad usage or configuration, 130 interrupted. Errors are
 * written to stderr as one line (`tenantry: …`), with the stack only under `--verbose`.
 *
 * @example
 * ```ts
 * const code = await runCli(['tenants', 'list', '--json'], {
 *   stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(),
 * });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let output = new Output(io, { json: argv.includes('--json'), verbose: argv.includes('--verbose') });
  let settings: ResolvedSettings | undefined;
  let cli: CliTenancy | undefined;
  const hints = () => ({ target: settings?.target, sharedSchema: cli?.sharedSchema ?? settings?.config.sharedSchema });
  try {
    const parsed = parseArguments(argv);
    output = new Output(io, { json: parsed.values.json === true, verbose: parsed.values.verbose === true });
    const early = answerWithoutWork(parsed, io);
    if (early !== undefined) return early;
    const connection = connectionOptions(parsed);
    const ctx: CommandContext = {
      io,
      output,
      args: parsed.args,
      values: parsed.values,
      connection,
      async open(options = {}) {
        if (settings === undefined) {
          settings = await resolveSettings(connection, io.cwd, io.env);
          const where = settings.target === undefined ? 'the configured pool' : showTarget(settings.target);
          output.debug(`tenantry: config ${settings.configPath ?? '(none)'}; database ${where}`);
        }
        cli ??= await openTenancy(settings, { poolSize: options.poolSize ?? 4 });
        return cli;
      },
      hints,
    };
    return await dispatch(parsed.command!, ctx);
  } catch (error) {
    const explained = explainError(error, hints());
    const unexpected = !(error instanceof CliError) && !isTenancyError(error) && explained.exitCode === ExitCode.failed;
    io.stderr.write(`tenantry: ${explained.message}${unexpected && !output.verbose ? ' (--verbose shows the stack trace)' : ''}\n`);
    if (output.verbose) io.stderr.write(`${stackOf(error)}\n`);
    output.result({ error: { code: explained.code, message: explained.message } });
    return explained.exitCode;
  } finally {
    await cli?.close().catch(() => {});
  }
}

/** `--version`, `--help`, `help`, and a missing command: answered without config or database. */
function answerWithoutWork(parsed: ParsedArguments, io: CliIo): number | undefined {
  if (parsed.values.version === true) {
    io.stdout.write(`${packageJson.version}\n`);
    return ExitCode.ok;
  }
  if (parsed.command === 'help') {
    const topic = parsed.args.join(' ');
    if (topic !== '' && !(topic in COMMANDS)) throw new UsageError(`No help for "${topic}": see tenantry --help for the commands`);
    io.stdout.write(helpText(topic === '' ? undefined : (topic as CommandName)));
    return ExitCode.ok;
  }
  if (parsed.values.help === true) {
    io.stdout.write(helpText(parsed.command));
    return ExitCode.ok;
  }
  if (parsed.command === undefined || parsed.command === 'tenants') {
    io.stderr.write(helpText(parsed.command));
    return ExitCode.usage;
  }
  return undefined;
}

function dispatch(command: CommandName, ctx: CommandContext): Promise<number> {
  switch (command) {
    case 'migrate':
      return migrateCommand(ctx);
    case 'status':
      return statusCommand(ctx);
    case 'doctor':
      return doctorCommand(ctx);
    case 'init':
      return initCommand(ctx);
    case 'run':
      return runCommand(ctx);
    case 'tenants create':
    case 'tenants list':
    case 'tenants show':
    case 'tenants suspend':
    case 'tenants resume':
    case 'tenants delete':
      return tenantsCommand(command, ctx);
    case 'spares':
      return sparesCommand(ctx);
    case 'tenants clone':
      return tenantsCloneCommand(ctx);
    case 'tenants export':
      return tenantsExportCommand(ctx);
    case 'tenants move':
      return tenantsMoveCommand(ctx);
    case 'backup':
      return backupCommand(ctx);
    case 'restore':
      return restoreCommand(ctx);
    default:
      throw new UsageError(`"tenantry ${command}" needs a command: see tenantry ${command} --help`);
  }
}

function connectionOptions(parsed: ParsedArguments): ConnectionOptions {
  const text = (name: string): string | undefined => {
    const value = parsed.values[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    config: text('config'),
    databaseUrl: text('database-url'),
    sharedMigrations: text('shared-migrations'),
    tenantMigrations: text('tenant-migrations'),
    sharedSchema: text('shared-schema'),
    schemaPrefix: text('schema-prefix'),
  };
}

function stackOf(error: unknown): string {
  const lines: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth += 1) {
    lines.push(`${depth === 0 ? '' : 'Caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}`);
    current = (current as { cause?: unknown }).cause;
  }
  return lines.join('\n');
}
