/**
 * Reads the command line into a command, its arguments and its options.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';
import type { CommandName, OptionSpec } from './command-specs.js';
import { COMMANDS, GLOBAL_OPTIONS, TENANTS_SUBCOMMANDS } from './command-specs.js';

/**
 * The values of the options given, by long name.
 *
 * @example
 * ```ts
 * const values: OptionValues = { json: true, tenant: ['acme', 'globex'], concurrency: '8' };
 * ```
 */
export type OptionValues = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/**
 * A parsed command line.
 *
 * @example
 * ```ts
 * const parsed: ParsedArguments = { command: 'tenants show', args: ['acme'], values: { json: true } };
 * ```
 */
export interface ParsedArguments {
  /** The command, or `undefined` when none was named. */
  readonly command: CommandName | undefined;
  /** The positional arguments after the command's name. */
  readonly args: readonly string[];
  readonly values: OptionValues;
}

const ALL_OPTIONS: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
for (const spec of Object.values(COMMANDS)) Object.assign(ALL_OPTIONS, spec.options);

/**
 * Parses `argv` (without `node` and the script). Options may come before or after the command.
 * Throws {@link UsageError} for an unknown command or option, a missing value, an option the
 * command does not take, or a wrong number of arguments (unless `--help` is given).
 *
 * @example
 * ```ts
 * parseArguments(['tenants', 'create', 'acme', '--domain', 'acme.example.com']);
 * // { command: 'tenants create', args: ['acme'], values: { domain: ['acme.example.com'] } }
 * ```
 */
export function parseArguments(argv: readonly string[]): ParsedArguments {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: toParseArgsOptions(ALL_OPTIONS), allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(rewordParseError(error));
  }
  const values = parsed.values as OptionValues;
  const [first, second, ...rest] = parsed.positionals;
  if (first === undefined) return { command: undefined, args: [], values };

  let command: CommandName;
  let args: string[];
  if (first === 'tenants') {
    if (second === undefined) {
      command = 'tenants';
      args = [];
    } else if ((TENANTS_SUBCOMMANDS as readonly string[]).includes(second)) {
      command = `tenants ${second}` as CommandName;
      args = rest;
    } else {
      throw new UsageError(`Unknown command "tenants ${second}": use ${TENANTS_SUBCOMMANDS.join(', ')} (see tenantry tenants --help)`);
    }
  } else if (first in COMMANDS && first !== 'tenants') {
    command = first as CommandName;
    args = parsed.positionals.slice(1);
  } else {
    throw new UsageError(`Unknown command "${first}": see tenantry --help for the commands`);
  }

  const spec = COMMANDS[command];
  for (const name of Object.keys(values)) {
    if (!(name in GLOBAL_OPTIONS) && !(name in spec.options)) {
      throw new UsageError(`--${name} is not an option of "tenantry ${command}": see tenantry ${command} --help`);
    }
  }
  const optional = spec.optionalArgs ?? [];
  if (command !== 'help' && values.help !== true && (args.length < spec.args.length || args.length > spec.args.length + optional.length)) {
    const usage = `tenantry ${command}${spec.args.map((arg) => ` ${arg}`).join('')}${optional.map((arg) => ` [${arg}]`).join('')}`;
    const takes = [...spec.args, ...optional.map((arg) => `[${arg}]`)];
    throw new UsageError(
      args.length < spec.args.length
        ? `"tenantry ${command}" needs ${spec.args.join(' ')}: ${usage}`
        : `"tenantry ${command}" takes ${takes.length === 0 ? 'no arguments' : takes.join(' ')}, got ${args.map((arg) => JSON.stringify(arg)).join(' ')}`,
    );
  }
  return { command, args, values };
}

function toParseArgsOptions(options: Readonly<Record<string, OptionSpec>>) {
  const result: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, spec] of Object.entries(options)) {
    result[name] = { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) };
  }
  return result;
}

function rewordParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option ${option}: see tenantry --help`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    if (message.includes('does not take an argument')) return `Option ${option} takes no value`;
    if (message.includes('ambiguous')) return `Option ${option} needs a value (write ${option}=VALUE for a value starting with "-")`;
    return `Option ${option} needs a value`;
  }
  return message.split('\n')[0] ?? message;
}
