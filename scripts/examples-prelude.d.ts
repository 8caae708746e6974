// The free variables the @example blocks in src/ may use without declaring them; see
// scripts/check-examples.mjs. Keep this list short: an example that needs something more
// specific declares it itself (`declare const context: CheckContext;`).
import type express from 'express';
import type pgModule from 'pg';
import type { Tenancy } from '../src/tenancy.js';
import type { Tenant } from '../src/types.js';
import type { TenantPool } from '../src/pg/tenant-pool.js';

declare global {
  /** The app's `createTenancy()` instance. */
  const tenancy: Tenancy;
  /** The app's pg.Pool. */
  const pool: pgModule.Pool;
  /** `tenantPool(tenancy, pool)`. */
  const db: TenantPool;
  /** A client checked out of a pg.Pool. */
  const client: pgModule.PoolClient;
  /** A tenant the app holds. */
  const acme: Tenant;
  const tenant: Tenant;
  /** node-postgres, as `import pg from 'pg'` gives it. */
  const pg: typeof pgModule;
  /** An Express app and a request's objects. */
  const app: express.Express;
  const req: express.Request;
  const res: express.Response;
  const next: express.NextFunction;
  /** Something caught. */
  const error: unknown;
  /** Work to run in a scope, and a callback. */
  const fn: () => Promise<unknown>;
  const handler: () => Promise<unknown>;
  const doWork: () => Promise<unknown>;
  const done: () => void;

  // What an authentication middleware (passport, express-jwt…) adds to Express's request: the
  // adapters' `authorize` examples read it.
  namespace Express {
    interface Request {
      user?: { readonly id: string; readonly tenantId: string; readonly tenantIds: readonly string[] };
    }
  }
}
