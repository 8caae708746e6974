/**
 * A real PgBouncer in front of a test database, started as a child process for one test file.
 *
 * Debian/Ubuntu: `apt-get install -y pgbouncer` (the binary lands in /usr/sbin, which is not
 * always on a non-root PATH). When the binary is missing, {@link startPgBouncer} returns
 * `undefined` and {@link pgbouncerBinary} says so, so tests can skip with a message.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/testing/test-server.js';

/** What CI runs to get the binary. */
export const PGBOUNCER_INSTALL = 'apt-get install -y pgbouncer';

/** A running PgBouncer. */
export interface PgBouncer {
  /** Connects through PgBouncer to the same database, as the same user. */
  readonly url: string;
  readonly port: number;
  /** `PgBouncer 1.18.0`, from `pgbouncer --version`. */
  readonly version: string;
  /** The last lines PgBouncer logged (for failure messages). */
  log(): string;
  /** Stops PgBouncer (waits for it to exit) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Options of {@link startPgBouncer}. */
export interface PgBouncerOptions {
  /** `transaction` (default), `session` or `statement`. */
  readonly poolMode?: 'transaction' | 'session' | 'statement';
  /** Server connections per database/user pair (default 2, so client connections share them). */
  readonly poolSize?: number;
  /** Client connections PgBouncer accepts (default 200). */
  readonly maxClientConn?: number;
}

/** The pgbouncer binary: /usr/sbin/pgbouncer, or one on PATH; `undefined` when not installed. */
export function pgbouncerBinary(): string | undefined {
  const candidates = ['/usr/sbin/pgbouncer', '/usr/local/sbin/pgbouncer', '/usr/local/bin/pgbouncer'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir !== '') candidates.push(join(dir, 'pgbouncer'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Starts PgBouncer on a free loopback port in front of `databaseUrl` (any server the tests use:
 * trust auth without a password, or a password the URL carries) and waits until a query goes
 * through it. Returns `undefined` when pgbouncer is not installed.
 *
 * PgBouncer refuses to run as root ("PgBouncer should not run as root"); as root it is started
 * with `-u postgres` (or `-u nobody` where there is no postgres user), its temp dir handed to
 * that user.
 */
export async function startPgBouncer(databaseUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer | undefined> {
  const binary = pgbouncerBinary();
  if (binary === undefined) return undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await startOnce(binary, databaseUrl, options);
    } catch (error) {
      // The free port may have been taken between probing and binding: try another.
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, databaseUrl: string, options: PgBouncerOptions): Promise<PgBouncer> {
  const server = new URL(databaseUrl);
  const user = decodeURIComponent(server.username) || 'postgres';
  const password = decodeURIComponent(server.password);
  const host = server.hostname === 'localhost' ? '127.0.0.1' : server.hostname || '127.0.0.1';
  const serverPort = server.port || '5432';
  const port = await freePort();

  const dir = await mkdtemp(join(tmpdir(), 'tenantry-pgbouncer-'));
  const ini = join(dir, 'pgbouncer.ini');
  const users = join(dir, 'userlist.txt');
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  await writeFile(users, `${quote(user)} ${quote(password)}\n`, { mode: 0o600 });
  await writeFile(
    ini,
    [
      '[databases]',
      // Any database name a client asks for, on the same server.
      `* = host=${host} port=${serverPort}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'logfile =',
      'pidfile =',
      // Clients are not checked; to the server, PgBouncer logs in with the auth_file password.
      'auth_type = trust',
      `auth_file = ${users}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 2}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      `max_client_conn = ${options.maxClientConn ?? 200}`,
      `max_db_connections = ${options.poolSize ?? 2}`,
      'ignore_startup_parameters = extra_float_digits,options',
      'log_connections = 0',
      // Logged so a failure message can say why a server connection was closed.
      'log_disconnections = 1',
      'log_pooler_errors = 1',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  const args = [ini];
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  if (runAs !== undefined) {
    // PgBouncer will not run as root: switch user, and let that user read its files.
    await chown(dir, runAs.uid, runAs.gid);
    await chown(ini, runAs.uid, runAs.gid);
    await chown(users, runAs.uid, runAs.gid);
    await chmod(dir, 0o700);
    args.unshift('-u', runAs.name);
  }

  const version = await new Promise<string>((resolve) => {
    const probe = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    probe.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    probe.on('error', () => resolve('PgBouncer (unknown version)'));
    probe.on('close', () => resolve(out.split('\n')[0]?.trim() || 'PgBouncer (unknown version)'));
  });

  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (error) => {
      lines.push(String(error));
      resolve(-1);
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const log = () => lines.join('\n');
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.search = '';

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url.toString(), child, exited, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: url.toString(), port, version, log, stop };
}

async function waitUntilReady(url: string, child: ChildProcess, exited: Promise<number | null>, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code ?? -1));
  for (;;) {
    if (exitCode !== undefined || child.exitCode !== null) {
      throw new Error(`pgbouncer exited (code ${exitCode ?? child.exitCode}) before accepting connections:\n${log()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) {
        throw new Error(`pgbouncer did not accept connections within 15s (${String(error)}):\n${log()}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** `postgres` where that user exists (Debian's pgbouncer package depends on it), else `nobody`. */
function unprivilegedUser(): { name: string; uid: number; gid: number } {
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // fall through to nobody
  }
  for (const name of ['postgres', 'nobody']) {
    const entry = passwd.split('\n').find((line) => line.startsWith(`${name}:`));
    const [, , uid, gid] = entry?.split(':') ?? [];
    if (uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return { name: 'nobody', uid: 65534, gid: 65534 };
}
