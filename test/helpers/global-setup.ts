import type { TestProject } from 'vitest/node';
import { startTestServer } from '../../src/testing/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseServerUrl: string;
    databaseServerKind: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestServer({ log: (line) => console.log(line) });
  console.log(`tenantry tests: PostgreSQL from ${server.kind}`);
  project.provide('databaseServerUrl', server.url);
  project.provide('databaseServerKind', server.kind);
  return () => server.stop();
}
