/**
 * The demo command (examples/inventory/main.ts) when its ports are taken: a clear message that
 * suggests --port, and a non-zero exit, before PostgreSQL is started.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';

const run = (args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    // A database that cannot be reached: had the command gone past the port check, it would say so.
    const env = { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    execFile('node_modules/.bin/tsx', ['examples/inventory/main.ts', ...args], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });

const occupy = (port = 0): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('npm run demo on a busy port', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('says which port is taken, suggests --port and exits non-zero', async () => {
    const busy = await occupy();
    servers.push(busy);
    const port = (busy.address() as AddressInfo).port;
    const result = await run(['--port', String(port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Could not start: port ${port} on 127.0.0.1 is already in use`);
    expect(result.stderr).toContain(`npm run demo -- --port ${port + 10}`);
    expect(result.stdout).not.toContain('Starting PostgreSQL');
  }, 40_000);

  it('checks the Fastify and Koa ports too', async () => {
    // A port that is free, whose next one is free too, and whose one after is taken (by this test).
    // Another process may hold port + 1 or port + 2 at any time: such a port is skipped.
    let port = 0;
    for (let attempt = 0; port === 0 && attempt < 20; attempt += 1) {
      const probe = await occupy();
      const candidate = (probe.address() as AddressInfo).port;
      const next = await occupy(candidate + 1).catch(() => undefined);
      const taken = next === undefined ? undefined : await occupy(candidate + 2).catch(() => undefined);
      await Promise.all([probe, next].map((server) => server && new Promise((resolve) => server.close(resolve))));
      if (taken !== undefined) {
        servers.push(taken);
        port = candidate;
      }
    }
    expect(port).not.toBe(0);
    const result = await run(['--port', String(port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${port + 2} on 127.0.0.1 is already in use`);
    expect(result.stderr).toContain('--port');
  }, 40_000);
});
