/**
 * The Citus suite's cluster: the coordinator named by `CITUS_URL` (schema-based sharding on) and
 * its workers. Without `CITUS_URL` every Citus test file skips, and says so once.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { TestDatabase } from '../../src/testing/index.js';

/** The coordinator's URL, or `undefined` when the suite does not run. */
export const CITUS_URL = process.env.CITUS_URL || undefined;

/** A tenant migration whose keys are identity columns (a non-superuser can provision them on Citus; serial columns it cannot), with an enum type, an index, a foreign key, a check and a view. */
export const IDENTITY_ITEMS = `CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0, mood mood);
CREATE INDEX items_name_idx ON items (name);
CREATE TABLE moves (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id), delta int NOT NULL CONSTRAINT moves_delta_check CHECK (delta <> 0));
CREATE VIEW stock AS SELECT i.id, sum(m.delta) AS qty FROM items i JOIN moves m ON m.item_id = i.id GROUP BY i.id;
`;

let told = false;

/**
 * `describe` when `CITUS_URL` is set, else a skipped `describe` whose name says why (and one line
 * on the console, so a run without Citus says it left the suite out).
 */
export function describeCitus(name: string, body: () => void): void {
  if (CITUS_URL === undefined && !told) {
    told = true;
    console.log('Citus suite skipped: set CITUS_URL to a Citus coordinator (see docs/scaling.md, "Past one server: Citus")');
  }
  describe.skipIf(CITUS_URL === undefined)(CITUS_URL === undefined ? `${name} (skipped: CITUS_URL is not set)` : name, body);
}

/** A node of the cluster, as `pg_dist_node` names it. */
export interface CitusNode {
  readonly host: string;
  readonly port: number;
}

/** What {@link useCitusDatabase} gives a test file, shaped like `useTestDatabase()`'s handle. */
export interface CitusDatabaseHandle {
  pool: pg.Pool;
  url: string;
  database: TestDatabase;
  rolePrefix: string;
  /** The workers the database's node metadata lists. */
  workers: readonly CitusNode[];
  /** Tenant roles must log in: the coordinator connects to the workers as the tenant's role. */
  readonly roleLogin: true;
}

/**
 * Gives a test file its own database on the whole cluster: created on the coordinator and on every
 * worker, with the citus extension in each and the node metadata (it lives per database) on the
 * coordinator, as `citus-cluster.sh mkdb` does; dropped everywhere after the file. Triggers on
 * distributed tables are allowed in it (`citus.enable_unsafe_triggers`, as docs/scaling.md says).
 */
export function useCitusDatabase(poolOptions: pg.PoolConfig = {}): CitusDatabaseHandle {
  const rolePrefix = `c${process.pid.toString(36)}${randomBytes(3).toString('hex')}_`;
  const handle = { rolePrefix, roleLogin: true } as CitusDatabaseHandle;
  beforeAll(async () => {
    const coordinator = new URL(CITUS_URL!);
    const workers = await query<{ host: string; port: number }>(CITUS_URL!, "SELECT nodename AS host, nodeport AS port FROM pg_dist_node WHERE shouldhaveshards AND noderole = 'primary' ORDER BY nodeport");
    const name = `tenantry_citus_${process.pid}_${randomBytes(4).toString('hex')}`;
    const nodes = [{ host: coordinator.hostname, port: Number(coordinator.port || 5432) }, ...workers];
    for (const node of nodes) {
      await query(nodeUrl(node, 'postgres'), `CREATE DATABASE ${name}`);
      await query(nodeUrl(node, name), 'CREATE EXTENSION citus');
    }
    const url = nodeUrl(nodes[0]!, name);
    await query(url, 'SELECT citus_set_coordinator_host($1, $2)', [nodes[0]!.host, nodes[0]!.port]);
    for (const worker of workers) await query(url, 'SELECT citus_add_node($1, $2)', [worker.host, worker.port]);
    await query(url, `ALTER DATABASE ${name} SET citus.enable_unsafe_triggers = on`);
    handle.workers = workers;
    handle.url = url;
    handle.database = {
      name,
      url,
      drop: async () => {
        for (const node of nodes) await query(nodeUrl(node, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
    };
    handle.pool = new pg.Pool({ connectionString: url, max: 10, ...poolOptions });
    handle.pool.on('error', () => {});
  });
  afterAll(async () => {
    await handle.pool?.end();
    await handle.database?.drop();
    if (handle.workers !== undefined) await dropRoles(rolePrefix, handle.workers);
  });
  return handle;
}

/**
 * Drops the roles whose names start with `prefix` on the coordinator and on each worker, in their
 * `postgres` database: Citus propagated them from the test database, whose record of them
 * (pg_dist_object) went with it, so a DROP ROLE on the coordinator alone leaves them on the workers.
 */
async function dropRoles(prefix: string, workers: readonly CitusNode[]): Promise<void> {
  const coordinator = new URL(CITUS_URL!);
  for (const node of [{ host: coordinator.hostname, port: Number(coordinator.port || 5432) }, ...workers]) {
    const url = nodeUrl(node, 'postgres');
    const rows = await query<{ name: string }>(url, 'SELECT rolname AS name FROM pg_roles WHERE starts_with(rolname, $1)', [prefix]);
    for (const { name } of rows) await query(url, `DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
  }
}

/** The URL of `database` on `node`, with the coordinator URL's user and password. */
export function nodeUrl(node: CitusNode, database: string): string {
  const url = new URL(CITUS_URL!);
  url.hostname = node.host;
  url.port = String(node.port);
  url.pathname = `/${database}`;
  return url.toString();
}

/** One query on a short-lived connection. */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
