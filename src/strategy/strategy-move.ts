/**
 * `tenancy.move(id, { strategy })`: takes a tenant of a row-level tenancy out of the shared
 * tables into a schema of its own (`'schema'`), or back (`'rls'`), without losing a write.
 *
 * The order makes every outcome safe:
 * 1. The move lock keeps two moves of the tenant apart; its status becomes `moving`: tenantPool
 *    refuses its writes (`TenantMovingError`, 503) and the adapters answer its unsafe requests
 *    with 503 and `Retry-After`.
 * 2. One transaction on the registry's database locks the tables the rows leave against writes
 *    (EXCLUSIVE: reads go on; into a schema these are the shared tables, so every tenant's writes
 *    to them wait for the copy; back, the tenant's own copies), waiting for writes in flight;
 *    switches the registry row (strategy, and the status before the move); builds the copies
 *    (into a schema); copies the rows with `INSERT … SELECT` in the tenant's scope; deletes them
 *    from where they were (or drops the tenant's schema); and commits. A failure rolls all of it
 *    back: the tenant stays where it was, and its status is set back.
 * 3. Every process's cache hears of the switch. A write of a process that still sees the tenant
 *    in the shared tables is refused there by the `tenantry_schema_placed` policy; one that still
 *    sees its schema after it moved back finds the schema gone, and its unqualified table names
 *    reach the shared tables, where its setting puts the rows in the right place.
 *
 * @module
 */
import type { PoolClientLike } from '../db.js';
import { InvalidConfigError, TenantNotFoundError } from '../errors.js';
import { lockMove, moveLockTimeout } from '../provision/move-lock.js';
import { assertTenantId, quoteIdent } from '../identifiers.js';
import type { PostgresRegistry } from '../registry/postgres-registry.js';
import type { Tenant, TenantStatus } from '../types.js';
import type { MoveOptions } from '../provision/move-tenant.js';
import { copyTenantRows, createTableCopies, deleteTenantRowsIn, lockAgainstWrites, type TenantTable, tenantTables } from './tenant-table-copies.js';
import type { TenantRoleNames } from './tenant-roles.js';

/**
 * Where `tenancy.move(id, { strategy })` takes a tenant of a row-level tenancy: into a schema of
 * its own, or back into the shared tables.
 *
 * @example
 * ```ts
 * const target: StrategyTarget = { strategy: 'schema' };
 * ```
 */
export interface StrategyTarget {
  readonly strategy: 'schema' | 'rls';
}

/**
 * What `tenancy.move(id, { strategy })` did.
 *
 * @example
 * ```ts
 * const { rows, tables, pausedMs } = await tenancy.move('acme', { strategy: 'schema' });
 * ```
 */
export interface StrategyMoveSummary {
  /** The tenant as registered after the move. */
  readonly tenant: Tenant;
  readonly from: 'schema' | 'rls';
  readonly to: 'schema' | 'rls';
  /** Rows copied, over every table. */
  readonly rows: number;
  /** Rows copied per table. */
  readonly tables: readonly { readonly table: string; readonly rows: number }[];
  /** How long the tenant's writes were refused (status `moving`), in ms. */
  readonly pausedMs: number;
  /** How long the tables the rows left were locked against writes, in ms: into a schema, every tenant's writes to the shared tables. */
  readonly lockedMs: number;
  readonly durationMs: number;
}

/** What a move between strategies needs of its tenancy. */
export interface StrategyMoveContext {
  readonly registry: PostgresRegistry;
  readonly sharedSchema: string;
  readonly roles: TenantRoleNames | undefined;
}

/**
 * Moves a row-level tenant into a schema of its own, or back (see the module's description).
 *
 * @example
 * ```ts
 * declare const context: StrategyMoveContext;
 * const summary = await moveStrategy(context, 'acme', 'schema');
 * ```
 */
export async function moveStrategy(context: StrategyMoveContext, id: string, to: 'schema' | 'rls', options: MoveOptions = {}): Promise<StrategyMoveSummary> {
  assertTenantId(id);
  if (to !== 'schema' && to !== 'rls') throw new InvalidConfigError(`A tenant of a row-level tenancy moves to strategy 'schema' or 'rls', got ${JSON.stringify(to)}`);
  const lockTimeout = moveLockTimeout(options);
  const { registry, sharedSchema } = context;
  const started = performance.now();
  const guard = await lockMove(registry, id);
  try {
    const tenant = await registry.get(id);
    if (tenant === undefined) throw new TenantNotFoundError(id);
    const from = tenant.strategy === 'schema' ? 'schema' : 'rls';
    if (from === to) throw new InvalidConfigError(`Tenant ${id} is in ${to === 'schema' ? 'a schema of its own' : 'the shared tables'} already`);
    // A move that crashed left `moving` behind, and nothing else: its transaction rolled back.
    const status: TenantStatus = tenant.status === 'moving' ? 'active' : tenant.status;
    await registry.setStatus(id, 'moving');
    const paused = performance.now();
    let locked = 0;
    try {
      const { tenant: moved, result: tables } = await registry.switchStrategy(id, to === 'schema' ? 'schema' : null, status, async (client) => {
        const all = await tenantTables(client, sharedSchema);
        const leaving = from === 'rls' ? sharedSchema : tenant.schema;
        await lockAgainstWrites(client, all.map((table) => `${quoteIdent(leaving)}.${quoteIdent(table.name)}`), lockTimeout);
        locked = performance.now();
        const copied = to === 'schema' ? await intoSchema(client, all, tenant, context) : await intoSharedTables(client, all, tenant, context);
        locked = performance.now() - locked;
        return copied;
      });
      const now = performance.now();
      return {
        tenant: moved,
        from,
        to,
        rows: tables.reduce((sum, table) => sum + table.rows, 0),
        tables,
        pausedMs: now - paused,
        lockedMs: locked,
        durationMs: now - started,
      };
    } catch (error) {
      await registry.setStatus(id, status).catch(() => {});
      throw error;
    }
  } finally {
    await guard.release();
  }
}

type Copied = readonly { readonly table: string; readonly rows: number }[];

/** The copies, the rows into them, the rows out of the shared tables (as many as were copied). */
async function intoSchema(client: PoolClientLike, tables: readonly TenantTable[], tenant: Tenant, context: StrategyMoveContext): Promise<Copied> {
  const { sharedSchema, roles } = context;
  const copies = await createTableCopies(client, tables, { sharedSchema, schema: tenant.schema, tenantId: tenant.id, roles });
  const copied = await copyTenantRows(client, tables, { from: sharedSchema, to: tenant.schema, tenantId: tenant.id, roles });
  await copies.addTriggers();
  const deleted = await deleteTenantRowsIn(client, tables, { schema: sharedSchema, tenantId: tenant.id, roles });
  for (const { table, rows } of copied) {
    if (deleted.get(table) !== rows) throw new Error(`tenantry: moving tenant ${tenant.id} copied ${rows} rows of ${table} but deleted ${deleted.get(table) ?? 0}`);
  }
  return copied;
}

/** The rows back into the shared tables, then the tenant's schema dropped. */
async function intoSharedTables(client: PoolClientLike, tables: readonly TenantTable[], tenant: Tenant, context: StrategyMoveContext): Promise<Copied> {
  const { sharedSchema, roles } = context;
  const copied = await copyTenantRows(client, tables, { from: tenant.schema, to: sharedSchema, tenantId: tenant.id, roles });
  await client.query(`DROP SCHEMA ${quoteIdent(tenant.schema)} CASCADE`);
  return copied;
}
