/**
 * The text `tenantry --help` and `tenantry COMMAND --help` print.
 *
 * @module
 */
import type { CommandName, OptionSpec } from './command-specs.js';
import { COMMANDS, GLOBAL_OPTIONS } from './command-specs.js';

const LISTED: readonly CommandName[] = [
  'migrate',
  'status',
  'doctor',
  'run',
  'tenants create',
  'tenants list',
  'tenants show',
  'tenants suspend',
  'tenants resume',
  'tenants delete',
  'spares',
  'tenants clone',
  'tenants export',
  'tenants move',
  'backup',
  'restore',
  'init',
];

/**
 * The help of one command, or of the whole tool when `command` is undefined.
 *
 * @example
 * ```ts
 * process.stdout.write(helpText('migrate'));
 * ```
 */
export function helpText(command?: CommandName): string {
  if (command === undefined || command === 'help') return mainHelp();
  const spec = COMMANDS[command];
  const lines = [`Usage: tenantry ${command}${spec.args.map((arg) => ` ${arg}`).join('')}${(spec.optionalArgs ?? []).map((arg) => ` [${arg}]`).join('')}${Object.keys(spec.options).length > 0 ? ' [options]' : ''}`, ''];
  lines.push(capitalise(spec.summary), '');
  if (command === 'tenants') {
    lines.push('Commands:', ...table(LISTED.filter((name) => name.startsWith('tenants ')).map((name) => [name, COMMANDS[name].summary])), '');
  }
  if (Object.keys(spec.options).length > 0) lines.push('Options:', ...optionLines(spec.options), '');
  lines.push('Global options:', ...optionLines(GLOBAL_OPTIONS), '');
  if (spec.notes) lines.push(...spec.notes, '');
  return `${lines.join('\n')}\n`.replace(/\n\n+$/, '\n');
}

function mainHelp(): string {
  return [
    'Usage: tenantry COMMAND [options]',
    '',
    'Multi-tenancy for PostgreSQL: migrations, tenant administration, backups.',
    '',
    'Commands:',
    ...table(LISTED.map((name) => [name, COMMANDS[name].summary])),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Configuration: tenantry.config.{ts,mts,js,mjs} in this folder (or --config), or DATABASE_URL and the',
    'folder options. Exit codes: 0 done, 1 something failed, 2 bad usage or configuration, 130 interrupted.',
    'Run tenantry COMMAND --help for the options of a command.',
    '',
  ].join('\n');
}

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  return table(
    Object.entries(options).map(([name, spec]) => [
      `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`,
      spec.description,
    ]),
  );
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function capitalise(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
