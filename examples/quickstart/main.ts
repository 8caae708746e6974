/**
 * The README's Quickstart as a program: `npm run quickstart` (builds the package, then
 * `tsx examples/quickstart/main.ts`).
 *
 * `app.ts` is the Quickstart, word for word (a test keeps the README's copy identical). This
 * launcher gives it a database and a working directory: it runs `app.ts` in a child process in
 * this folder (its migrations folder is relative), on `DATABASE_URL` as it is when that is set
 * (run it twice: the second run finds acme), else on a throwaway embedded PostgreSQL. Ctrl-C
 * stops the app, then PostgreSQL.
 *
 *   PORT=N   the port to listen on (default 3000)
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DemoDatabase, startDemoDatabase } from '../inventory/postgres.js';

const here = fileURLToPath(new URL('.', import.meta.url));

async function main(): Promise<number> {
  if (!existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))) {
    console.error("The Quickstart imports the built package ('tenantry'): run npm run build first (npm run quickstart does).");
    return 1;
  }
  let database: DemoDatabase | undefined;
  if (process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === '') {
    console.log('DATABASE_URL is not set: starting an embedded PostgreSQL…');
    database = await startDemoDatabase({ persist: false, log: (line) => console.log(`  ${line}`) });
  }
  const env = database === undefined ? process.env : { ...process.env, DATABASE_URL: database.url };
  const app = spawn(process.execPath, ['--import', 'tsx', 'app.ts'], { cwd: here, env, stdio: 'inherit' });
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    app.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  const [code] = (await once(app, 'exit')) as [number | null];
  await database?.stop();
  return stopped ? 0 : (code ?? 1);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `Could not start: ${error.message}` : error);
    process.exit(1);
  },
);
