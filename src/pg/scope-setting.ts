/**
 * What a connection's session must have to run a statement in a scope: its search_path and,
 * with tenant roles, its role; and the statements that clean a session another tenant used.
 *
 * @module
 */
import type { TenantScope } from '../context.js';
import { quoteIdent, quoteLiteral } from '../identifiers.js';
import type { Tenancy } from '../tenancy.js';
import type { ScopeLifetime } from './scoped-query.js';
import { TENANT_SETTING } from '../strategy/row-level.js';
import { QUALIFIED_MARK, searchPathOf, sharedPathOf } from './search-path.js';

/**
 * A scope's session settings, computed once per tenant object and kind of statement.
 *
 * @example
 * ```ts
 * const setting = scopeSettingOf(tenancy, { kind: 'tenant', tenant: acme }, 'select 1');
 * setting.session; // ['SET search_path TO "tenant_acme", "public", pg_temp', 'SET ROLE "tenantry_acme"']
 * ```
 */
export interface ScopeSetting {
  /** Identifies the settings: two statements with the same key need no change between them. */
  readonly key: string;
  /** Whose session state the connection may carry once these are set: a tenant (or the shared scope) of a tenancy's roles. */
  readonly owner: string;
  /** The search_path (quoted), to compare with what PostgreSQL 18 reports. */
  readonly path: string;
  /** The statements that set it for the session (`SET`). */
  readonly session: readonly string[];
  /** The statements that set it for the open transaction only (`SET LOCAL`), for transaction poolers. */
  readonly local: readonly string[];
  /** `SESSION_CLEANUP`, then `session`: for a session that may carry another owner's state. */
  readonly cleanSession: readonly string[];
  /** Whether it switches to a tenant's role (tenant roles on, a tenant scope). */
  readonly tenantRole: boolean;
  /** The tenant's id, `null` for the shared scope (for the diagnostics channel). */
  readonly tenantId: string | null;
  /** The sqlcommenter comment naming the scope, `\n/*tenant='acme'*\/`, for `tenantPool({ sqlComment: true })`. */
  readonly comment: string;
}

/**
 * Statements that leave a session with none of the previous owner's state, sent before a query
 * when the session may carry another owner's state: held cursors, LISTEN
 * registrations, settings changed with SET or set_config (back to the connection's own
 * defaults), a switched session user, temporary tables, sequence values seen with currval, and
 * session advisory locks. Prepared statements stay: pg caches their names, and PostgreSQL plans
 * them again for the new search_path and checks privileges when they run. They share the
 * exchange of the query they precede (sent only outside a transaction block), and end with
 * `BEGIN; COMMIT`: the transaction they ran in began with the previous owner's transaction
 * defaults (`default_transaction_read_only`, `default_transaction_isolation`), which the
 * statements after them must not inherit.
 *
 * @example
 * ```ts
 * SESSION_CLEANUP.length; // 9
 * ```
 */
export const SESSION_CLEANUP: readonly string[] = Object.freeze([
  // First, so that the previous owner's statement_timeout, lock_timeout or search_path does not
  // govern the statements after it (a 1 ms statement_timeout cancelled the next tenant's query).
  'RESET ALL',
  'CLOSE ALL',
  'UNLISTEN *',
  'SET SESSION AUTHORIZATION DEFAULT',
  'DISCARD TEMP',
  'DISCARD SEQUENCES',
  'SELECT pg_catalog.pg_advisory_unlock_all()',
  'BEGIN',
  'COMMIT',
]);

interface CachedSettings {
  readonly shared: string;
  readonly roles: Tenancy['tenantRoles'];
  readonly rowLevel: boolean;
  readonly scope: ScopeSetting;
  readonly qualified: ScopeSetting;
}

const ofTenants = new WeakMap<object, CachedSettings>();
const ofTenancies = new WeakMap<Tenancy, ScopeSetting>();

/**
 * The settings a statement runs with in `scope`. A statement that `tenantPlugin` marked as fully
 * qualified runs with the shared search_path, but only with tenant roles on: then the tenant's
 * role stops anything it names without a schema (a trigger, a function) from reaching another
 * tenant, whatever the path became. Without roles the mark is ignored and the tenant's own path
 * is used.
 *
 * @example
 * ```ts
 * scopeSettingOf(tenancy, tenancy.scope()!, 'select * from products').key;
 * ```
 */
export function scopeSettingOf(tenancy: Tenancy, scope: TenantScope, text: string | undefined): ScopeSetting {
  const shared = tenancy.sharedSchema;
  const roles = tenancy.tenantRoles;
  const rowLevel = tenancy.strategy === 'rls';
  if (scope.kind !== 'tenant') {
    let setting = ofTenancies.get(tenancy);
    if (setting === undefined) {
      setting = makeSetting(`${roles?.prefix ?? ''}\0`, sharedPathOf(shared), roles === undefined ? undefined : 'NONE', false, null, rowLevel);
      ofTenancies.set(tenancy, setting);
    }
    return setting;
  }
  const { tenant } = scope;
  let cached = ofTenants.get(tenant);
  if (cached === undefined || cached.shared !== shared || cached.roles !== roles || cached.rowLevel !== rowLevel) {
    const role = roles === undefined ? undefined : quoteIdent(roles.roleOf(tenant.id));
    // The role prefix is part of the owner: a connection that served this tenant through a tenancy
    // with other roles (or none) is cleaned first, which also drops the role that tenancy set.
    const owner = `${roles?.prefix ?? ''}\0${tenant.id}\0${tenant.schema}`;
    // Row-level tenants get the tenant setting, and the path of their schema too: it exists only
    // while the tenant lives in it (tenancy.move(id, { strategy: 'schema' }) creates it, and drops
    // it on the way back, in the transaction that moves the rows), and PostgreSQL skips a schema
    // that does not exist. So unqualified names reach the tenant's rows wherever they are, even
    // through a Tenant object from before a move.
    const path = searchPathOf(scope, shared);
    cached = {
      shared,
      roles,
      rowLevel,
      scope: makeSetting(owner, path, role, role !== undefined, tenant.id, rowLevel),
      qualified: makeSetting(owner, sharedPathOf(shared), role, role !== undefined, tenant.id, rowLevel),
    };
    ofTenants.set(tenant, cached);
  }
  return roles !== undefined && text !== undefined && text.endsWith(QUALIFIED_MARK) ? cached.qualified : cached.scope;
}

/**
 * Whether two owners were made with the same tenant-role prefix (`''` without tenant roles): the
 * part of each before its first NUL. Compared in place, with no substring made per query.
 *
 * @example
 * ```ts
 * sameRolePrefix('app_\0acme\0tenant_acme', 'app_\0globex\0tenant_globex'); // true
 * sameRolePrefix('app_\0acme\0tenant_acme', '\0acme\0tenant_acme');           // false
 * ```
 */
export function sameRolePrefix(a: string, b: string): boolean {
  const end = prefixEnd(a);
  if (prefixEnd(b) !== end) return false;
  for (let index = 0; index < end; index++) if (a.charCodeAt(index) !== b.charCodeAt(index)) return false;
  return true;
}

function prefixEnd(owner: string): number {
  const end = owner.indexOf('\0');
  return end === -1 ? owner.length : end;
}

/**
 * The statements of a setting for a lifetime, after the session cleanup when `clean`.
 *
 * @example
 * ```ts
 * declare const setting: ScopeSetting;
 * statementsOf(setting, 'transaction', false); // ['SET LOCAL search_path TO …', 'SET LOCAL ROLE …']
 * ```
 */
export function statementsOf(setting: ScopeSetting, lifetime: ScopeLifetime, clean: boolean): readonly string[] {
  if (lifetime === 'transaction') return setting.local;
  return clean ? setting.cleanSession : setting.session;
}

/** The statements of each list joined for one simple-protocol message, computed once per list. */
const joined = new WeakMap<readonly string[], string>();

/**
 * `statements` as the head of a simple-protocol query: each followed by `;`.
 *
 * @example
 * ```ts
 * prefixOf(['SET search_path TO "a"', 'SET ROLE "r"']); // 'SET search_path TO "a";SET ROLE "r";'
 * ```
 */
export function prefixOf(statements: readonly string[]): string {
  let text = joined.get(statements);
  if (text === undefined) {
    text = statements.map((statement) => `${statement};`).join('');
    joined.set(statements, text);
  }
  return text;
}

/**
 * `path` and `role` are built from quoted identifiers only (or the keyword NONE), never from
 * request text; the row-level setting from a checked tenant id (a DNS label), quoted all the same.
 */
function makeSetting(owner: string, path: string, role: string | undefined, tenantRole: boolean, tenantId: string | null, rowLevel: boolean): ScopeSetting {
  const session = [`SET search_path TO ${path}`];
  const local = [`SET LOCAL search_path TO ${path}`];
  if (rowLevel) {
    const value = quoteLiteral(tenantId ?? '');
    session.push(`SET ${TENANT_SETTING} TO ${value}`);
    local.push(`SET LOCAL ${TENANT_SETTING} TO ${value}`);
  }
  if (role !== undefined) {
    session.push(`SET ROLE ${role}`);
    local.push(`SET LOCAL ROLE ${role}`);
  }
  return Object.freeze({
    key: `${owner}\0${path}\0${role ?? ''}\0${rowLevel ? 'rls' : ''}`,
    owner,
    path,
    session: Object.freeze(session),
    local: Object.freeze(local),
    cleanSession: Object.freeze([...SESSION_CLEANUP, ...session]),
    tenantRole,
    tenantId,
    // Tenant ids are checked DNS labels (a-z, 0-9, -): nothing in them can end the comment.
    comment: tenantId === null ? "\n/*tenant_scope='shared'*/" : `\n/*tenant='${tenantId}'*/`,
  });
}
