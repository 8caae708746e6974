/**
 * `tenantry/testing`: a PostgreSQL server and throwaway databases for your tests and ours.
 *
 * @example
 * ```ts
 * import { startTestServer, createTestDatabase } from 'tenantry/testing';
 * const server = await startTestServer();
 * const db = await createTestDatabase({ serverUrl: server.url });
 * ```
 *
 * @module
 */
export { startTestServer } from './test-server.js';
export type { TestServer, TestServerKind, StartTestServerOptions } from './test-server.js';
export { createTestDatabase } from './test-database.js';
export type { TestDatabase, CreateTestDatabaseOptions } from './test-database.js';
export { freePort } from './test-server.js';
