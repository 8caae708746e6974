/**
 * The README's Quickstart is a program (examples/quickstart/app.ts) that runs, twice in a row on
 * one database, and serves its tenant by subdomain and by custom domain.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, freePort, type TestDatabase } from '../../src/testing/index.js';
import { httpClient } from '../adapters/http-client.js';
import { serverUrl } from '../helpers/database.js';

const root = new URL('../../', import.meta.url);
const launcher = fileURLToPath(new URL('examples/quickstart/main.ts', root));

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ serverUrl: serverUrl(), prefix: 'tenantry_quickstart' });
});
afterAll(async () => {
  await database?.drop();
});

/** A running Quickstart: its port and what it printed. */
interface Running {
  readonly port: number;
  readonly output: () => { stdout: string; stderr: string };
  stop(): Promise<number | null>;
}

async function startQuickstart(): Promise<Running> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', launcher], {
    env: { ...process.env, DATABASE_URL: database.url, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Quickstart did not start in 60 s:\n${stdout}${stderr}`)), 60_000);
    child.stdout!.on('data', () => {
      if (stdout.includes('Listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`the Quickstart exited with ${code}:\n${stdout}${stderr}`));
    });
  });
  return {
    port,
    output: () => ({ stdout, stderr }),
    async stop() {
      child.kill('SIGTERM');
      return (await exited)[0];
    },
  };
}

describe('the Quickstart', () => {
  it('runs twice in a row on one database, serving acme by subdomain and by its custom domain', async () => {
    expect(existsSync(new URL('dist/index.js', root)), "the Quickstart imports 'tenantry': run npm run build").toBe(true);
    for (const run of [1, 2]) {
      const quickstart = await startQuickstart();
      const client = httpClient(quickstart.port);
      try {
        for (const host of [`acme.localhost:${quickstart.port}`, 'shop.acme.test']) {
          const response = await client.send({ path: '/products', headers: { host } });
          expect({ run, host, status: response.status, body: response.json }).toEqual({
            run,
            host,
            status: 200,
            body: [
              { id: 1, name: 'Anvil' },
              { id: 2, name: 'Rocket skates' },
            ],
          });
        }
        const unnamed = await client.send({ path: '/products', headers: { host: `localhost:${quickstart.port}` } });
        expect(unnamed).toMatchObject({ status: 404, json: { code: 'TENANTRY_TENANT_REQUIRED' } });
      } finally {
        client.close();
        expect(await quickstart.stop()).toBe(0);
      }
      // The start-up check's one warning here: the test server's user is a superuser (the embedded one always is).
      const warnings = quickstart.output().stderr.split('\n').filter((line) => line !== '' && !/^The app connects as ".*", a superuser/.test(line));
      expect(warnings).toEqual([]);
      expect(quickstart.output().stdout).toContain(`curl http://acme.localhost:${quickstart.port}/products`);
    }
  });

  it("is the README's Quickstart, word for word", async () => {
    const readme = await readFile(new URL('README.md', root), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Quickstart\n'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block, 'the README has a ```ts block under ## Quickstart').toBeDefined();
    expect(block).toBe(await readFile(new URL('examples/quickstart/app.ts', root), 'utf8'));
  });
});
