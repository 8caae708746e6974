#!/usr/bin/env node
/**
 * The `tenantry` executable: runs the command line of this process, then exits with its code.
 *
 * @module
 */
import { runCli } from './run-cli.js';

const flush = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
}).then(
  async (code) => {
    // Exit even when a config file left a handle open (a timer, a pool of its own).
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`tenantry: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
