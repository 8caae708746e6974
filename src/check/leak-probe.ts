/**
 * `tenantry doctor`: a live two-tenant leak probe through tenantPool, with the app's settings.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { sqlState } from '../db.js';
import { quoteIdent } from '../identifiers.js';
import { MIGRATIONS_TABLE } from '../migrate/schema-migrator.js';
import { tenantPool } from '../pg/tenant-pool.js';
import type { Tenancy } from '../tenancy.js';
import type { Tenant } from '../types.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';

const NAME = 'leak probe';

/** The schema an unqualified table name resolves to in the query's scope. */
const RESOLVED_SCHEMA = `SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('${MIGRATIONS_TABLE}')`;

/**
 * Takes two active tenants (or creates two temporary ones, deleted with their schemas
 * afterwards), then, through a tenantPool with the app's mode over `pool` (keep it small, so its
 * connections serve both tenants in turn), checks in each tenant's scope, alternately and in a
 * transaction, that an unqualified table name resolves to that tenant's schema and no other.
 * With tenant roles on, it also checks that naming the other tenant's schema is refused.
 *
 * @example
 * ```ts
 * const findings = await leakProbe(tenancy, pool, 'session');
 * findings.filter((f) => f.severity === 'error'); // [] when scoping holds
 * ```
 */
export async function leakProbe(tenancy: Tenancy, pool: pg.Pool, mode: 'session' | 'transaction'): Promise<DoctorFinding[]> {
  const { tenants: existing } = await tenancy.registry.list({ status: 'active', limit: 2 });
  const temporary: Tenant[] = [];
  try {
    if (existing.length < 2) {
      const stem = `doctor-probe-${randomBytes(4).toString('hex')}`;
      for (const suffix of ['a', 'b']) temporary.push(await tenancy.registry.create({ id: `${stem}-${suffix}`, metadata: { tenantryDoctorProbe: true } }));
    }
    const [a, b] = existing.length >= 2 ? existing : temporary;
    return await probe(tenancy, tenantPool(tenancy, pool, { mode }), a!, b!, temporary.length > 0);
  } finally {
    for (const tenant of temporary) await tenancy.registry.delete(tenant.id, { dropSchema: true });
  }
}

async function probe(tenancy: Tenancy, db: ReturnType<typeof tenantPool>, a: Tenant, b: Tenant, temporary: boolean): Promise<DoctorFinding[]> {
  const which = temporary ? 'two temporary tenants (deleted again)' : `tenants ${a.id} and ${b.id}`;
  for (const [index, tenant] of [a, b, a, b, a, b].entries()) {
    const run = index >= 4 ? () => db.transaction((client) => client.query<{ schema: string }>(RESOLVED_SCHEMA)) : () => db.query<{ schema: string }>(RESOLVED_SCHEMA);
    const { rows } = await tenancy.run(tenant, run);
    const seen = rows[0]?.schema;
    if (seen !== tenant.schema) {
      return [
        finding(
          NAME,
          'error',
          `In tenant ${tenant.id}'s scope an unqualified table resolved to ${seen === undefined ? 'no schema' : `schema "${seen}"`}, not "${tenant.schema}" (probe with ${which})`,
          'check the tenantPool mode against the pooler (see the pooler finding) and that the app queries through tenantPool; docs/security.md',
        ),
      ];
    }
  }
  const findings = [finding(NAME, 'ok', `Queries scoped to one tenant saw only its schema (${which}, through tenantPool)`)];
  if (tenancy.tenantRoles === undefined) {
    findings.push(
      finding(NAME, 'info', "Without tenant roles, a query that names another tenant's schema explicitly can read it; tenantRoles: true makes the database refuse it"),
    );
    return findings;
  }
  const crossed = await tenancy
    .run(a, () => db.query(`SELECT 1 FROM ${quoteIdent(b.schema)}.${quoteIdent(MIGRATIONS_TABLE)} LIMIT 1`))
    .then(
      () => true,
      (error: unknown) => {
        if (sqlState(error) === '42501') return false;
        throw error;
      },
    );
  findings.push(
    crossed
      ? finding(NAME, 'error', `Tenant ${a.id}'s role could read tenant ${b.id}'s schema by naming it`, "re-run tenantry migrate --tenants (it re-applies the tenant roles' grants); docs/security.md")
      : finding(NAME, 'ok', "Naming another tenant's schema is refused by the database (tenant roles)"),
  );
  return findings;
}
