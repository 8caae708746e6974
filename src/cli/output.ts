/**
 * Where the command writes: human lines, one JSON document, warnings and errors.
 *
 * @module
 */
import type { Readable, Writable } from 'node:stream';

/**
 * A stream that may be a terminal.
 *
 * @example
 * ```ts
 * const stderr: TerminalWritable = process.stderr;
 * stderr.isTTY; // true on a terminal
 * ```
 */
export type TerminalWritable = Writable & { readonly isTTY?: boolean; readonly columns?: number };

/**
 * The process the command runs in, passed in so the command never reaches for globals.
 *
 * @example
 * ```ts
 * const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
 * ```
 */
export interface CliIo {
  readonly stdout: TerminalWritable;
  readonly stderr: TerminalWritable;
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * Writes the command's output. Human lines go to stdout unless `--json` is set; with `--json`
 * one JSON document goes to stdout at the end. Warnings, progress and errors go to stderr.
 *
 * @example
 * ```ts
 * declare const io: CliIo;
 * const output = new Output(io, { json: false, verbose: false });
 * output.line('Created tenant acme');
 * output.result({ id: 'acme' }); // written only with --json
 * ```
 */
export class Output {
  readonly #io: CliIo;
  /** Whether `--json` was given. */
  readonly json: boolean;
  /** Whether `--verbose` was given. */
  readonly verbose: boolean;

  constructor(io: CliIo, options: { readonly json: boolean; readonly verbose: boolean }) {
    this.#io = io;
    this.json = options.json;
    this.verbose = options.verbose;
  }

  /** Whether stderr is a terminal, where progress bars and prompts go. */
  get interactive(): boolean {
    return this.#io.stderr.isTTY === true;
  }

  /** The error stream, for progress bars. */
  get stderr(): TerminalWritable {
    return this.#io.stderr;
  }

  /** A line for people, on stdout; nothing with `--json`. */
  line(text = ''): void {
    if (!this.json) this.#io.stdout.write(`${text}\n`);
  }

  /** A line on stderr, also with `--json` (warnings, failures, the interrupt notice). */
  warn(text: string): void {
    this.#io.stderr.write(`${text}\n`);
  }

  /** A line on stderr with `--verbose` only. */
  debug(text: string): void {
    if (this.verbose) this.#io.stderr.write(`${text}\n`);
  }

  /** The JSON document of the command, on stdout; nothing without `--json`. */
  result(value: unknown): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}
