/**
 * A tenant schema on another server than the registry's: provisioned in a transaction of its
 * own, marked unfinished until the registry row has committed.
 *
 * @module
 */
import type { PoolLike, Queryable } from '../db.js';
import { withTransaction } from '../db.js';
import { TenantExistsError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import type { Provisioner } from '../provision/provisioner.js';
import type { DetachedProvisioner, DetachedTenant } from './detached-provisioner.js';

/** The comment an unfinished tenant schema carries on its server. */
export const UNFINISHED = 'tenantry:unfinished';

/**
 * Drops the schema (and role) an unfinished attempt left for this tenant; refuses a schema that
 * carries no unfinished mark (another tenant's, or one made by hand).
 *
 * @example
 * ```ts
 * declare const client: import('../db.js').Queryable;
 * declare const provisioner: import('../provision/provisioner.js').Provisioner;
 * await clearLeftover(client, provisioner, { id: 'acme', schema: 'tenant_acme' });
 * ```
 */
export async function clearLeftover(client: Queryable, provisioner: Provisioner, tenant: { readonly id: string; readonly schema: string }): Promise<void> {
  const { rows } = await client.query<{ note: string | null }>(
    `SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1`,
    [tenant.schema],
  );
  if (rows[0] === undefined) return;
  if (rows[0].note !== UNFINISHED) throw new TenantExistsError(tenant.id, `schema "${tenant.schema}" already exists on its server`);
  await provisioner.remove(client, tenant, { dropSchema: true });
}

/**
 * Marks a tenant schema unfinished, or (with `null`) finished.
 *
 * @example
 * ```ts
 * await markSchema(client, 'tenant_acme', UNFINISHED);
 * ```
 */
export async function markSchema(client: Queryable, schema: string, note: string | null): Promise<void> {
  await client.query(`COMMENT ON SCHEMA ${quoteIdent(schema)} IS ${note === null ? 'NULL' : `'${note}'`}`);
}

/**
 * Provisions tenant schemas on one server other than the registry's.
 *
 * @example
 * ```ts
 * declare const servers: import('./servers.js').Servers;
 * declare const provisionerOn: (pool: import('../db.js').PoolLike) => import('../provision/provisioner.js').Provisioner;
 * const eu = placedProvisioner(() => servers.pool('eu'), provisionerOn);
 * ```
 */
export function placedProvisioner(pool: () => Promise<PoolLike>, provisionerOf: (pool: PoolLike) => Provisioner): DetachedProvisioner {
  let made: Promise<{ pool: PoolLike; provisioner: Provisioner }> | undefined;
  const server = (): Promise<{ pool: PoolLike; provisioner: Provisioner }> =>
    (made ??= pool().then((serverPool) => ({ pool: serverPool, provisioner: provisionerOf(serverPool) })));
  const inTransaction = async <R>(fn: (client: Queryable, provisioner: Provisioner) => Promise<R>): Promise<R> => {
    const { pool: serverPool, provisioner } = await server();
    return withTransaction(serverPool, (client) => fn(client, provisioner));
  };
  const provisionWith = <R>(tenant: DetachedTenant, build: (client: Queryable, provisioner: Provisioner) => Promise<R>): Promise<R> =>
    inTransaction(async (client, provisioner) => {
      await clearLeftover(client, provisioner, tenant);
      const built = await build(client, provisioner);
      await markSchema(client, tenant.schema, UNFINISHED);
      return built;
    });
  return {
    provision: (tenant, plan) => provisionWith(tenant, (client, provisioner) => provisioner.provision(client, tenant, plan)),
    provisionWith,
    finish: (tenant) => inTransaction((client) => markSchema(client, tenant.schema, null)),
    undo: (tenant) => inTransaction((client, provisioner) => provisioner.remove(client, tenant, { dropSchema: true })),
    remove: (tenant, options) => inTransaction((client, provisioner) => provisioner.remove(client, tenant, options)),
  };
}
