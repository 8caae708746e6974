import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Harness } from './app-kit.js';

const script = fileURLToPath(new URL('./fixtures/child-server.ts', import.meta.url));

/** A test app served by another Node process, with a tenancy of its own on the same database. */
export interface ChildServer {
  readonly port: number;
  /** The `application_name` of the child's connections (to find its LISTEN connection). */
  readonly applicationName: string;
  stop(): Promise<void>;
}

/**
 * Starts `fixtures/child-server.ts` under tsx with the harness's framework, and waits for the
 * port it prints. The child also exits when its stdin closes (when this process dies).
 */
export async function startChildServer(harness: Harness, databaseUrl: string): Promise<ChildServer> {
  const applicationName = `tenantry-child-${randomUUID().slice(0, 8)}`;
  const child = spawn(process.execPath, ['--import', 'tsx', script, harness.name], {
    env: { ...process.env, TENANTRY_CHILD_DATABASE_URL: databaseUrl, TENANTRY_CHILD_APP_NAME: applicationName },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child server did not start in 30 s:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^PORT (\d+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the child server exited with ${code}:\n${output}`));
    });
  });
  return { port, applicationName, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
