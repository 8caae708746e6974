/**
 * A registry kept in memory, for tests and static setups. Same interface and behaviour as the
 * PostgreSQL registry (the same test suite runs on both).
 *
 * @module
 */
import { withTransaction } from '../db.js';
import { normalizeDomain } from '../domains.js';
import { InvalidConfigError, TenantExistsError, TenantNotFoundError } from '../errors.js';
import type { Provisioner } from '../provision/provisioner.js';
import type { Tenant, TenantDomain } from '../types.js';
import type { CreateTenantInput, ListTenantsInput, TenantPage, TenantRegistry, UpdateTenantInput } from './registry.js';
import { freezeTenant, listLimit, type NewTenant, newTenant, tenantChanges } from './tenant-record.js';

/** Options of {@link MemoryRegistry}. */
export interface MemoryRegistryOptions {
  /** Tenants present from the start (no schema is created for them). */
  readonly tenants?: readonly CreateTenantInput[];
  /** Prefix of derived schema names (default `tenant_`). */
  readonly schemaPrefix?: string;
  /**
   * Creates and migrates schemas on `create` (and drops them on `delete`); without it, records
   * only. `createTenancy` passes its own; the package offers no other way to make one.
   *
   * @internal
   */
  readonly provisioner?: Provisioner;
  /** Called after every write with the tenant it changed (the lookup cache listens). */
  readonly onChange?: (tenantId: string) => void;
}

interface Entry {
  tenant: Tenant;
  digest: string | null;
}

/**
 * An in-memory registry.
 *
 * @example
 * ```ts
 * const tenancy = createTenancy({ registry: new MemoryRegistry({ tenants: [{ id: 'acme', name: 'Acme' }] }) });
 * await tenancy.run('acme', () => tenancy.current()?.schema); // 'tenant_acme'
 * ```
 */
export class MemoryRegistry implements TenantRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #domains = new Map<string, TenantDomain>();
  readonly #reserved = new Set<string>();
  /** Creates in flight, by id: `ensure` waits for them. */
  readonly #creating = new Map<string, Promise<Tenant>>();
  readonly #schemaPrefix: string;
  readonly #provisioner: Provisioner | undefined;
  readonly #onChange: (tenantId: string) => void;

  constructor(options: MemoryRegistryOptions = {}) {
    this.#schemaPrefix = options.schemaPrefix ?? 'tenant_';
    this.#provisioner = options.provisioner;
    this.#onChange = options.onChange ?? (() => {});
    for (const input of options.tenants ?? []) {
      const tenant = newTenant(input, this.#schemaPrefix);
      this.#claim(tenant.id, tenant.schema, tenant.domains);
      this.#store(tenant, null, null);
    }
  }

  async create(input: CreateTenantInput): Promise<Tenant> {
    const tenant = newTenant(input, this.#schemaPrefix);
    const claims = this.#claim(tenant.id, tenant.schema, tenant.domains);
    for (const claim of claims) this.#reserved.add(claim);
    const creating = this.#provision(tenant);
    this.#creating.set(tenant.id, creating);
    try {
      return await creating;
    } finally {
      for (const claim of claims) this.#reserved.delete(claim);
      this.#creating.delete(tenant.id);
    }
  }

  async ensure(input: CreateTenantInput): Promise<Tenant> {
    const { id } = newTenant(input, this.#schemaPrefix);
    for (let creating = this.#creating.get(id); creating !== undefined; creating = this.#creating.get(id)) {
      await creating.catch(() => undefined);
    }
    // No await from here into create's claim: no other create of this id can start in between.
    return this.#entries.get(id)?.tenant ?? this.create(input);
  }

  async get(id: string): Promise<Tenant | undefined> {
    return this.#entries.get(id)?.tenant;
  }

  async getByDomain(domain: string): Promise<Tenant | undefined> {
    const found = this.#domains.get(normalizeDomain(domain));
    return found === undefined ? undefined : this.#entries.get(found.tenantId)?.tenant;
  }

  async list(input: ListTenantsInput = {}): Promise<TenantPage> {
    const limit = listLimit(input);
    const matching = [...this.#entries.values()]
      .map((entry) => entry.tenant)
      .filter((tenant) => (input.status === undefined || tenant.status === input.status) && (input.after === undefined || tenant.id > input.after))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const tenants = matching.slice(0, limit);
    return { tenants, next: matching.length > limit ? tenants.at(-1)!.id : undefined };
  }

  async update(id: string, input: UpdateTenantInput): Promise<Tenant> {
    const changes = tenantChanges(input);
    return this.#replace(id, changes);
  }

  async suspend(id: string): Promise<Tenant> {
    return this.#replace(id, { status: 'suspended' });
  }

  async resume(id: string): Promise<Tenant> {
    return this.#replace(id, { status: 'active' });
  }

  async delete(id: string, options: { dropSchema?: boolean } = {}): Promise<void> {
    const entry = this.#require(id);
    const provisioner = this.#provisioner;
    if (options.dropSchema === true && provisioner === undefined) {
      throw new InvalidConfigError('dropSchema needs a registry created by createTenancy({ pool })');
    }
    if (provisioner !== undefined && (options.dropSchema === true || provisioner.roles !== undefined)) {
      const { tenant } = entry;
      await withTransaction(provisioner.pool, (client) => provisioner.remove(client, tenant, { dropSchema: options.dropSchema === true }));
    }
    this.#entries.delete(id);
    for (const [domain, record] of this.#domains) if (record.tenantId === id) this.#domains.delete(domain);
    this.#onChange(id);
  }

  async addDomain(id: string, domain: string, options: { primary?: boolean } = {}): Promise<TenantDomain> {
    const name = normalizeDomain(domain);
    this.#require(id);
    if (this.#domains.has(name)) throw new TenantExistsError(id, `domain ${name} is taken`);
    if (options.primary === true) {
      for (const [key, record] of this.#domains) {
        if (record.tenantId === id && record.primary) this.#domains.set(key, Object.freeze({ ...record, primary: false }));
      }
    }
    const record = Object.freeze({ domain: name, tenantId: id, primary: options.primary === true });
    this.#domains.set(name, record);
    this.#onChange(id);
    return record;
  }

  async removeDomain(domain: string): Promise<void> {
    const name = normalizeDomain(domain);
    const record = this.#domains.get(name);
    if (record === undefined) throw new TenantNotFoundError(name, 'domain');
    this.#domains.delete(name);
    this.#onChange(record.tenantId);
  }

  async domains(id: string): Promise<readonly TenantDomain[]> {
    return [...this.#domains.values()]
      .filter((record) => record.tenantId === id)
      .sort((a, b) => Number(b.primary) - Number(a.primary) || (a.domain < b.domain ? -1 : 1));
  }

  async listStale(digest: string, options: { only?: readonly string[] } = {}): Promise<readonly Tenant[]> {
    const only = options.only === undefined ? undefined : new Set(options.only);
    return [...this.#entries.values()]
      .filter((entry) => entry.digest !== digest && (only === undefined || only.has(entry.tenant.id)))
      .map((entry) => entry.tenant)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async recordMigration(id: string, state: { version: string | null; digest: string }): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    entry.digest = state.digest;
    entry.tenant = freezeTenant({ ...entry.tenant, migrationVersion: state.version, updatedAt: new Date() });
  }

  /** Throws when the id, schema or a domain is taken or being created; returns the keys to reserve. */
  #claim(id: string, schema: string, domains: readonly string[]): string[] {
    if (this.#entries.has(id) || this.#reserved.has(`id:${id}`)) throw new TenantExistsError(id);
    const schemaTaken = [...this.#entries.values()].some((entry) => entry.tenant.schema === schema);
    if (schemaTaken || this.#reserved.has(`schema:${schema}`)) throw new TenantExistsError(id, 'its schema name is taken');
    for (const domain of domains) {
      if (this.#domains.has(domain) || this.#reserved.has(`domain:${domain}`)) {
        throw new TenantExistsError(id, `domain ${domain} is taken`);
      }
    }
    return [`id:${id}`, `schema:${schema}`, ...domains.map((domain) => `domain:${domain}`)];
  }

  async #provision(tenant: NewTenant): Promise<Tenant> {
    const provisioner = this.#provisioner;
    const mark = provisioner ? await withTransaction(provisioner.pool, (client) => provisioner.provision(client, tenant)) : undefined;
    const stored = this.#store(tenant, mark?.version ?? null, mark?.digest ?? null);
    this.#onChange(tenant.id);
    return stored;
  }

  #store(tenant: NewTenant, version: string | null, digest: string | null): Tenant {
    const now = new Date();
    const stored = freezeTenant({ ...tenant, migrationVersion: version, createdAt: now, updatedAt: now });
    this.#entries.set(tenant.id, { tenant: stored, digest });
    for (const [index, domain] of tenant.domains.entries()) {
      this.#domains.set(domain, Object.freeze({ domain, tenantId: tenant.id, primary: index === 0 }));
    }
    return stored;
  }

  #require(id: string): Entry {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new TenantNotFoundError(String(id));
    return entry;
  }

  #replace(id: string, changes: Partial<Tenant>): Tenant {
    const entry = this.#require(id);
    entry.tenant = freezeTenant({ ...entry.tenant, ...changes, updatedAt: new Date() });
    this.#onChange(id);
    return entry.tenant;
  }
}
