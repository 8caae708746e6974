/**
 * Drift detection: every tenant schema's structure against a reference built from the tenant
 * migrations, in a few catalog queries for the whole fleet.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PoolClientLike, PoolLike } from '../db.js';
import type { Migration } from '../migrate/migration.js';
import { migrateSchema } from '../migrate/schema-migrator.js';
import type { Tenant } from '../types.js';
import type { CatalogItem, CatalogItemKind } from './schema-catalog.js';
import { readCatalogItems, readSignatures, useCatalogPath } from './schema-catalog.js';

/**
 * One way a tenant's schema differs from the reference.
 *
 * @example
 * ```ts
 * const difference: SchemaDifference = { kind: 'column', name: 'items.sku', change: 'changed', expected: 'text', actual: 'character varying(20)' };
 * ```
 */
export interface SchemaDifference {
  /** `schema` when the tenant's schema does not exist at all. */
  readonly kind: CatalogItemKind | 'schema';
  readonly name: string;
  /** `missing`: in the reference, not in the tenant; `extra`: the reverse; `changed`: in both, defined differently. */
  readonly change: 'missing' | 'extra' | 'changed';
  /** The reference's definition (`missing`, `changed`). */
  readonly expected?: string;
  /** The tenant's definition (`extra`, `changed`). */
  readonly actual?: string;
}

/**
 * A tenant whose schema differs from the reference.
 *
 * @example
 * ```ts
 * const drift: TenantDrift = { tenantId: 'acme', schema: 'tenant_acme', migrationVersion: '002_sku', behind: false, differences: [{ kind: 'index', name: 'items_name_idx', change: 'missing', expected: 'CREATE INDEX items_name_idx ON items USING btree (name)' }] };
 * ```
 */
export interface TenantDrift {
  readonly tenantId: string;
  readonly schema: string;
  readonly migrationVersion: string | null;
  /**
   * The tenant has tenant migrations to apply (its registry record is not at the current set):
   * its differences may be only that; run the migrations first.
   */
  readonly behind: boolean;
  readonly differences: readonly SchemaDifference[];
}

/**
 * What `migrate.drift()` found.
 *
 * @example
 * ```ts
 * const report: DriftReport = await tenancy.migrate.drift();
 * for (const tenant of report.drifted) console.log(tenant.tenantId, tenant.differences.length);
 * ```
 */
export interface DriftReport {
  /** Tenant schemas compared. */
  readonly checked: number;
  /** The reference: a scratch schema migrated to the last tenant migration, then rolled back. */
  readonly reference: { readonly version: string | null; readonly signature: string; readonly items: number };
  /** The tenants whose schema differs, ordered by id; clean tenants are not listed. */
  readonly drifted: readonly TenantDrift[];
  /** Distinct structures among the drifted schemas (tenants that drifted alike share one). */
  readonly variants: number;
}

/**
 * Options of `migrate.drift()`.
 *
 * @example
 * ```ts
 * await tenancy.migrate.drift({ only: ['acme', 'globex'] });
 * ```
 */
export interface DriftOptions {
  /** Compare only these tenants. */
  readonly only?: readonly string[];
}

/** What {@link detectDrift} needs. */
export interface DetectDriftInput {
  readonly pool: PoolLike;
  readonly sharedSchema: string;
  readonly migrations: readonly Migration[];
  /** The tenants to compare. */
  readonly tenants: readonly Tenant[];
  /** Ids of the tenants with migrations to apply (flagged `behind`). */
  readonly behind: ReadonlySet<string>;
}

/** Schemas per catalog query: keeps each statement's parameter and result sizes moderate. */
const CHUNK = 5_000;

/**
 * Builds the reference (a scratch schema migrated in a transaction that is rolled back),
 * reads every tenant schema's signature in one catalog query per 5,000 schemas, and reads the
 * details of one schema per distinct differing signature: a handful of queries whatever the
 * number of tenants. The catalog reads run on a connection of their own, closed afterwards, so
 * the catalog entries they load do not stay in a pooled backend's memory.
 *
 * @example
 * ```ts
 * declare const migrations: readonly import('../migrate/migration.js').Migration[];
 * const { tenants } = await tenancy.registry.list({ limit: 100 });
 * const report = await detectDrift({ pool, sharedSchema: 'public', migrations, tenants, behind: new Set() });
 * ```
 */
export async function detectDrift(input: DetectDriftInput): Promise<DriftReport> {
  const { pool, tenants } = input;
  const reference = await buildReference(pool, input.sharedSchema, input.migrations);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await useCatalogPath(client);
    const signatures = new Map<string, string>();
    for (let start = 0; start < tenants.length; start += CHUNK) {
      const schemas = tenants.slice(start, start + CHUNK).map((tenant) => tenant.schema);
      for (const row of await readSignatures(client, schemas)) signatures.set(row.schema, row.signature);
    }
    const differing = tenants.filter((tenant) => signatures.get(tenant.schema) !== reference.signature);
    const representatives = new Map<string, string>();
    for (const tenant of differing) {
      const signature = signatures.get(tenant.schema);
      if (signature !== undefined && !representatives.has(signature)) representatives.set(signature, tenant.schema);
    }
    const itemsBySchema = new Map<string, CatalogItem[]>();
    const wanted = [...representatives.values()];
    for (let start = 0; start < wanted.length; start += CHUNK) {
      for (const item of await readCatalogItems(client, wanted.slice(start, start + CHUNK))) {
        const list = itemsBySchema.get(item.schema) ?? [];
        list.push(item);
        itemsBySchema.set(item.schema, list);
      }
    }
    await client.query('COMMIT');
    const differencesBySignature = new Map<string, readonly SchemaDifference[]>();
    for (const [signature, schema] of representatives) {
      differencesBySignature.set(signature, compareItems(reference.items, itemsBySchema.get(schema) ?? []));
    }
    const missingSchema: readonly SchemaDifference[] = [{ kind: 'schema', name: '', change: 'missing' }];
    const drifted = differing
      .map((tenant): TenantDrift => {
        const signature = signatures.get(tenant.schema);
        const differences = signature === undefined ? [{ ...missingSchema[0]!, name: tenant.schema }] : differencesBySignature.get(signature)!;
        return { tenantId: tenant.id, schema: tenant.schema, migrationVersion: tenant.migrationVersion, behind: input.behind.has(tenant.id), differences };
      })
      .sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
    return {
      checked: tenants.length,
      reference: { version: input.migrations.at(-1)?.name ?? null, signature: reference.signature, items: reference.items.length },
      drifted,
      variants: representatives.size + (drifted.some((tenant) => !signatures.has(tenant.schema)) ? 1 : 0),
    };
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // Closed rather than pooled: it holds the catalog entries of every schema it read.
    client.release(broken ?? true);
  }
}

/** The reference's items: a scratch schema migrated to the last migration, read, then rolled back. */
async function buildReference(pool: PoolLike, sharedSchema: string, migrations: readonly Migration[]): Promise<{ items: CatalogItem[]; signature: string }> {
  const schema = `tenantry_drift_${randomBytes(6).toString('hex')}`;
  const client: PoolClientLike = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await migrateSchema(client, { schema, sharedSchema, migrations, createSchema: true });
    await useCatalogPath(client);
    const items = await readCatalogItems(client, [schema]);
    const [signature] = await readSignatures(client, [schema]);
    return { items, signature: signature!.signature };
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    const rolledBack = await client.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    client.release(broken ?? !rolledBack);
  }
}

/** Byte order, as `COLLATE "C"` sorts. */
function compareKey(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The differences between the reference's items and a schema's. */
function compareItems(reference: readonly CatalogItem[], actual: readonly CatalogItem[]): SchemaDifference[] {
  const key = (item: CatalogItem): string => `${item.kind}\u0000${item.name}`;
  const expected = new Map(reference.map((item) => [key(item), item]));
  const found = new Map(actual.map((item) => [key(item), item]));
  const differences: SchemaDifference[] = [];
  for (const [id, item] of expected) {
    const other = found.get(id);
    if (other === undefined) differences.push({ kind: item.kind, name: item.name, change: 'missing', expected: item.definition });
    else if (other.definition !== item.definition) differences.push({ kind: item.kind, name: item.name, change: 'changed', expected: item.definition, actual: other.definition });
  }
  for (const [id, item] of found) {
    if (!expected.has(id)) differences.push({ kind: item.kind, name: item.name, change: 'extra', actual: item.definition });
  }
  return differences.sort((a, b) => compareKey(a.kind, b.kind) || compareKey(a.name, b.name));
}
