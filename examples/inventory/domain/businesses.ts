/**
 * The platform: businesses sign up here. A business is a tenantry tenant: its own schema, made
 * and migrated by `tenancy.registry.create`, with its plan in the tenant's metadata. Plans are
 * a shared table.
 *
 * @module
 */
import { isTenancyError, type Tenant, tenantIdProblem } from '../../../src/index.js';
import type { Inventory } from '../inventory.js';
import { conflict, invalidInput } from './errors.js';
import { createUser, readNewUser, type User } from './users.js';
import { Fields, objectBody } from './validate.js';

/** A plan of the shared `plans` table. */
export interface Plan {
  readonly id: string;
  readonly name: string;
  readonly maxProducts: number;
}

/** A business as the app shows it. */
export interface Business {
  readonly id: string;
  readonly name: string;
  readonly plan: string;
}

/**
 * Addresses no business may take: they are (or may become) the platform's own subdomains.
 * `www` and `app` are also what subdomainResolver ignores by default.
 */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['www', 'app', 'api', 'admin', 'assets', 'static', 'mail', 'platform', 'localhost', 't']);

/** The plans, cheapest first. Shared table: works in any scope. */
export async function listPlans(inventory: Inventory): Promise<Plan[]> {
  const rows = await inventory.db.selectFrom('plans').selectAll().orderBy('max_products').execute();
  return rows.map((row) => ({ id: row.id, name: row.name, maxProducts: row.max_products }));
}

/** The plan of the active business (its tenant metadata names it; `free` when it names none). */
export async function currentPlan(inventory: Inventory): Promise<Plan> {
  const planId = businessOf(inventory.tenancy.require()).plan;
  const plans = await listPlans(inventory);
  const plan = plans.find((candidate) => candidate.id === planId) ?? plans[0];
  if (plan === undefined) throw new Error('The shared plans table is empty: run the shared migrations');
  return plan;
}

/** The business a tenant is. */
export function businessOf(tenant: Tenant): Business {
  const plan = tenant.metadata.plan;
  return { id: tenant.id, name: tenant.name, plan: typeof plan === 'string' ? plan : 'free' };
}

/** Fields of the platform's sign-up form and `POST /api/businesses`. */
export const BUSINESS_FIELDS = ['id', 'name', 'plan', 'ownerName', 'email', 'password'] as const;

/**
 * Signs a business up: checks everything first, creates the tenant (schema, tables, registry
 * row: one transaction, by tenantry), then its first user. If that last step fails the tenant
 * is deleted again, so a failed sign-up leaves nothing behind. Runs in the shared scope.
 *
 * @example
 * ```ts
 * await tenancy.runShared(() =>
 *   createBusiness(inventory, { id: 'acme', name: 'Acme', plan: 'free', ownerName: 'Ada', email: 'ada@acme.test', password: '…' }),
 * );
 * ```
 */
export async function createBusiness(inventory: Inventory, body: unknown): Promise<{ business: Business; owner: User }> {
  const fields = new Fields(objectBody(body, BUSINESS_FIELDS));
  const id = fields.text('id', { max: 40 }).toLowerCase();
  const idProblem = id === '' ? undefined : tenantIdProblem(id);
  if (idProblem !== undefined) fields.issue('id', idProblem);
  else if (RESERVED_IDS.has(id)) fields.issue('id', 'is reserved by the platform');
  const name = fields.text('name', { max: 100 });
  const planId = fields.has('plan') ? fields.text('plan', { max: 40 }) : 'free';
  const owner = readNewUser(fields, { name: 'ownerName', email: 'email', password: 'password' });
  const plans = await listPlans(inventory);
  if (!plans.some((plan) => plan.id === planId)) fields.issue('plan', `must be one of ${plans.map((plan) => plan.id).join(', ')}`);
  fields.done();

  let tenant: Tenant;
  try {
    tenant = await inventory.admin.registry.create({ id, name, metadata: { plan: planId } });
  } catch (error) {
    if (isTenancyError(error) && error.code === 'TENANTRY_TENANT_EXISTS') {
      throw conflict('business_exists', `The address ${id}.${inventory.baseDomain} is taken`, { id: 'is taken' });
    }
    if (isTenancyError(error) && error.code === 'TENANTRY_INVALID_TENANT_ID') throw invalidInput({ id: error.message });
    throw error;
  }
  try {
    const user = await inventory.tenancy.run(tenant, async () => {
      // Under the row-level strategy the business's settings row is written here (a schema's
      // migration writes it under the schema strategy).
      if (inventory.tenancy.strategy === 'rls') await inventory.db.insertInto('settings').defaultValues().execute();
      return createUser(inventory, owner, 'owner');
    });
    return { business: businessOf(tenant), owner: user };
  } catch (error) {
    await inventory.admin.registry.delete(tenant.id, { dropSchema: true });
    throw error;
  }
}
