/**
 * A schema's structure as PostgreSQL's catalog describes it, normalized so that two schemas
 * built by the same migrations describe alike: one row per table, view, sequence, column,
 * index, constraint, trigger, function and enum type, with the schema's own name taken out of
 * every definition. Read for many schemas in one query, or summed up as one md5 per schema.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../db.js';

/**
 * What kind of catalog item a schema difference names: a table, a column, an index….
 *
 * @example
 * ```ts
 * const kind: CatalogItemKind = 'index';
 * ```
 */
export type CatalogItemKind = 'table' | 'view' | 'sequence' | 'column' | 'index' | 'constraint' | 'trigger' | 'function' | 'type';

/**
 * One item of a schema's structure. `name` is unique per kind within a schema (a column is
 * `table.column`, a constraint or trigger `table.name`, a function `name(argument types)`).
 *
 * @example
 * ```ts
 * const item: CatalogItem = { schema: 'tenant_acme', kind: 'column', name: 'items.sku', definition: 'text NOT NULL' };
 * ```
 */
export interface CatalogItem {
  readonly schema: string;
  readonly kind: CatalogItemKind;
  readonly name: string;
  /** What the item is, as PostgreSQL prints it (for functions, the md5 of their definition). */
  readonly definition: string;
}

/**
 * What {@link readSignatures} found: each schema's signature (the md5 of its items, as
 * {@link signatureOf} sums them up), and the items behind each signature.
 *
 * @example
 * ```ts
 * const reading: CatalogReading = {
 *   signatures: new Map([['tenant_acme', '9e107d9d372bb6826bd81d3542a419d6']]),
 *   descriptions: new Map([['9e107d9d372bb6826bd81d3542a419d6', [{ schema: 'tenant_acme', kind: 'table', name: 'items', definition: 'table' }]]]),
 * };
 * ```
 */
export interface CatalogReading {
  /** The signature of each schema read that exists. */
  readonly signatures: ReadonlyMap<string, string>;
  /** The items of one schema per signature (schemas of one signature have the same items but for `schema`). */
  readonly descriptions: ReadonlyMap<string, readonly CatalogItem[]>;
}

// Functions and enum types, as both ITEMS and fingerprintParts describe them: deparsed (they are
// few in a tenant schema). Columns: schema, kind, name, definition.
const FUNCTIONS_AND_TYPES = `
  SELECT ns.nspname, 'function', p.proname || '(' || replace(pg_get_function_identity_arguments(p.oid), ns.q, '') || ')',
         'md5 ' || md5(replace(pg_get_functiondef(p.oid), ns.q, ''))
    FROM pg_proc p JOIN ns ON p.pronamespace = ns.oid
   WHERE p.prokind IN ('f', 'p')
  UNION ALL
  SELECT ns.nspname, 'type', t.typname::text, 'enum (' || string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) || ')'
    FROM pg_type t JOIN ns ON t.typnamespace = ns.oid JOIN pg_enum e ON e.enumtypid = t.oid
   GROUP BY ns.nspname, t.typname`;

// `q` is the schema's qualified prefix (`tenant_acme.`, quoted when it needs quotes), taken out
// of definitions so that every tenant's schema describes alike. Run with search_path =
// pg_catalog, so that every other schema's names print qualified the same way everywhere.
// $2, when not null, keeps only the items of those relations (no functions or types).
// ITEMS reads a few schemas (the reference, one per distinct fingerprint): `rel` lists their
// relations once, so that their columns, indexes, constraints and triggers are looked up in the
// catalogs' indexes by relation instead of scanned for over the whole fleet (1.3 s for one schema
// among 10,000, against 0.2 s).
const ITEMS = `
WITH ns AS (
  SELECT n.oid, n.nspname, quote_ident(n.nspname) || '.' AS q FROM pg_namespace n WHERE n.nspname = ANY($1::text[])
), rel AS (
  SELECT array_agg(c.oid) AS oids FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND ($2::oid[] IS NULL OR c.oid = ANY ($2::oid[]))
), items AS (
  SELECT ns.nspname AS schema,
         CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
         c.relname::text AS name,
         CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'sequence' END
           || CASE c.relpersistence WHEN 'u' THEN ' unlogged' ELSE '' END
           || CASE WHEN c.relrowsecurity THEN ' row security' ELSE '' END
           || CASE WHEN c.relkind IN ('v', 'm') THEN ' ' || replace(pg_get_viewdef(c.oid), ns.q, '') ELSE '' END AS definition
    FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
   WHERE c.oid = ANY ((SELECT oids FROM rel)::oid[])
  UNION ALL
  SELECT ns.nspname, 'column', c.relname || '.' || a.attname,
         replace(format_type(a.atttypid, a.atttypmod), ns.q, '')
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
           || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
           || CASE WHEN a.attgenerated <> '' THEN ' GENERATED ALWAYS AS (' || replace(pg_get_expr(d.adbin, d.adrelid), ns.q, '') || ')'
                   ELSE COALESCE(' DEFAULT ' || replace(pg_get_expr(d.adbin, d.adrelid), ns.q, ''), '') END
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN ns ON c.relnamespace = ns.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum AND d.adrelid = ANY ((SELECT oids FROM rel)::oid[])
   WHERE a.attrelid = ANY ((SELECT oids FROM rel)::oid[]) AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT ns.nspname, 'index', ic.relname::text, replace(pg_get_indexdef(i.indexrelid), ns.q, '')
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN ns ON ic.relnamespace = ns.oid
   WHERE i.indrelid = ANY ((SELECT oids FROM rel)::oid[])
  UNION ALL
  SELECT ns.nspname, 'constraint', c.relname || '.' || co.conname, replace(pg_get_constraintdef(co.oid), ns.q, '')
    FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON c.relnamespace = ns.oid
   WHERE co.conrelid = ANY ((SELECT oids FROM rel)::oid[]) AND co.contype <> 'n'
  UNION ALL
  SELECT ns.nspname, 'trigger', c.relname || '.' || t.tgname, replace(pg_get_triggerdef(t.oid), ns.q, '')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON c.relnamespace = ns.oid
   WHERE t.tgrelid = ANY ((SELECT oids FROM rel)::oid[]) AND NOT t.tgisinternal
  UNION ALL
  SELECT * FROM (${FUNCTIONS_AND_TYPES}) AS schema_level (schema, kind, name, definition) WHERE $2::oid[] IS NULL
)`;

// One item of a fingerprint: a 64-bit hash of its fields (the kind first, then the name's parts),
// each hashed by its type's own hash function: no text is built.
const HASHED = (...fields: string[]) => `hash_record_extended(ROW(${fields.join(', ')}), 0)`;

// A foreign key's table as a fingerprint names it: by name when it is in the schema read (its oid
// differs from tenant to tenant), by oid elsewhere (the same table for every tenant); looked up
// for foreign keys alone. A constraint's index (conindid) is left out: pg_get_constraintdef
// prints none of a foreign key's, and a primary key's, unique or exclusion constraint's index
// bears the constraint's name, an item of its own.
const REFERENCED_TABLE = `CASE WHEN co.confrelid = 0 THEN NULL
  ELSE (SELECT CASE WHEN fr.relnamespace = ns.oid THEN 'own ' || fr.relname ELSE fr.oid::text END FROM pg_class fr WHERE fr.oid = co.confrelid)
END`;

// A column default as ITEMS prints it. A plain default holds no column reference, so it is
// deparsed without its table (pg_get_expr with a table builds the table's relation cache entry:
// 30 µs and more a default, against 1 to 2 µs without). A generated column's expression names
// columns: its node tree, whose column numbers the columns' own items pin.
const DEFAULT_TEXT = `CASE WHEN a.attgenerated = '' THEN replace(pg_get_expr(d.adbin, 0), ns.q, '') ELSE d.adbin::text END`;

/**
 * A cheap stand-in for ITEMS, for servers of `version` (server_version_num) and later: one 64-bit
 * hash per item (column `hash`), of the catalog's own columns instead of PostgreSQL's deparsing
 * functions (pg_get_indexdef and pg_get_constraintdef cost 35 to 80 µs an item: seconds over a
 * fleet). Two schemas with equal fingerprints have equal ITEMS (but for a collision of the
 * 64-bit sums, odds of about 1 in 2^64 for two schemas that differ): it keeps every input of those
 * functions that can differ between schemas of one server, with each oid that differs between
 * tenants' schemas (their own relations and types) put as a name, and column numbers pinned by
 * the columns' own items. Schemas it tells apart may still describe alike (a column dropped and
 * added again moves its number; a statement written differently moves the `:location` fields of
 * node trees): readSignatures settles those with ITEMS. Views, functions, triggers and enum
 * types, rare in tenant schemas, are described as in ITEMS. Indexes and constraints are joined
 * to tables (and indexes) alone, the only relations that have them, which keeps the hash tables
 * of that join small (7 % less CPU over 10,000 tenants).
 *
 * One query per kind of item, each `SELECT schema, hash` over the namespaces `ns` (oid, nspname,
 * q) that {@link FINGERPRINTED} provides.
 */
function fingerprintParts(version: number): readonly string[] {
  const since = (minimum: number, field: string) => (version >= minimum ? [field] : []);
  return [
    `SELECT ns.nspname,
         ${HASHED("'table'::text", 'c.relname', 'c.relkind', 'c.relpersistence', 'c.relrowsecurity', "CASE WHEN c.relkind IN ('v', 'm') THEN replace(pg_get_viewdef(c.oid), ns.q, '') END")} AS hash
    FROM pg_class c JOIN ns ON c.relnamespace = ns.oid
   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')`,
    `SELECT ns.nspname,
         ${HASHED("'column'::text", 'c.relname', 'a.attname', 'a.attnum', "replace(format_type(a.atttypid, a.atttypmod), ns.q, '')", 'a.attnotnull', 'a.attidentity', 'a.attgenerated', DEFAULT_TEXT)}
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN ns ON c.relnamespace = ns.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped`,
    `SELECT ns.nspname,
         ${HASHED(
           "'index'::text",
           'ic.relname',
           'c.relname',
           'c.relkind',
           'ic.relam',
           'ic.reloptions',
           'i.indnatts',
           'i.indnkeyatts',
           'i.indisunique',
           'i.indisprimary',
           'i.indisexclusion',
           'i.indimmediate',
           'i.indkey',
           'i.indcollation',
           'i.indclass',
           'i.indoption',
           ...since(150000, 'i.indnullsnotdistinct'),
           'i.indexprs::text',
           'i.indpred::text',
         )}
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN ns ON ic.relnamespace = ns.oid
   WHERE ic.relkind IN ('i', 'I') AND c.relkind IN ('r', 'p', 'm')`,
    `SELECT ns.nspname,
         ${HASHED(
           "'constraint'::text",
           'c.relname',
           'co.conname',
           'co.contype',
           'co.condeferrable',
           'co.condeferred',
           'co.convalidated',
           'co.connoinherit',
           'co.conkey',
           'co.confkey',
           'co.confupdtype',
           'co.confdeltype',
           'co.confmatchtype',
           'co.conexclop',
           ...since(150000, 'co.confdelsetcols'),
           ...since(180000, 'co.conperiod'),
           ...since(180000, 'co.conenforced'),
           REFERENCED_TABLE,
           'co.conbin::text',
         )}
    FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN ns ON c.relnamespace = ns.oid
   WHERE co.contype <> 'n' AND c.relkind IN ('r', 'p', 'f')`,
    `SELECT ns.nspname, ${HASHED("'trigger'::text", 'c.relname', 't.tgname', "replace(pg_get_triggerdef(t.oid), ns.q, '')")}
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns ON c.relnamespace = ns.oid
   WHERE NOT t.tgisinternal`,
    `SELECT schema, ${HASHED('kind', 'name', 'definition')} FROM (${FUNCTIONS_AND_TYPES}) AS rare (schema, kind, name, definition)`,
  ];
}

/**
 * Sums one kind of item up per schema: the items' hashes combined whatever their order (no sort),
 * and their count; readSignatures combines the kinds alike (xor, sum). Items are unique by kind and
 * name within a schema, so none cancels another out. The schemas come as arrays of their oids,
 * names and qualified prefixes ($1, $2, $3), resolved beforehand by {@link NAMESPACES}: a set of
 * known size (DISTINCT ON tells the planner each oid is there once, so that it does not expect
 * millions of rows from the join and split its hash tables into batches on disk), which the
 * planner joins by hash in each parallel worker instead of looking each relation's namespace up by
 * name (0.4 ms a namespace). One query per kind rather than one for
 * all: each gets its own parallel scans and partial aggregation, where the kinds in one UNION ALL
 * were summed up in one process (over 10,000 tenants, 6.0 to 6.2 s for the six against 8.4 to
 * 9.6 s for the one, load average 5.5 to 5.8).
 */
const FINGERPRINTED = (part: string): string => `WITH ns AS (SELECT DISTINCT ON (oid) * FROM unnest($1::oid[], $2::text[], $3::text[]) AS ns (oid, nspname, q))
SELECT schema, bit_xor(hash)::text AS hash, count(*)::int AS items FROM (${part}) AS part (schema, hash) GROUP BY schema`;

/** The namespaces of a set of schema names, as FINGERPRINTED takes them. */
const NAMESPACES = `SELECT array_agg(n.oid) AS oids, array_agg(n.nspname::text) AS names, array_agg(quote_ident(n.nspname) || '.') AS qs
  FROM pg_namespace n WHERE n.nspname = ANY($1::text[])`;

/**
 * Names printed alike (every schema but pg_catalog qualified), and no JIT compilation: the fleet's
 * catalog queries are estimated costly enough to be compiled, which takes longer than it saves
 * (over 10,000 tenants, 5.6 s against 4.1 to 4.5 s for the fingerprints; over one schema, 1.3 s
 * against 0.2 s for its items).
 */
const CATALOG_SETTINGS = 'SET LOCAL search_path TO pg_catalog; SET LOCAL jit = off';

/**
 * Schemas per catalog query. Each query scans the whole catalogs whatever the number of schemas it
 * reads (over 10,000 tenants, two queries of 5,000 took 13 s, one of 10,000 took 5.6 s), so only a
 * fleet larger than this is read in several.
 */
const CHUNK = 50_000;

/**
 * The signature of each of `schemas` that exists, and the items behind each signature. The
 * caller runs it in a transaction, after {@link useCatalogSettings}, with the server's `version`
 * ({@link readServerVersion}). A cheap fingerprint of every schema from the catalog's columns
 * (per 50,000 schemas, one query for their namespaces and one per kind of item, six), then the
 * full description (PostgreSQL's deparsed definitions) of one schema per distinct fingerprint,
 * whose signature the others with that fingerprint share (equal fingerprints mean equal
 * descriptions): over a fleet built by the same migrations, eight queries.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await useCatalogSettings(client);
 * const { signatures, descriptions } = await readSignatures(client, ['tenant_acme', 'tenant_globex'], await readServerVersion(client));
 * ```
 */
export async function readSignatures(db: Queryable, schemas: readonly string[], version: number): Promise<CatalogReading> {
  const fingerprints = new Map<string, string>();
  const parts = fingerprintParts(version);
  for (let start = 0; start < schemas.length; start += CHUNK) {
    const { rows: found } = await db.query<{ oids: number[] | null; names: string[] | null; qs: string[] | null }>(NAMESPACES, [schemas.slice(start, start + CHUNK)]);
    const { oids, names, qs } = found[0]!;
    if (oids === null) continue;
    const sums = new Map<string, { hash: bigint; items: number }>();
    for (const part of parts) {
      const { rows } = await db.query<{ schema: string; hash: string; items: number }>(FINGERPRINTED(part), [oids, names, qs]);
      for (const row of rows) {
        const sum = sums.get(row.schema);
        sums.set(row.schema, sum === undefined ? { hash: BigInt(row.hash), items: row.items } : { hash: sum.hash ^ BigInt(row.hash), items: sum.items + row.items });
      }
    }
    for (const [schema, sum] of sums) fingerprints.set(schema, `${BigInt.asIntN(64, sum.hash)} ${sum.items}`);
  }
  const representatives = new Map<string, string>();
  for (const [schema, fingerprint] of fingerprints) if (!representatives.has(fingerprint)) representatives.set(fingerprint, schema);
  const itemsOf = new Map<string, CatalogItem[]>();
  const chosen = [...representatives.values()];
  for (let start = 0; start < chosen.length; start += CHUNK) {
    for (const item of await readCatalogItems(db, chosen.slice(start, start + CHUNK))) {
      const list = itemsOf.get(item.schema) ?? [];
      list.push(item);
      itemsOf.set(item.schema, list);
    }
  }
  const signatureOfFingerprint = new Map<string, string>();
  const descriptions = new Map<string, readonly CatalogItem[]>();
  for (const [fingerprint, schema] of representatives) {
    const items = itemsOf.get(schema) ?? [];
    const signature = signatureOf(items);
    signatureOfFingerprint.set(fingerprint, signature);
    if (!descriptions.has(signature)) descriptions.set(signature, items);
  }
  const signatures = new Map<string, string>();
  for (const [schema, fingerprint] of fingerprints) signatures.set(schema, signatureOfFingerprint.get(fingerprint)!);
  return { signatures, descriptions };
}

/**
 * A schema's signature: the md5 of its items, one line each (`kind name definition`) in byte
 * order of kind then name. Schemas with the same items (but for `schema`) have the same signature.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const signature = signatureOf(await readCatalogItems(client, ['tenant_acme']));
 * ```
 */
export function signatureOf(items: readonly CatalogItem[]): string {
  const lines = items.map((item) => ({ key: Buffer.from(`${item.kind}\u0000${item.name}`), line: `${item.kind} ${item.name} ${item.definition ?? ''}` }));
  lines.sort((a, b) => Buffer.compare(a.key, b.key));
  return createHash('md5').update(lines.map((entry) => entry.line).join('\n')).digest('hex');
}

/**
 * Every item of `schemas`, in one query; with `relations` (oids), only the items of those
 * relations: their own rows, columns, indexes, constraints and triggers. The caller runs it in a
 * transaction, after {@link useCatalogSettings}.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await useCatalogSettings(client);
 * const items = await readCatalogItems(client, ['tenant_acme']);
 * items.filter((item) => item.kind === 'index').map((item) => item.name);
 * ```
 */
export async function readCatalogItems(db: Queryable, schemas: readonly string[], relations?: readonly number[]): Promise<CatalogItem[]> {
  const { rows } = await db.query<CatalogItem>(`${ITEMS} SELECT schema, kind, name, definition FROM items`, [schemas, relations ?? null]);
  return rows;
}

/**
 * Sets the transaction's search_path to `pg_catalog` alone, so that definitions print every
 * other schema's name qualified, the same way in every schema read; and turns JIT compilation off
 * for the transaction (it costs the catalog queries more than it saves).
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * await client.query('BEGIN');
 * await useCatalogSettings(client);
 * ```
 */
export async function useCatalogSettings(db: Queryable): Promise<void> {
  await db.query(CATALOG_SETTINGS);
}

/**
 * The server's version as `server_version_num` gives it (150004 for 15.4): which catalog columns
 * {@link readSignatures} reads, and which reference a tenant schema is compared with.
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * const version = await readServerVersion(client); // 150004
 * ```
 */
export async function readServerVersion(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ num: number }>(`SELECT current_setting('server_version_num')::int AS num`);
  return rows[0]!.num;
}
