/**
 * The registry kept in PostgreSQL, in the shared schema.
 *
 * @module
 */
import { type ProvisioningEvent, provisioningChannel } from '../diagnostics.js';
import type { PoolClientLike, PoolLike, Queryable, QueryResultLike } from '../db.js';
import { sqlState, withTransaction } from '../db.js';
import { normalizeDomain } from '../domains.js';
import { InvalidConfigError, TenantExistsError, TenantNotFoundError } from '../errors.js';
import { isValidTenantId, quoteIdent } from '../identifiers.js';
import type { DetachedPlacements, DetachedProvisioner } from '../placement/detached-provisioner.js';
import type { MigrationMark, Provisioner } from '../provision/provisioner.js';
import type { SparePool } from '../provision/spare-pool.js';
import type { Tenant, TenantDomain, TenantStatus } from '../types.js';
import { type MoveGuard, takeMoveLock } from '../provision/move-lock.js';
import type { CreateTenantInput, ListTenantsInput, MigrationRecord, TenantPage, TenantRegistry, UpdateTenantInput } from './registry.js';
import type { Migration } from '../migrate/migration.js';
import { announceChange, changeNotice } from './change-channel.js';
import { DOMAINS_TABLE, registryMigrations, TENANTS_TABLE } from './registry-migrations.js';
import { registryNotMigrated } from './registry-not-migrated.js';
import { type TenantRow, listLimit, newTenant, tenantChanges, tenantFromRow as toTenant } from './tenant-record.js';

/** Options of {@link PostgresRegistry}. */
export interface PostgresRegistryOptions {
  readonly pool: PoolLike;
  /** The schema that holds the registry tables (default `public`). */
  readonly sharedSchema?: string;
  /** Prefix of derived schema names (default `tenant_`). */
  readonly schemaPrefix?: string;
  /**
   * Creates and migrates a tenant's schema inside `create`'s transaction; without it, rows only.
   * `createTenancy` passes its own; the package offers no other way to make one.
   *
   * @internal
   */
  readonly provisioner?: Provisioner;
  /**
   * Spare tenants `create` claims before it provisions one (`createTenancy({ spares })`).
   *
   * @internal
   */
  readonly spares?: SparePool;
  /**
   * Tenants provisioned outside `create`'s transaction (on another server, or a database of
   * their own), atomic in effect (docs/scaling.md).
   *
   * @internal
   */
  readonly placements?: DetachedPlacements;
  /** Called after every committed write with the tenant it changed (the lookup cache listens). */
  readonly onChange?: (tenantId: string) => void;
}

const COLUMNS = 'id, name, schema_name, status, placement, metadata, migration_version, strategy, created_at, updated_at';

/**
 * The PostgreSQL registry. `createTenancy({ pool })` makes one; build it yourself only to use
 * a registry without the rest of tenantry.
 *
 * @example
 * ```ts
 * const registry = new PostgresRegistry({ pool, sharedSchema: 'public' });
 * await registry.get('acme');
 * ```
 */
export class PostgresRegistry implements TenantRegistry {
  readonly #pool: PoolLike;
  readonly #schemaPrefix: string;
  readonly #provisioner: Provisioner | undefined;
  readonly #spares: SparePool | undefined;
  readonly #placements: DetachedPlacements | undefined;
  readonly #tenants: string;
  readonly #domains: string;
  readonly #sharedSchema: string;
  readonly #onChange: (tenantId: string) => void;

  constructor(options: PostgresRegistryOptions) {
    if (typeof options?.pool?.query !== 'function') throw new InvalidConfigError('PostgresRegistry needs a pg pool');
    this.#pool = options.pool;
    this.#schemaPrefix = options.schemaPrefix ?? 'tenant_';
    this.#provisioner = options.provisioner;
    this.#spares = options.provisioner === undefined ? undefined : options.spares;
    this.#placements = options.placements;
    this.#sharedSchema = options.sharedSchema ?? 'public';
    this.#onChange = options.onChange ?? (() => {});
    const shared = quoteIdent(this.#sharedSchema);
    this.#tenants = `${shared}.${TENANTS_TABLE}`;
    this.#domains = `${shared}.${DOMAINS_TABLE}`;
  }

  async create(input: CreateTenantInput): Promise<Tenant> {
    const tenant = newTenant(input, this.#schemaPrefix);
    const detached = this.#provisioner === undefined ? undefined : this.#placements?.detached(tenant.placement);
    const started = performance.now();
    let spare: string | undefined;
    let provisionedElsewhere = false;
    // The migrations load while a connection is checked out and the transaction begins.
    const planning = this.#provisioner?.plan();
    planning?.catch(() => {});
    try {
      const created = await this.#transaction(async (client) => {
        const plan = await planning;
        spare = plan === undefined || detached !== undefined ? undefined : await this.#spares?.claim(client, tenant, plan);
        // The row, written once with the version the migrations reach, and the change announced, in one statement.
        const { rows } = await client.query<TenantRow>(
          `WITH inserted AS (
             INSERT INTO ${this.#tenants} (id, name, schema_name, status, placement, metadata, migration_version, migration_digest)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS})
           SELECT ${COLUMNS}, pg_notify($9, $10)::text AS notified FROM inserted`,
          [
            tenant.id,
            tenant.name,
            tenant.schema,
            tenant.status,
            tenant.placement,
            JSON.stringify(tenant.metadata),
            plan?.version ?? null,
            plan?.digest ?? null,
            ...changeNotice(this.#sharedSchema, tenant.id),
          ],
        );
        for (const [index, domain] of tenant.domains.entries()) {
          await this.#insertDomain(client, tenant.id, domain, index === 0);
        }
        if (detached !== undefined) {
          await this.#provisionElsewhere(client, detached, tenant, plan);
          provisionedElsewhere = true;
        } else if (plan !== undefined && spare === undefined) {
          await this.#provisioner!.provision(client, tenant, plan);
        }
        return toTenant(rows[0]!);
      }).catch(async (error: unknown) => {
        if (provisionedElsewhere) await detached!.undo(tenant).catch(() => {});
        throw error;
      });
      // The tenant is registered: a mark left by a failure here is cleared by nothing, and harms nothing.
      if (detached !== undefined) await detached.finish(tenant).catch(() => {});
      this.#onChange(tenant.id);
      if (provisioningChannel.hasSubscribers) {
        provisioningChannel.publish({ phase: 'done', tenantId: tenant.id, ...(spare === undefined ? {} : { spare }), durationMs: performance.now() - started } satisfies ProvisioningEvent);
      }
      return created;
    } catch (error) {
      const refused = this.#conflict(error, tenant.id);
      if (provisioningChannel.hasSubscribers) {
        provisioningChannel.publish({ phase: 'failed', tenantId: tenant.id, error: refused, durationMs: performance.now() - started } satisfies ProvisioningEvent);
      }
      throw refused;
    } finally {
      this.#spares?.refillSoon();
    }
  }

  /**
   * Provisions a tenant outside this transaction, after its row is inserted (a concurrent create
   * of the id waits on the row), and records where its schema stands.
   */
  async #provisionElsewhere(client: Queryable, detached: DetachedProvisioner, tenant: { id: string; schema: string; placement: string }, plan: Awaited<ReturnType<Provisioner['plan']>> | undefined): Promise<MigrationMark> {
    const mark = await detached.provision(tenant, plan);
    await client.query(`UPDATE ${this.#tenants} SET migration_version = $2, migration_digest = $3 WHERE id = $1`, [tenant.id, mark.version, mark.digest]);
    return mark;
  }

  /**
   * Sets a tenant's status, `moving` included (`tenancy.move` does).
   *
   * @internal
   */
  setStatus(id: string, status: TenantStatus): Promise<Tenant> {
    return this.#updateRow(id, 'status = $2', [status]);
  }

  /**
   * Ends a move: the new placement, the status before the move and where the moved schema's
   * migrations stand, in one statement.
   *
   * @internal
   */
  finishMove(id: string, placement: string, status: TenantStatus, mark: MigrationMark): Promise<Tenant> {
    return this.#updateRow(id, 'placement = $2, status = $3, migration_version = $4, migration_digest = $5', [placement, status, mark.version, mark.digest]);
  }

  /**
   * Switches a tenant between the tenancy's strategy (`null`) and a schema of its own, and sets
   * its status, then runs `work` (which moves its rows) in the same transaction; the change is
   * announced when it commits. The row is switched first: what `work` does in the transaction
   * sees the tenant where it is going.
   *
   * @internal
   */
  async switchStrategy<R>(id: string, strategy: 'schema' | null, status: TenantStatus, work: (client: PoolClientLike) => Promise<R>): Promise<{ tenant: Tenant; result: R }> {
    const done = await this.#transaction(async (client) => {
      const { rows } = await client.query<TenantRow>(
        `UPDATE ${this.#tenants} SET strategy = $2, status = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, strategy, status],
      );
      if (rows[0] === undefined) throw new TenantNotFoundError(id);
      const result = await work(client);
      await announceChange(client, this.#sharedSchema, id);
      return { tenant: toTenant(rows[0]), result };
    });
    this.#onChange(id);
    return done;
  }

  /**
   * Takes the move lock of a tenant (a session advisory lock on a registry connection), or
   * `undefined` when another move of it is running.
   *
   * @internal
   */
  async lockForMove(id: string): Promise<MoveGuard | undefined> {
    return takeMoveLock(await this.#pool.connect(), id);
  }

  async ensure(input: CreateTenantInput): Promise<Tenant> {
    const { id } = newTenant(input, this.#schemaPrefix);
    const existing = await this.get(id);
    if (existing !== undefined) return existing;
    try {
      return await this.create(input);
    } catch (error) {
      // A concurrent create of the same id commits first: this INSERT waited for it, then conflicted.
      if (error instanceof TenantExistsError) return (await this.get(id)) ?? Promise.reject(error);
      throw error;
    }
  }

  async get(id: string): Promise<Tenant | undefined> {
    if (!isValidTenantId(id)) return undefined;
    const { rows } = await this.#query<TenantRow>(`SELECT ${COLUMNS} FROM ${this.#tenants} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toTenant(rows[0]);
  }

  async getByDomain(domain: string): Promise<Tenant | undefined> {
    const name = normalizeDomain(domain);
    const { rows } = await this.#query<TenantRow>(
      `SELECT ${COLUMNS.split(', ').map((column) => `t.${column}`).join(', ')}
       FROM ${this.#domains} d JOIN ${this.#tenants} t ON t.id = d.tenant_id WHERE d.domain = $1`,
      [name],
    );
    return rows[0] === undefined ? undefined : toTenant(rows[0]);
  }

  async list(input: ListTenantsInput = {}): Promise<TenantPage> {
    const limit = listLimit(input);
    const { rows } = await this.#query<TenantRow>(
      `SELECT ${COLUMNS} FROM ${this.#tenants}
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR id > $2 COLLATE "C")
       ORDER BY id COLLATE "C" LIMIT $3`,
      [input.status ?? null, input.after ?? null, limit + 1],
    );
    const tenants = rows.slice(0, limit).map(toTenant);
    return { tenants, next: rows.length > limit ? tenants.at(-1)!.id : undefined };
  }

  async update(id: string, input: UpdateTenantInput): Promise<Tenant> {
    const changes = tenantChanges(input);
    if (changes.placement !== undefined && this.#placements !== undefined) {
      throw new InvalidConfigError('With createTenancy({ servers }), a placement changes with tenancy.move(id, server), which moves the data too');
    }
    return this.#updateRow(
      id,
      `name = COALESCE($2, name), placement = COALESCE($3, placement), metadata = COALESCE($4::jsonb, metadata)`,
      [changes.name ?? null, changes.placement ?? null, changes.metadata === undefined ? null : JSON.stringify(changes.metadata)],
    );
  }

  suspend(id: string): Promise<Tenant> {
    return this.#updateRow(id, `status = 'suspended'`, []);
  }

  resume(id: string): Promise<Tenant> {
    return this.#updateRow(id, `status = 'active'`, []);
  }

  async delete(id: string, options: { dropSchema?: boolean } = {}): Promise<void> {
    if (!isValidTenantId(id)) throw new TenantNotFoundError(String(id));
    const dropSchema = options.dropSchema === true;
    const removed = await this.#transaction(async (client) => {
      const { rows } = await client.query<{ schema_name: string; placement: string }>(
        `DELETE FROM ${this.#tenants} WHERE id = $1 RETURNING schema_name, placement`,
        [id],
      );
      if (rows[0] === undefined) throw new TenantNotFoundError(id);
      const tenant = { id, schema: rows[0].schema_name, placement: rows[0].placement };
      const detached = this.#provisioner === undefined ? undefined : this.#placements?.detached(tenant.placement);
      if (detached === undefined) {
        const provisioner = dropSchema ? this.#requireProvisioner() : this.#provisioner;
        await provisioner?.remove(client, tenant, { dropSchema });
      }
      await announceChange(client, this.#sharedSchema, id);
      return { tenant, detached };
    });
    this.#onChange(id);
    // Elsewhere after the row is gone: a failure leaves an unregistered schema, never a registered tenant without one.
    await removed.detached?.remove(removed.tenant, { dropSchema });
  }

  async addDomain(id: string, domain: string, options: { primary?: boolean } = {}): Promise<TenantDomain> {
    const name = normalizeDomain(domain);
    if (!isValidTenantId(id)) throw new TenantNotFoundError(String(id));
    try {
      return await this.#transaction(async (client) => {
        const { rows } = await client.query(`SELECT 1 FROM ${this.#tenants} WHERE id = $1 FOR UPDATE`, [id]);
        if (rows.length === 0) throw new TenantNotFoundError(id);
        if (options.primary === true) {
          await client.query(`UPDATE ${this.#domains} SET is_primary = false WHERE tenant_id = $1`, [id]);
        }
        const added = await this.#insertDomain(client, id, name, options.primary === true);
        await announceChange(client, this.#sharedSchema, id);
        return added;
      });
    } catch (error) {
      throw this.#conflict(error, id, name);
    } finally {
      this.#onChange(id);
    }
  }

  async removeDomain(domain: string): Promise<void> {
    const name = normalizeDomain(domain);
    const tenantId = await this.#transaction(async (client) => {
      const { rows } = await client.query<{ tenant_id: string }>(`DELETE FROM ${this.#domains} WHERE domain = $1 RETURNING tenant_id`, [name]);
      if (rows[0] === undefined) throw new TenantNotFoundError(name, 'domain');
      await announceChange(client, this.#sharedSchema, rows[0].tenant_id);
      return rows[0].tenant_id;
    });
    this.#onChange(tenantId);
  }

  async domains(id: string): Promise<readonly TenantDomain[]> {
    if (!isValidTenantId(id)) return [];
    const { rows } = await this.#query<{ domain: string; tenant_id: string; is_primary: boolean }>(
      `SELECT domain, tenant_id, is_primary FROM ${this.#domains} WHERE tenant_id = $1 ORDER BY is_primary DESC, domain`,
      [id],
    );
    return rows.map((row) => Object.freeze({ domain: row.domain, tenantId: row.tenant_id, primary: row.is_primary }));
  }

  async listStale(digest: string, options: { only?: readonly string[] } = {}): Promise<readonly Tenant[]> {
    const { rows } = await this.#query<TenantRow>(
      `SELECT ${COLUMNS} FROM ${this.#tenants}
       WHERE migration_digest IS DISTINCT FROM $1 AND ($2::text[] IS NULL OR id = ANY($2))
       ORDER BY id COLLATE "C"`,
      [digest, options.only === undefined ? null : [...options.only]],
    );
    return rows.map(toTenant);
  }

  async recordMigration(id: string, state: { version: string | null; digest: string }): Promise<void> {
    await this.#query(
      `UPDATE ${this.#tenants} SET migration_version = $2, migration_digest = $3, updated_at = now() WHERE id = $1`,
      [id, state.version, state.digest],
    );
  }

  async recordMigrations(records: readonly MigrationRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.#query(
      `UPDATE ${this.#tenants} AS tenant
       SET migration_version = record.version, migration_digest = record.digest, updated_at = now()
       FROM unnest($1::text[], $2::text[], $3::text[]) AS record (id, version, digest)
       WHERE tenant.id = record.id`,
      [records.map((record) => record.id), records.map((record) => record.version), records.map((record) => record.digest)],
    );
  }

  async #updateRow(id: string, assignments: string, values: unknown[]): Promise<Tenant> {
    if (!isValidTenantId(id)) throw new TenantNotFoundError(String(id));
    const row = await this.#transaction(async (client) => {
      const { rows } = await client.query<TenantRow>(
        `UPDATE ${this.#tenants} SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, ...values],
      );
      if (rows[0] === undefined) throw new TenantNotFoundError(id);
      await announceChange(client, this.#sharedSchema, id);
      return rows[0];
    });
    this.#onChange(id);
    return toTenant(row);
  }

  /** A query on the pool; a missing registry table becomes `RegistryNotMigratedError`. */
  #query<R>(text: string, values?: unknown[]): Promise<QueryResultLike<R>> {
    return this.#pool.query<R>(text, values).catch(this.#notMigrated);
  }

  /** A transaction on the pool; a missing registry table becomes `RegistryNotMigratedError`. */
  #transaction<R>(fn: (client: PoolClientLike) => Promise<R>): Promise<R> {
    return withTransaction(this.#pool, fn).catch(this.#notMigrated);
  }

  readonly #notMigrated = (error: unknown): never => {
    throw registryNotMigrated(error, this.#sharedSchema) ?? error;
  };

  /** The registry's own tables, applied by `tenancy.migrate.shared()` before the app's shared migrations. */
  sharedMigrations(): readonly Migration[] {
    return registryMigrations(this.#sharedSchema);
  }

  async #insertDomain(client: Queryable, id: string, domain: string, primary: boolean): Promise<TenantDomain> {
    await client.query(`INSERT INTO ${this.#domains} (domain, tenant_id, is_primary) VALUES ($1, $2, $3)`, [
      domain,
      id,
      primary,
    ]);
    return Object.freeze({ domain, tenantId: id, primary });
  }

  #requireProvisioner(): Provisioner {
    if (this.#provisioner === undefined) {
      throw new InvalidConfigError('dropSchema needs a registry created by createTenancy({ pool })');
    }
    return this.#provisioner;
  }

  #conflict(error: unknown, id: string, domain?: string): unknown {
    if (sqlState(error) !== '23505') return error;
    const constraint = (error as { constraint?: string }).constraint ?? '';
    if (constraint.startsWith(DOMAINS_TABLE) && !constraint.includes('one_primary')) {
      return new TenantExistsError(id, `domain ${domain ?? 'given'} is taken`, { cause: error });
    }
    if (constraint.includes('schema_name')) return new TenantExistsError(id, 'its schema name is taken', { cause: error });
    return new TenantExistsError(id, undefined, { cause: error });
  }
}
