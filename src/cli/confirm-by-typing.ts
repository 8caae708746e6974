/**
 * Asks a person on the terminal to confirm a destructive step by typing a word.
 *
 * @module
 */
import { createInterface } from 'node:readline';
import type { CliIo } from './output.js';

/**
 * Shows `prompt` on stderr and resolves whether the line typed is `expected` (spaces around it
 * ignored). Ctrl-C or the end of input resolves `false`.
 *
 * @example
 * ```ts
 * import { ExitCode } from './cli-error.js';
 * declare const io: import('./output.js').CliIo;
 * if (!(await confirmByTyping(io, 'Type the tenant id (acme) to confirm: ', 'acme'))) process.exitCode = ExitCode.failed;
 * ```
 */
export function confirmByTyping(io: Pick<CliIo, 'stdin' | 'stderr'>, prompt: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdin.isTTY === true });
    let answered = false;
    const finish = (confirmed: boolean): void => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(confirmed);
    };
    rl.on('SIGINT', () => {
      io.stderr.write('\n');
      finish(false);
    });
    rl.on('close', () => finish(false));
    rl.question(prompt, (answer) => finish(answer.trim() === expected));
  });
}
