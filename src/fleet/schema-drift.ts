/**
 * Drift detection: every tenant schema's structure against a reference built from the tenant
 * migrations, in a few catalog queries per server (or per tenant database) for the whole fleet,
 * each tenant read where it lives.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PoolClientLike, PoolLike } from '../db.js';
import type { Migration } from '../migrate/migration.js';
import { mapConcurrent } from '../migrate/map-concurrent.js';
import { migrateSchema } from '../migrate/schema-migrator.js';
import type { Tenant } from '../types.js';
import type { CatalogItem, CatalogItemKind, CatalogReading } from './schema-catalog.js';
import { readCatalogItems, readServerVersion, readSignatures, signatureOf, useCatalogSettings } from './schema-catalog.js';

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
  /**
   * The pool of the server (or database) that holds a tenant, when tenants are spread over
   * servers or databases; without it every tenant is read on `pool`.
   */
  readonly poolOf?: ((tenant: Tenant) => Promise<PoolLike>) | undefined;
}

/** Pools read at once when tenants are spread over servers or databases. */
const POOLS_AT_ONCE = 4;

/** A reference structure: the items and signature of a scratch schema migrated to the last migration. */
interface Reference {
  readonly items: CatalogItem[];
  readonly signature: string;
}

/** What one pool's catalog said of its tenants' schemas. */
interface PoolReading extends CatalogReading {
  /** The server's version (`server_version_num`): its schemas are compared with a reference built on a server of that version. */
  readonly version: number;
}

/**
 * Builds the reference (a scratch schema migrated in a transaction that is rolled back) while it
 * reads every tenant schema's signature on each server (or tenant database) that holds tenants
 * (one catalog query per kind of item, per 50,000 schemas), and reads the details of one schema
 * per distinct differing signature: a handful of queries per server whatever the number of
 * tenants. The
 * catalog reads run on connections of their own, closed afterwards, so the catalog entries they
 * load do not stay in a pooled backend's memory. A server of another PostgreSQL version than
 * the registry's gets a reference of its own, built there.
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
  const groups = new Map<PoolLike, Tenant[]>();
  for (const tenant of tenants) {
    const where = (await input.poolOf?.(tenant)) ?? pool;
    const group = groups.get(where) ?? [];
    group.push(tenant);
    groups.set(where, group);
  }
  // The reference is built on a connection of its own while the fleet's catalogs are read.
  const home = buildReference(pool, input.sharedSchema, input.migrations);
  home.catch(() => {});
  const references = new Map<number, Promise<Reference>>();
  const referenceOn = async (where: PoolLike, version: number): Promise<Reference> => {
    const built = await home;
    if (built.version === version) return built;
    let reference = references.get(version);
    if (reference === undefined) references.set(version, (reference = buildReference(where, input.sharedSchema, input.migrations)));
    return reference;
  };
  /** The differences of each drifted structure, per server version and signature. */
  const variants = new Map<string, readonly SchemaDifference[]>();
  const drifted: TenantDrift[] = [];
  await mapConcurrent([...groups], POOLS_AT_ONCE, async ([where, group]) => {
    const reading = await readPool(where, group);
    const reference = await referenceOn(where, reading.version);
    for (const tenant of group) {
      const signature = reading.signatures.get(tenant.schema);
      if (signature === reference.signature) continue;
      const behind = input.behind.has(tenant.id);
      const base = { tenantId: tenant.id, schema: tenant.schema, migrationVersion: tenant.migrationVersion, behind };
      if (signature === undefined) {
        drifted.push({ ...base, differences: [{ kind: 'schema', name: tenant.schema, change: 'missing' }] });
        continue;
      }
      const key = `${reading.version}:${signature}`;
      let differences = variants.get(key);
      if (differences === undefined) variants.set(key, (differences = compareItems(reference.items, reading.descriptions.get(signature) ?? [])));
      drifted.push({ ...base, differences });
    }
  });
  drifted.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  const { signature, items } = await home;
  return {
    checked: tenants.length,
    reference: { version: input.migrations.at(-1)?.name ?? null, signature, items: items.length },
    drifted,
    variants: variants.size + (drifted.some((tenant) => tenant.differences[0]?.kind === 'schema') ? 1 : 0),
  };
}

/**
 * Reads the signatures of `tenants`' schemas on one pool, and the items behind each, in one
 * read-only transaction on a connection closed afterwards.
 */
async function readPool(pool: PoolLike, tenants: readonly Tenant[]): Promise<PoolReading> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN READ ONLY');
    await useCatalogSettings(client);
    const version = await readServerVersion(client);
    const reading = await readSignatures(
      client,
      tenants.map((tenant) => tenant.schema),
      version,
    );
    await client.query('COMMIT');
    return { ...reading, version };
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
async function buildReference(pool: PoolLike, sharedSchema: string, migrations: readonly Migration[]): Promise<Reference & { readonly version: number }> {
  const schema = `tenantry_drift_${randomBytes(6).toString('hex')}`;
  const client: PoolClientLike = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await migrateSchema(client, { schema, sharedSchema, migrations, createSchema: true });
    await useCatalogSettings(client);
    const items = await readCatalogItems(client, [schema]);
    return { items, signature: signatureOf(items), version: await readServerVersion(client) };
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
