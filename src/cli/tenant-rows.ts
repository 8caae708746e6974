/**
 * One page of tenants from the registry table in one query, with whether each is behind the
 * tenant migrations, for `tenantry status` and `tenantry tenants list` at any tenant count.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { quoteIdent } from '../identifiers.js';
import { TENANTS_TABLE } from '../registry/registry-migrations.js';
import { type TenantRow as RegistryRow, tenantFromRow } from '../registry/tenant-record.js';
import type { Tenant, TenantStatus } from '../types.js';

/**
 * Which tenants to read: filters, then a page after a cursor.
 *
 * @example
 * ```ts
 * const filter: TenantRowsFilter = { status: 'active', behindDigest: 'a1b2', limit: 100, after: 'acme' };
 * ```
 */
export interface TenantRowsFilter {
  readonly status?: TenantStatus | undefined;
  /** Only these ids. */
  readonly only?: readonly string[] | undefined;
  /** Only tenants whose recorded migrations differ from this digest (behind). */
  readonly behindDigest?: string | undefined;
  /** The current digest: each row says whether the tenant is behind it. */
  readonly digest?: string | undefined;
  /** At most this many (the rest is the next page); all when omitted. */
  readonly limit?: number | undefined;
  /** Tenants whose id sorts after this one. */
  readonly after?: string | undefined;
}

/**
 * A tenant, and whether its recorded migrations differ from the current set.
 *
 * @example
 * ```ts
 * declare const row: TenantRow;
 * if (row.behind) console.log(`${row.tenant.id} has migrations to apply`);
 * ```
 */
export interface TenantRow {
  readonly tenant: Tenant;
  readonly behind: boolean;
}

/**
 * One page of tenants, ordered by id, and the cursor of the next page (`undefined` on the last).
 *
 * @example
 * ```ts
 * const page: TenantRowsPage = { rows: [], next: undefined };
 * ```
 */
export interface TenantRowsPage {
  readonly rows: readonly TenantRow[];
  readonly next: string | undefined;
}

type Row = RegistryRow & { behind: boolean };

/**
 * Reads a page of tenants in one query (the registry's id order, `COLLATE "C"`).
 *
 * @example
 * ```ts
 * const { rows, next } = await readTenantRows(pool, 'public', { status: 'active', limit: 500 });
 * ```
 */
export async function readTenantRows(db: Queryable, sharedSchema: string, filter: TenantRowsFilter): Promise<TenantRowsPage> {
  const limit = filter.limit;
  const { rows } = await db.query<Row>(
    // The strategy column comes with registry migration 0003: read through to_jsonb, so that
    // `tenantry status` still reads a registry that lacks it (and says what to migrate).
    `SELECT id, name, schema_name, status, placement, metadata, migration_version, created_at, updated_at,
            to_jsonb(t) ->> 'strategy' AS strategy, migration_digest IS DISTINCT FROM $3 AS behind
       FROM ${quoteIdent(sharedSchema)}.${quoteIdent(TENANTS_TABLE)} t
      WHERE ($1::text IS NULL OR status = $1)
        AND ($2::text IS NULL OR id > $2 COLLATE "C")
        AND ($4::text IS NULL OR migration_digest IS DISTINCT FROM $4)
        AND ($5::text[] IS NULL OR id = ANY($5))
      ORDER BY id COLLATE "C"
      LIMIT $6`,
    [
      filter.status ?? null,
      filter.after ?? null,
      filter.digest ?? filter.behindDigest ?? null,
      filter.behindDigest ?? null,
      filter.only === undefined ? null : [...filter.only],
      limit === undefined ? null : limit + 1,
    ],
  );
  const page = limit === undefined ? rows : rows.slice(0, limit);
  return {
    rows: page.map((row) => ({
      behind: row.behind,
      tenant: tenantFromRow(row),
    })),
    next: limit !== undefined && rows.length > limit ? page.at(-1)!.id : undefined,
  };
}
