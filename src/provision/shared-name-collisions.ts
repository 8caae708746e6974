/**
 * Names a tenant's schema shares with the shared schema: where a query for the tenant would
 * land if the tenant's schema were gone from the server it reached.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import { MIGRATIONS_TABLE } from '../migrate/schema-migrator.js';
import { quoteIdent } from '../identifiers.js';
import { TENANTS_TABLE } from '../registry/registry-migrations.js';

/** The kinds of relation an unqualified name in a query can reach: tables, views, sequences, foreign tables. */
const NAMED_KINDS = `('r', 'p', 'v', 'm', 'f', 'S')`;

/**
 * The relations (tables, views, sequences, foreign tables) and functions of `schema` whose names
 * `sharedSchema` has too, sorted; functions end in `()`. PostgreSQL resolves an unqualified name
 * along the search_path (`schema`, then `sharedSchema`), so once `schema` is gone (a move's
 * fence, a dropped schema) each of these names reaches the shared object instead of failing.
 * Indexes and types are left out: a query's rows cannot come from them; so is tenantry's own
 * migrations table, which both schemas have and which holds no tenant's rows. One catalog query,
 * led by pg_class's and pg_proc's name indexes.
 *
 * @example
 * ```ts
 * declare const pool: import('pg').Pool;
 * await sharedNameCollisions(pool, 'tenant_acme', 'public'); // ['users'] when both have a users table
 * ```
 */
export async function sharedNameCollisions(db: Queryable, schema: string, sharedSchema: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT t.relname AS name
       FROM pg_class t JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE tn.nspname = $1 AND t.relkind IN ${NAMED_KINDS} AND t.relname <> $3
        AND EXISTS (SELECT 1 FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace
                     WHERE s.relname = t.relname AND sn.nspname = $2 AND s.relkind IN ${NAMED_KINDS})
     UNION
     SELECT p.proname || '()'
       FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
      WHERE pn.nspname = $1
        AND EXISTS (SELECT 1 FROM pg_proc q JOIN pg_namespace qn ON qn.oid = q.pronamespace
                     WHERE q.proname = p.proname AND qn.nspname = $2)
     ORDER BY 1`,
    [schema, sharedSchema, MIGRATIONS_TABLE],
  );
  return rows.map((row) => row.name);
}

/**
 * The shared schema's relations whose names tenant schemas of this server use too, with how many
 * tenant schemas use each (the registry's tenants, by their schema names), for `tenantry doctor`.
 * One query, led by pg_class's name index from the shared schema's few relations.
 *
 * @example
 * ```ts
 * declare const pool: import('pg').Pool;
 * await sharedNamesInTenants(pool, 'public'); // [{ name: 'users', schemas: 1200 }]
 * ```
 */
export async function sharedNamesInTenants(db: Queryable, sharedSchema: string): Promise<{ name: string; schemas: number }[]> {
  const { rows } = await db.query<{ name: string; schemas: number }>(
    `SELECT s.relname AS name, count(*)::int AS schemas
       FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace
       JOIN pg_class t ON t.relname = s.relname AND t.relkind IN ${NAMED_KINDS}
       JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE sn.nspname = $1 AND s.relkind IN ${NAMED_KINDS} AND s.relname <> $2
        AND tn.nspname IN (SELECT schema_name FROM ${quoteIdent(sharedSchema)}.${TENANTS_TABLE})
      GROUP BY s.relname ORDER BY s.relname`,
    [sharedSchema, MIGRATIONS_TABLE],
  );
  return rows;
}
