/**
 * What a command gets to do its work.
 *
 * @module
 */
import type { CliTenancy, ConnectionOptions } from './open-tenancy.js';
import type { CliIo, Output } from './output.js';
import type { OptionValues } from './parse-arguments.js';
import type { ErrorHints } from './explain-error.js';

/**
 * The parsed command line, the output, and a way to connect.
 *
 * @example
 * ```ts
 * import { ExitCode } from './cli-error.js';
 * async function showCommand(ctx: CommandContext): Promise<number> {
 *   const cli = await ctx.open();
 *   ctx.output.line(JSON.stringify(await cli.tenancy.registry.get(ctx.args[0]!)));
 *   return ExitCode.ok;
 * }
 * ```
 */
export interface CommandContext {
  readonly io: CliIo;
  readonly output: Output;
  /** The positional arguments after the command's name. */
  readonly args: readonly string[];
  readonly values: OptionValues;
  readonly connection: ConnectionOptions;
  /** Loads the configuration and connects (once); the command's run closes it. */
  open(options?: { readonly poolSize?: number }): Promise<CliTenancy>;
  /** What the command knows so far, to make error messages concrete. */
  hints(): ErrorHints;
}
