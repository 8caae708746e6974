/**
 * Runs the built `tenantry` command (dist/cli.js) as a child process, in temporary working
 * folders, against the test file's database.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

/** The built command. `npm test` builds first; otherwise run `npm run build`. */
export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} does not exist: run npm run build before these tests`);
});

/** How a run ended, and what it printed. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and how to run the command. */
export interface CliOptions {
  readonly cwd: string;
  /** The child's DATABASE_URL; unset when omitted (never the parent's). */
  readonly databaseUrl?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  /**
   * Run on a terminal: through util-linux `script`, which gives the command a pseudo-terminal and
   * forwards `input` to it. Its stdout then carries both streams, with CR LF line ends.
   */
  readonly terminal?: boolean;
}

/** Whether util-linux `script` is there to give a command a terminal. */
export function canUseTerminal(): boolean {
  try {
    execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The child's environment: the parent's, without DATABASE_URL, plus `options`. */
function childEnv(options: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', JITI_FS_CACHE: 'false' };
  delete env.DATABASE_URL;
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  return { ...env, ...options.env };
}

/** A running command, with its output collected. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) contains `text`; rejects if the process ends first. */
  waitFor(text: string | RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
  readonly done: Promise<CliResult>;
}

/** Starts `node dist/cli.js ...args`. */
export function startCli(args: readonly string[], options: CliOptions): RunningCli {
  const argv = [process.execPath, CLI, ...args];
  const [file, ...rest] = options.terminal === true ? ['script', '-qec', argv.map(shellQuote).join(' '), '/dev/null'] : argv;
  const child = spawn(file!, rest, { cwd: options.cwd, env: childEnv(options), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const check = (): void => waiters.forEach((waiter) => waiter());
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), check()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((stderr += chunk), check()));
  child.stdin!.end(options.input ?? '');
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      check();
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitFor(text, stream = 'stdout') {
      return new Promise((resolveWait, reject) => {
        const found = (): boolean => {
          const output = stream === 'stdout' ? stdout : stderr;
          return typeof text === 'string' ? output.includes(text) : text.test(output);
        };
        const waiter = (): void => {
          if (found()) {
            waiters.delete(waiter);
            resolveWait();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(waiter);
            reject(new Error(`the command ended before printing ${String(text)}\nstdout: ${stdout}\nstderr: ${stderr}`));
          }
        };
        waiters.add(waiter);
        waiter();
      });
    },
  };
}

/** Runs `node dist/cli.js ...args` to the end. */
export function cli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses the JSON document a `--json` run printed (and fails with the output when it is not JSON). */
export function json<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document (${String(error)}):\n${result.stdout}\nstderr: ${result.stderr}`, { cause: error });
  }
}

/** The lines of a stream, without the empty last one. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Asserts-ready view of "one line on stderr, no stack trace". */
export function isOneLineError(result: CliResult): boolean {
  return lines(result.stderr).length === 1 && !/\n\s+at /.test(result.stderr) && result.stderr.startsWith('tenantry: ');
}

const folders: string[] = [];

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** A temporary working folder holding `files` (relative path → text), removed after the test file. */
export async function workspace(files: Readonly<Record<string, string>> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tenantry-cli-'));
  folders.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

let counter = 0;

/** A fresh shared schema and tenant schema prefix, so tests of one file (one database) never meet. */
export function names(label: string): { sharedSchema: string; schemaPrefix: string; flags: string[] } {
  counter += 1;
  const sharedSchema = `${label}_shared_${counter}`;
  const schemaPrefix = `${label}${counter}_`;
  return { sharedSchema, schemaPrefix, flags: ['--shared-schema', sharedSchema, '--schema-prefix', schemaPrefix] };
}

/** The migration names recorded in a schema (empty when it has no tracking table). */
export async function recorded(pool: pg.Pool, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(`SELECT name FROM "${schema}".tenantry_migrations ORDER BY name COLLATE "C"`).catch((error: { code?: string }) => {
    if (error.code === '42P01' || error.code === '3F000') return { rows: [] };
    throw error;
  });
  return rows.map((row) => row.name);
}

/** Whether a schema exists. */
export async function schemaExists(pool: pg.Pool, schema: string): Promise<boolean> {
  return (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
}

/** Whether `schema.table` exists. */
export async function tableExists(pool: pg.Pool, schema: string, table: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`"${schema}"."${table}"`]);
  return typeof rows[0]?.found === 'string';
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
