/**
 * `tenantry doctor`'s checks, in order, as findings with a fix for each problem.
 *
 * @module
 */
import type pg from 'pg';
import { isTenancyError } from '../errors.js';
import type { Tenancy } from '../tenancy.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';
import { leakProbe } from './leak-probe.js';
import { loginRoleCheck } from './login-role-check.js';
import { poolerCheck } from './pooler-check.js';
import { registryCheck } from './registry-check.js';
import { scaleCheck } from './scale-check.js';
import { sharedNamesInTenants } from '../provision/shared-name-collisions.js';
import { serverVersionCheck } from './server-version-check.js';
import { sharedMigrationsCheck } from './shared-migrations-check.js';
import type { CheckContext, CheckResult } from './startup-check.js';
import { listSome } from './startup-check.js';
import { tenantMigrationsCheck } from './tenant-migrations-check.js';

/**
 * What the doctor checks: the app's tenancy, a small pool on its database, and its tenantPool mode.
 *
 * @example
 * ```ts
 * const input: DoctorInput = { tenancy, pool, mode: 'session' };
 * ```
 */
export interface DoctorInput {
  readonly tenancy: Tenancy;
  /** A pg.Pool on the app's database URL; two or three connections are enough. */
  readonly pool: pg.Pool;
  readonly mode: 'session' | 'transaction';
}

/**
 * Runs every check: the server, the pooler against the mode, the login role, the registry and
 * the shared migrations, tenants behind, drift, the schema and relation counts, and a live
 * two-tenant leak probe. A check that needs the registry is skipped when it is missing.
 * Connection failures are thrown (the command cannot run); the rest are findings.
 *
 * @example
 * ```ts
 * const findings = await runDoctor({ tenancy, pool, mode: 'session' });
 * const problems = findings.filter((f) => f.severity === 'warn' || f.severity === 'error');
 * ```
 */
export async function runDoctor({ tenancy, pool, mode }: DoctorInput): Promise<DoctorFinding[]> {
  const context: CheckContext = {
    pool,
    registry: tenancy.registry,
    sharedSchema: tenancy.sharedSchema,
    builtInShared: tenancy.registry.sharedMigrations?.() ?? [],
    sharedMigrations: { load: () => tenancy.migrate.sharedMigrations() },
    tenantMigrations: { load: () => tenancy.migrate.tenantMigrations() },
    roles: tenancy.tenantRoles,
  };
  const findings: DoctorFinding[] = [await serverVersionCheck(pool), await poolerCheck(pool, mode)];
  findings.push(...fromCheck(await loginRoleCheck(context)), ...(await createRoleCheck(pool, tenancy)));
  try {
    await registryCheck(context);
    findings.push(finding('registry', 'ok', `The registry tables are in schema "${tenancy.sharedSchema}"`));
  } catch (error) {
    if (!isTenancyError(error) || error.code !== 'TENANTRY_REGISTRY_NOT_MIGRATED') throw error;
    findings.push(finding('registry', 'error', error.message, 'run tenantry migrate --shared'));
    findings.push(...(await scaleCheck(pool)));
    return findings;
  }
  findings.push(...fromCheck(await sharedMigrationsCheck(context)), ...fromCheck(await tenantMigrationsCheck(context)));
  findings.push(await driftCheck(tenancy));
  if (tenancy.strategy === 'schema') findings.push(await sharedNamesCheck(pool, tenancy.sharedSchema));
  findings.push(...(await scaleCheck(pool)));
  findings.push(...(await leakProbe(tenancy, pool, mode)));
  return findings;
}

/** A start-up check's result as findings: each warning is one, its fix after the first ': '. */
function fromCheck(result: CheckResult): DoctorFinding[] {
  if (result.status === 'skipped') return [finding(result.name, 'info', `Skipped: ${result.reason ?? 'does not apply'}`)];
  if (result.status === 'passed') return [finding(result.name, 'ok', 'Nothing to report')];
  return result.warnings.map((warning) => {
    const split = warning.indexOf(': ');
    return split < 0 ? finding(result.name, 'warn', warning) : finding(result.name, 'warn', warning.slice(0, split), warning.slice(split + 2).replace(/\.$/, ''));
  });
}

/** With tenant roles on, the login role provisions tenants' roles: it needs CREATEROLE (or superuser). */
async function createRoleCheck(pool: pg.Pool, tenancy: Tenancy): Promise<DoctorFinding[]> {
  if (tenancy.tenantRoles === undefined) return [];
  const { rows } = await pool.query<{ name: string; allowed: boolean }>(
    'SELECT rolname AS name, rolsuper OR rolcreaterole AS allowed FROM pg_roles WHERE rolname = current_user',
  );
  const login = rows[0];
  if (login === undefined || login.allowed) return [];
  return [
    finding(
      'login role',
      'error',
      `Tenant roles are on but "${login.name}" cannot create roles: provisioning a tenant would fail`,
      `ALTER ROLE "${login.name}" CREATEROLE, or provision tenants (tenantry tenants create) as a role that has it`,
    ),
  ];
}

/**
 * Under the schema strategy a tenant's unqualified names fall through to the shared schema when
 * its schema is missing (a request still running for a deleted tenant), so the two should not
 * share names; `tenancy.move` refuses a tenant that does.
 */
async function sharedNamesCheck(pool: pg.Pool, sharedSchema: string): Promise<DoctorFinding> {
  const shared = await sharedNamesInTenants(pool, sharedSchema);
  if (shared.length === 0) return finding('shared names', 'ok', `No tenant table has the name of a table in schema "${sharedSchema}"`);
  return finding(
    'shared names',
    'warn',
    `Tenant schemas use names of tables in schema "${sharedSchema}": ${listSome(shared.map(({ name, schemas }) => `${name} (${schemas} tenant${schemas === 1 ? '' : 's'})`))}; ` +
      'a query for a tenant whose schema is gone would read the shared table, and tenancy.move refuses these tenants',
    'rename the shared tables or the tenant tables apart (docs/scaling.md, "Tenant and shared names must differ")',
  );
}

async function driftCheck(tenancy: Tenancy): Promise<DoctorFinding> {
  const report = await tenancy.migrate.drift();
  // Tenants behind are reported by the tenant migrations check; their differences are expected.
  const drifted = report.drifted.filter((tenant) => !tenant.behind);
  if (drifted.length === 0) return finding('drift', 'ok', `${report.checked} tenant schemas match the migrations`);
  const first = drifted[0]!.differences[0];
  const example = first === undefined ? '' : ` (${drifted[0]!.tenantId}: ${first.change} ${first.kind} ${first.name})`;
  return finding(
    'drift',
    'error',
    `${drifted.length} tenant schema${drifted.length === 1 ? ' differs' : 's differ'} from the migrations: ${listSome(drifted.map((tenant) => tenant.tenantId))}${example}`,
    'tenantry status --drift lists every difference; bring them back with a migration, or by hand',
  );
}
