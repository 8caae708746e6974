/**
 * `tenancy.move(id, server)`: takes a tenant's schema to another server without losing a write.
 *
 * The order makes every outcome safe:
 * 1. The tenant's status becomes `moving`: tenantPool refuses its writes (`TenantMovingError`,
 *    503) and the adapters answer its unsafe requests with 503 and `Retry-After`.
 * 2. On the source, one transaction locks the tenant's tables against writes (EXCLUSIVE: reads go
 *    on), waiting for writes in flight; its rows are then copied to the target in one snapshot
 *    (the backup and restore streams), where the schema is committed marked unfinished.
 * 3. The same source transaction renames the schema out of the way and commits: a write that
 *    waited on the lock, or that comes from a process whose cache still points here, fails with
 *    "relation does not exist"; none is acknowledged.
 * 4. The registry switches the placement and the status back in one statement (every process's
 *    cache hears of it); then the target's mark is cleared and the old schema dropped.
 * A failure before 4 renames the source back, drops the target's copy and restores the status:
 * the tenant stays where it was. A crashed move is finished off by the next `move` of the tenant.
 *
 * Before all that, a tenant whose schema shares a table or function name with the shared schema
 * is refused (`SharedNameCollisionError`): once its schema is gone from the source, a query that
 * still reaches the source would find the shared object of that name instead of failing.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { PoolLike, Queryable } from '../db.js';
import { withTransaction } from '../db.js';
import { InvalidConfigError, SharedNameCollisionError, TenantNotFoundError } from '../errors.js';
import { lockMove, moveLockTimeout } from './move-lock.js';
import { assertTenantId, quoteIdent } from '../identifiers.js';
import { markSchema } from '../placement/placed-provisioner.js';
import type { TenantPlacement } from '../placement/placement.js';
import type { Servers } from '../placement/servers.js';
import type { PostgresRegistry } from '../registry/postgres-registry.js';
import type { Tenant, TenantStatus } from '../types.js';
import { ArchiveReader } from '../backup/archive-reader.js';
import { backupTenant } from '../backup/backup-tenant.js';
import { pipeBackup } from '../backup/pipe-backup.js';
import type { BackupContext } from '../backup/backup-context.js';
import { migrationsAtBackup } from '../backup/restore-migrations.js';
import { restoreSchema } from '../backup/restore-tenant.js';
import type { DetachedProvisioner } from '../placement/detached-provisioner.js';
import type { MigrationMark } from './provisioner.js';
import { sharedNameCollisions } from './shared-name-collisions.js';

/**
 * Options of `tenancy.move`.
 *
 * @example
 * ```ts
 * await tenancy.move('acme', 'eu', { lockTimeout: 10_000 });
 * ```
 */
export interface MoveOptions {
  /** How long to wait for writes in flight to finish before giving up, in ms (default 30,000). */
  readonly lockTimeout?: number;
}

/**
 * What `tenancy.move` did.
 *
 * @example
 * ```ts
 * const { from, to, rows, pausedMs } = await tenancy.move('acme', 'eu');
 * ```
 */
export interface MoveSummary {
  /** The tenant as registered after the move. */
  readonly tenant: Tenant;
  /** The server it left (`default` for the registry's). */
  readonly from: string;
  readonly to: string;
  readonly rows: number;
  /** Bytes of COPY text copied. */
  readonly bytes: number;
  /** How long the tenant's writes were paused, in ms. */
  readonly pausedMs: number;
  readonly durationMs: number;
  /** What could not be cleaned up after the switch (the move itself succeeded). */
  readonly leftovers: readonly string[];
}

/** What a move needs of its tenancy. */
export interface MoveContext {
  readonly registry: PostgresRegistry;
  readonly servers: Servers;
  readonly placement: TenantPlacement;
  readonly backups: BackupContext;
  /**
   * Builds, finishes and drops a tenant's copy on a server: a schema there (or, with
   * `databases`, the tenant's database there), committed marked unfinished until the switch.
   */
  siteOn(server: string): DetachedProvisioner;
  /** Whether each tenant has a database of its own (the database strategy): the source's database goes, not only its schema. */
  readonly databases: boolean;
}

/**
 * Moves a tenant to another server (see the module's description for the order of steps).
 *
 * @example
 * ```ts
 * declare const context: MoveContext;
 * const summary = await moveTenant(context, 'acme', 'eu');
 * ```
 */
export async function moveTenant(context: MoveContext, id: string, to: string, options: MoveOptions = {}): Promise<MoveSummary> {
  assertTenantId(id);
  const lockTimeout = moveLockTimeout(options);
  const { registry, placement, servers } = context;
  context.servers.nameOf(to); // an unknown server is refused before anything changes
  const started = performance.now();
  const guard = await lockMove(registry, id);
  try {
    let tenant = await registry.get(id);
    if (tenant === undefined) throw new TenantNotFoundError(id);
    const source = await placement.poolOf(tenant);
    const from = tenant.placement;
    if (servers.nameOf(tenant.placement) === servers.nameOf(to)) {
      throw new InvalidConfigError(`Tenant ${id} is on server ${JSON.stringify(to)} already`);
    }
    const retired = retiredName(tenant.schema);
    if (tenant.status === 'moving') await renameBack(source, retired, tenant.schema);
    if (!context.databases) {
      const { sharedSchema } = context.backups;
      const names = await sharedNameCollisions(source, tenant.schema, sharedSchema);
      if (names.length > 0) throw new SharedNameCollisionError(id, tenant.schema, sharedSchema, names);
    }
    const status: TenantStatus = tenant.status === 'moving' ? 'active' : tenant.status;
    tenant = await registry.setStatus(id, 'moving');
    const paused = performance.now();
    let fenced = false;
    let copied = false;
    try {
      const rows = await withTransaction(source, async (client) => {
        await lockTables(client, tenant!.schema, lockTimeout);
        const moved = await copyTo(context, tenant!, context.siteOn(to));
        copied = true;
        await client.query(`ALTER SCHEMA ${quoteIdent(tenant!.schema)} RENAME TO ${quoteIdent(retired)}`);
        await markSchema(client, retired, `${RETIRED}${tenant!.schema}`);
        return moved;
      });
      fenced = true;
      const switched = await registry.finishMove(id, to, status, rows.mark);
      const pausedMs = performance.now() - paused;
      const leftovers = await cleanUp(context, from, to, switched, retired);
      return { tenant: switched, from, to, rows: rows.rows, bytes: rows.bytes, pausedMs, durationMs: performance.now() - started, leftovers };
    } catch (error) {
      if (fenced) await renameBack(source, retired, tenant.schema).catch(() => {});
      if (copied || fenced) await context.siteOn(to).undo({ ...tenant, placement: to }).catch(() => {});
      await registry.setStatus(id, status).catch(() => {});
      throw error;
    }
  } finally {
    await guard.release();
  }
}

/** The comment on a retired source schema, before the schema it was. */
const RETIRED = 'tenantry:moved-from:';

/** Where the source schema goes while the registry switches: a name of its own, found again after a crash. */
function retiredName(schema: string): string {
  return `tenantry_moved_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
}

/** Locks the schema's tables against writes (reads go on), waiting at most `lockTimeout` ms for writes in flight. */
async function lockTables(client: Queryable, schema: string, lockTimeout: number): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  if (rows.length === 0) return;
  await client.query(`SET LOCAL lock_timeout = ${lockTimeout}`);
  await client.query(`LOCK TABLE ${rows.map((row) => `${quoteIdent(schema)}.${quoteIdent(row.name)}`).join(', ')} IN EXCLUSIVE MODE`);
  await client.query('SET LOCAL lock_timeout = 0');
}

/** What the copy to the target did. */
interface Copied {
  readonly rows: number;
  readonly bytes: number;
  readonly mark: MigrationMark;
}

/** Streams the tenant's archive from its server into a new schema (or database) on the target, committed and marked unfinished. */
async function copyTo(context: MoveContext, tenant: Tenant, target: DetachedProvisioner): Promise<Copied> {
  return pipeBackup(
    (pipe) => backupTenant(context.backups, tenant.id, pipe, { compression: false }),
    async (pipe): Promise<Copied> => {
      const reader = new ArchiveReader(pipe);
      try {
        const manifest = await reader.manifest();
        const migrations = await context.backups.tenantMigrations();
        const atBackup = migrationsAtBackup(manifest.migrations, migrations, {});
        const { sharedSchema } = context.backups;
        const restored = await target.provisionWith(tenant, (client, provisioner) =>
          restoreSchema(client, tenant, { sharedSchema, roles: provisioner.roles, manifest, reader, atBackup, migrations, options: {} }),
        );
        return {
          rows: restored.tables.reduce((sum, table) => sum + table.rows, 0),
          bytes: restored.tables.reduce((sum, table) => sum + table.bytes, 0),
          mark: restored.mark,
        };
      } finally {
        await reader.close().catch(() => {});
      }
    },
  );
}

/** Gives a retired source schema its name back (a failed or crashed move). */
async function renameBack(source: PoolLike, retired: string, schema: string): Promise<void> {
  await withTransaction(source, async (client) => {
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [retired]);
    if (rows.length === 0) return;
    await client.query(`ALTER SCHEMA ${quoteIdent(retired)} RENAME TO ${quoteIdent(schema)}`);
    await markSchema(client, schema, null);
  });
}

/**
 * After the switch: the target's copy is finished; the source's retired schema and role dropped
 * (under the database strategy, the source's whole database).
 */
async function cleanUp(context: MoveContext, from: string, to: string, tenant: Tenant, retired: string): Promise<string[]> {
  const leftovers: string[] = [];
  const what = context.databases ? `database ${tenant.schema}` : `schema ${tenant.schema}`;
  await context
    .siteOn(to)
    .finish(tenant)
    .catch(() => leftovers.push(`the mark on ${what} on the target`));
  const source = { id: tenant.id, placement: from, schema: context.databases ? tenant.schema : retired };
  await context
    .siteOn(from)
    .undo(source)
    .catch(() => leftovers.push(context.databases ? `${what} (and the tenant role) on the source` : `schema ${retired} (and the tenant role) on the source`));
  return leftovers;
}
