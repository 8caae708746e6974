/**
 * While `tenancy.move` takes a tenant to another server its status is `moving` and its writes
 * are paused: tenantPool refuses a statement that writes, before any I/O, with
 * `TenantMovingError` (503). What the text does not show (a function that writes) is stopped by
 * the database: the move locks the tenant's tables against writes and retires the old schema.
 *
 * @module
 */
import type { TenantScope } from '../context.js';
import { TenantMovingError } from '../errors.js';

const WRITE_KEYWORDS = new Set([
  'insert', 'update', 'delete', 'merge', 'truncate', 'copy', 'create', 'alter', 'drop', 'grant', 'revoke',
  'comment', 'reindex', 'cluster', 'vacuum', 'refresh', 'lock', 'call', 'do', 'import', 'security',
]);

/** Comments and blanks before the first word of a statement. */
const LEADING = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/;

/**
 * Whether a statement's text shows it writes: its first keyword, or a data-modifying `WITH`.
 *
 * @example
 * ```ts
 * writesData('insert into products (name) values ($1)'); // true
 * writesData('select * from products');                  // false
 * writesData('with gone as (delete from carts returning id) select count(*) from gone'); // true
 * ```
 */
export function writesData(text: string | undefined): boolean {
  if (text === undefined) return false;
  const body = text.replace(LEADING, '');
  const first = /^[a-zA-Z]+/.exec(body)?.[0]?.toLowerCase();
  if (first === undefined) return false;
  if (WRITE_KEYWORDS.has(first)) return true;
  if (first === 'with') return /\b(insert|update|delete|merge)\b/i.test(body);
  return false;
}

/**
 * The refusal of a write of a moving tenant, or `undefined`.
 *
 * @example
 * ```ts
 * const refused = pausedWrite(tenancy.scope()!, 'delete from products');
 * if (refused) throw refused;
 * ```
 */
export function pausedWrite(scope: TenantScope, text: string | undefined): TenantMovingError | undefined {
  if (scope.kind !== 'tenant' || scope.tenant.status !== 'moving' || !writesData(text)) return undefined;
  return new TenantMovingError(scope.tenant.id);
}
