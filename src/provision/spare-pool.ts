/**
 * Spare tenants: schemas (and roles) provisioned ahead at the latest tenant migrations, under
 * reserved names, that `registry.create` claims by renaming one in its transaction.
 *
 * @module
 */
import { type ProvisioningEvent, provisioningChannel } from '../diagnostics.js';
import type { Queryable } from '../db.js';
import { withTransaction } from '../db.js';
import { InvalidConfigError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { mapConcurrent } from '../migrate/map-concurrent.js';
import { migrateSchema } from '../migrate/schema-migrator.js';
import { SPARES_TABLE } from '../registry/registry-migrations.js';
import { registryNotMigrated } from '../registry/registry-not-migrated.js';
import type { ProvisionPlan, Provisioner } from './provisioner.js';
import { newSpareNames } from './spare-names.js';
import { dropTenantRole, grantTenantRole } from './tenant-role-grants.js';

const MAX_COUNT = 10_000;
const FILL_LOCK = 'tenantry.spares';

/**
 * Options of `createTenancy({ spares })`.
 *
 * @example
 * ```ts
 * createTenancy({ pool, migrations: { tenant: './migrations/tenant' }, spares: { count: 20 } });
 * ```
 */
export interface SparesOptions {
  /** How many spares `fill` provisions and a refill keeps (0 to 10,000). */
  readonly count: number;
  /** Refill in the background after each `registry.create` (default true); off, only `fill` makes spares. */
  readonly refill?: boolean;
}

/**
 * One spare, as `spares.status()` lists it.
 *
 * @example
 * ```ts
 * const spare: SpareInfo = { schema: 'tenant__spare_0f3a9c1d2e4b5a67', role: null, migrationVersion: '010_lines', upToDate: true, createdAt: new Date() };
 * ```
 */
export interface SpareInfo {
  readonly schema: string;
  /** Its role, with tenant roles on. */
  readonly role: string | null;
  readonly migrationVersion: string | null;
  /** At the tenant migrations of this process: claimable. */
  readonly upToDate: boolean;
  readonly createdAt: Date;
}

/**
 * What `spares.status()` reports.
 *
 * @example
 * ```ts
 * const status = await tenancy.spares!.status();
 * console.log(`${status.ready} of ${status.count} spares ready, ${status.behind} behind`);
 * ```
 */
export interface SparesStatus {
  /** The configured count. */
  readonly count: number;
  /** Spares at the latest tenant migrations (claimable). */
  readonly ready: number;
  /** Spares behind (or ahead of) the tenant migrations: never claimed; `migrate.tenants()` or `fill` migrates them. */
  readonly behind: number;
  readonly spares: readonly SpareInfo[];
}

/**
 * What `spares.fill()` did.
 *
 * @example
 * ```ts
 * const { created, ready } = await tenancy.spares!.fill();
 * ```
 */
export interface SparesFillReport {
  /** The spares provisioned by this fill. */
  readonly created: readonly string[];
  /** Spares that were behind and were migrated. */
  readonly migrated: readonly string[];
  /** Spares that were behind and could not be migrated, dropped. */
  readonly dropped: readonly string[];
  /** Spares ready when the fill ended. */
  readonly ready: number;
}

/**
 * Progress of `spares.fill()`, after each spare it provisions.
 *
 * @example
 * ```ts
 * await tenancy.spares!.fill({ onProgress: ({ done, total }) => console.error(`${done}/${total}`) });
 * ```
 */
export interface SparesFillProgress {
  readonly done: number;
  readonly total: number;
  readonly spare: string;
}

/**
 * The spare tenants of a tenancy (`tenancy.spares`, with `createTenancy({ spares })`).
 *
 * @example
 * ```ts
 * await tenancy.spares?.fill();                 // provision spares up to the count
 * (await tenancy.spares?.status())?.ready;      // how many a create can claim now
 * await tenancy.spares?.clear();                // drop them all
 * ```
 */
export interface TenantSpares {
  /** The configured count. */
  readonly count: number;
  /**
   * Migrates the spares that are behind (dropping those whose migration fails), then provisions
   * spares, one transaction each, until `count` (default: the configured one) are ready. Fills of
   * several processes take turns (an advisory lock), so they never overshoot.
   */
  fill(options?: { readonly count?: number; readonly onProgress?: (progress: SparesFillProgress) => void }): Promise<SparesFillReport>;
  /** The spares and how many are ready. */
  status(): Promise<SparesStatus>;
  /** Drops every spare (schema, role, row), one transaction each; returns how many. */
  clear(): Promise<number>;
  /**
   * Resolves when no background refill runs (at once when none does). `tenancy.close()` instead
   * stops a refill after the spare in flight.
   *
   * @example
   * ```ts
   * await tenancy.registry.create({ id: 'acme' });
   * await tenancy.spares?.idle(); // the refill the create started is done
   * ```
   */
  idle(): Promise<void>;
}

/**
 * Checks the `spares` option.
 *
 * @example
 * ```ts
 * sparesOptions({ count: 5 }); // { count: 5, refill: true }
 * ```
 */
export function sparesOptions(option: unknown): Required<SparesOptions> | undefined {
  if (option === undefined) return undefined;
  const given = option as Partial<SparesOptions> | null;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidConfigError(`spares must be { count, refill? }, got ${JSON.stringify(option)}`);
  }
  for (const key of Object.keys(given)) {
    if (key !== 'count' && key !== 'refill') throw new InvalidConfigError(`spares takes count and refill, got ${JSON.stringify(key)}`);
  }
  assertCount(given.count, 'spares.count');
  if (given.refill !== undefined && typeof given.refill !== 'boolean') {
    throw new InvalidConfigError(`spares.refill must be true or false, got ${JSON.stringify(given.refill)}`);
  }
  return { count: given.count, refill: given.refill ?? true };
}

function assertCount(count: unknown, what: string): asserts count is number {
  if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > MAX_COUNT) {
    throw new InvalidConfigError(`${what} must be an integer from 0 to ${MAX_COUNT}, got ${JSON.stringify(count)}`);
  }
}

interface SpareRow {
  schema_name: string;
  role_name: string | null;
  migration_version: string | null;
  migration_digest: string;
  created_at: Date;
}

/** What a {@link SparePool} needs. */
export interface SparePoolOptions extends Required<SparesOptions> {
  readonly provisioner: Provisioner;
  readonly schemaPrefix: string;
}

/**
 * The spares of one tenancy, in the shared schema's `tenantry_spares` table. Besides the public
 * {@link TenantSpares}, `registry.create` claims from it and `migrate.tenants()` migrates it.
 *
 * @example
 * ```ts
 * declare const provisioner: import('./provisioner.js').Provisioner;
 * const spares = new SparePool({ provisioner, schemaPrefix: 'tenant_', count: 5, refill: true });
 * await spares.fill();
 * ```
 */
export class SparePool implements TenantSpares {
  readonly count: number;
  readonly #provisioner: Provisioner;
  readonly #schemaPrefix: string;
  readonly #table: string;
  readonly #refill: boolean;
  #refilling: Promise<void> | undefined;
  #refillAgain = false;
  #closed = false;

  constructor(options: SparePoolOptions) {
    this.count = options.count;
    this.#provisioner = options.provisioner;
    this.#schemaPrefix = options.schemaPrefix;
    this.#refill = options.refill;
    this.#table = `${quoteIdent(options.provisioner.sharedSchema)}.${SPARES_TABLE}`;
  }

  fill(options: { readonly count?: number; readonly onProgress?: (progress: SparesFillProgress) => void } = {}): Promise<SparesFillReport> {
    return this.#fill(options).catch(this.#notMigrated);
  }

  status(): Promise<SparesStatus> {
    return this.#status().catch(this.#notMigrated);
  }

  clear(): Promise<number> {
    return this.#clear().catch(this.#notMigrated);
  }

  /** A missing spares table (shared migrations not applied since spares were turned on) becomes `RegistryNotMigratedError`. */
  readonly #notMigrated = (error: unknown): never => {
    throw registryNotMigrated(error, this.#provisioner.sharedSchema) ?? error;
  };

  async #fill(options: { readonly count?: number; readonly onProgress?: (progress: SparesFillProgress) => void }): Promise<SparesFillReport> {
    const count = options.count ?? this.count;
    assertCount(count, 'spares fill count');
    const plan = await this.#provisioner.plan();
    const { migrated, dropped } = await this.migrate(plan);
    const total = Math.max(0, count - (await this.#readyCount(this.#provisioner.pool, plan.digest)));
    const created: string[] = [];
    while (!this.#closed && created.length < total) {
      const spare = await this.#provisionOne(plan, count);
      if (spare === undefined) break;
      created.push(spare);
      options.onProgress?.({ done: created.length, total, spare });
    }
    return { created, migrated, dropped, ready: await this.#readyCount(this.#provisioner.pool, plan.digest) };
  }

  async #status(): Promise<SparesStatus> {
    const { digest } = await this.#provisioner.plan();
    const { rows } = await this.#provisioner.pool.query<SpareRow>(
      `SELECT schema_name, role_name, migration_version, migration_digest, created_at FROM ${this.#table} ORDER BY created_at, schema_name`,
    );
    const spares = rows.map((row) =>
      Object.freeze({
        schema: row.schema_name,
        role: row.role_name,
        migrationVersion: row.migration_version,
        upToDate: row.migration_digest === digest,
        createdAt: row.created_at,
      }),
    );
    const ready = spares.filter((spare) => spare.upToDate).length;
    return { count: this.count, ready, behind: spares.length - ready, spares };
  }

  async #clear(): Promise<number> {
    const { rows } = await this.#provisioner.pool.query<{ schema_name: string }>(`SELECT schema_name FROM ${this.#table} ORDER BY created_at`);
    let dropped = 0;
    for (const row of rows) if (await this.#drop(row.schema_name)) dropped += 1;
    return dropped;
  }

  /**
   * Claims a spare for a new tenant inside `registry.create`'s transaction: takes a spare at the
   * plan's migrations (`FOR UPDATE SKIP LOCKED`: concurrent creates take different ones), deletes
   * its row and renames its schema (and role) to the tenant's. `undefined` when none is ready, or
   * when the tenant's schema or role name exists (a full provisioning then reports it or reuses
   * the role). The claim commits or rolls back with the tenant's row.
   */
  async claim(client: Queryable, tenant: { readonly id: string; readonly schema: string }, plan: ProvisionPlan): Promise<string | undefined> {
    const role = this.#provisioner.roles?.roleOf(tenant.id);
    const { rows } = await client.query<{ schema_name: string; role_name: string | null }>(
      `WITH picked AS (
         SELECT schema_name FROM ${this.#table}
          WHERE migration_digest = $1
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $2)
            AND ($3::text IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $3))
          ORDER BY created_at LIMIT 1
          FOR UPDATE SKIP LOCKED)
       DELETE FROM ${this.#table} s USING picked WHERE s.schema_name = picked.schema_name
       RETURNING s.schema_name, s.role_name`,
      [plan.digest, tenant.schema, role ?? null],
    );
    const spare = rows[0];
    if (spare === undefined) return undefined;
    const renames = [`ALTER SCHEMA ${quoteIdent(spare.schema_name)} RENAME TO ${quoteIdent(tenant.schema)}`];
    if (role !== undefined) {
      if (spare.role_name === null) throw new Error(`spare ${spare.schema_name} has no role, with tenant roles on`);
      renames.push(`ALTER ROLE ${quoteIdent(spare.role_name)} RENAME TO ${quoteIdent(role)}`);
    }
    await client.query(renames.join(';\n'));
    return spare.schema_name;
  }

  /**
   * Brings the spares behind `plan` to it, one transaction each (a spare being claimed is
   * skipped); a spare whose migration fails, or whose role does not match the tenant roles
   * setting, is dropped. Failures go to the `provisioning` diagnostics channel.
   */
  async migrate(plan: ProvisionPlan, concurrency = 1): Promise<{ migrated: string[]; dropped: string[] }> {
    const pool = this.#provisioner.pool;
    const roles = this.#provisioner.roles;
    const { rows } = await pool.query<SpareRow>(
      `SELECT schema_name, role_name FROM ${this.#table} WHERE migration_digest IS DISTINCT FROM $1 ORDER BY created_at`,
      [plan.digest],
    );
    const migrated: string[] = [];
    const dropped: string[] = [];
    await mapConcurrent(rows, concurrency, async ({ schema_name: schema, role_name: role }) => {
      const started = performance.now();
      try {
        if ((role === null) !== (roles === undefined)) throw new Error(`spare ${schema} was made with tenant roles ${role === null ? 'off' : 'on'}`);
        const done = await withTransaction(pool, async (client) => {
          const locked = await client.query(
            `SELECT 1 FROM ${this.#table} WHERE schema_name = $1 AND migration_digest IS DISTINCT FROM $2 FOR UPDATE SKIP LOCKED`,
            [schema, plan.digest],
          );
          if (locked.rows.length === 0) return false;
          await migrateSchema(client, {
            schema,
            sharedSchema: this.#provisioner.sharedSchema,
            migrations: plan.migrations,
            tenantId: schema,
            ...(roles === undefined ? {} : { afterApply: (migrating) => grantTenantRole(migrating, roles, { id: schema, schema, role: role ?? undefined }) }),
          });
          await client.query(`UPDATE ${this.#table} SET migration_version = $2, migration_digest = $3 WHERE schema_name = $1`, [schema, plan.version, plan.digest]);
          return true;
        });
        if (done) migrated.push(schema);
      } catch (error) {
        publish({ phase: 'failed', tenantId: null, spare: schema, error, durationMs: performance.now() - started });
        if (await this.#drop(schema)) dropped.push(schema);
      }
    });
    return { migrated, dropped };
  }

  /**
   * Starts a fill in the background unless refills are off or one runs (then it runs once more
   * after it). Never throws and never rejects: failures go to the `provisioning` channel.
   */
  refillSoon(): void {
    if (!this.#refill || this.#closed || this.count === 0) return;
    if (this.#refilling !== undefined) {
      this.#refillAgain = true;
      return;
    }
    const started = performance.now();
    this.#refilling = this.fill()
      .then(
        () => undefined,
        (error: unknown) => {
          if (!published.has(error as object)) publish({ phase: 'failed', tenantId: null, error, durationMs: performance.now() - started });
        },
      )
      .finally(() => {
        this.#refilling = undefined;
        if (this.#refillAgain) {
          this.#refillAgain = false;
          this.refillSoon();
        }
      });
  }

  async idle(): Promise<void> {
    while (this.#refilling !== undefined) await this.#refilling;
  }

  /** Stops refilling after the spare in flight, and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
  }

  /** One spare, in its own transaction, unless `count` are ready (checked under the fill lock). */
  async #provisionOne(plan: ProvisionPlan, count: number): Promise<string | undefined> {
    const started = performance.now();
    const names = newSpareNames(this.#schemaPrefix, this.#provisioner.roles);
    try {
      const made = await withTransaction(this.#provisioner.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [FILL_LOCK, this.#provisioner.sharedSchema]);
        if ((await this.#readyCount(client, plan.digest)) >= count) return false;
        await this.#provisioner.provision(client, { id: names.schema, schema: names.schema, role: names.role }, plan);
        await client.query(`INSERT INTO ${this.#table} (schema_name, role_name, migration_version, migration_digest) VALUES ($1, $2, $3, $4)`, [
          names.schema,
          names.role ?? null,
          plan.version,
          plan.digest,
        ]);
        return true;
      });
      if (!made) return undefined;
      publish({ phase: 'done', tenantId: null, spare: names.schema, durationMs: performance.now() - started });
      return names.schema;
    } catch (error) {
      publish({ phase: 'failed', tenantId: null, spare: names.schema, error, durationMs: performance.now() - started });
      if (typeof error === 'object' && error !== null) published.add(error);
      throw error;
    }
  }

  async #readyCount(db: Queryable, digest: string): Promise<number> {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.#table} WHERE migration_digest = $1`, [digest]);
    return rows[0]?.n ?? 0;
  }

  /** Drops a spare that is still one (its row is there): row, schema and role, in one transaction. */
  async #drop(schema: string): Promise<boolean> {
    return withTransaction(this.#provisioner.pool, async (client) => {
      const { rows } = await client.query<{ role_name: string | null }>(`DELETE FROM ${this.#table} WHERE schema_name = $1 RETURNING role_name`, [schema]);
      if (rows[0] === undefined) return false;
      await this.#provisioner.dropSchema(client, schema);
      if (rows[0].role_name !== null) await dropTenantRole(client, this.#provisioner.roles, { id: schema, schema, role: rows[0].role_name }, { schemaDropped: true });
      return true;
    });
  }
}

/** Errors already reported on the channel, so a refill does not report them twice. */
const published = new WeakSet<object>();

function publish(event: ProvisioningEvent): void {
  if (provisioningChannel.hasSubscribers) provisioningChannel.publish(event);
}
