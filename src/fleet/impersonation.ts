/**
 * `tenancy.impersonate`: checking who acts and why, and recording it in the audit table.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import type { ImpersonationEvent } from '../diagnostics.js';
import { describe, InvalidConfigError } from '../errors.js';
import { quoteIdent } from '../identifiers.js';
import { AUDIT_TABLE } from '../registry/registry-migrations.js';
import type { Tenant } from '../types.js';

/**
 * The event of an impersonation, its `actor` and `reason` checked (non-empty text of bounded
 * length), stamped now; the tenant id is filled in once the tenant is found.
 *
 * @example
 * ```ts
 * impersonationOf('acme', { actor: 'support:jane', reason: 'ticket 4711' }); // { tenantId: 'acme', actor, reason, at }
 * ```
 */
export function impersonationOf(tenantOrId: Tenant | string, by: { readonly actor: string; readonly reason: string }): ImpersonationEvent {
  const actor = checkedText('actor', by?.actor, 200);
  const reason = checkedText('reason', by?.reason, 1000);
  return { tenantId: typeof tenantOrId === 'string' ? tenantOrId : String(tenantOrId?.id), actor, reason, at: new Date() };
}

/**
 * Writes an impersonation into the shared audit table (values as parameters, never SQL text).
 *
 * @example
 * ```ts
 * await recordImpersonation(pool, 'public', impersonationOf('acme', { actor: 'support:jane', reason: 'ticket 4711' }));
 * ```
 */
export async function recordImpersonation(pool: PoolLike, sharedSchema: string, event: ImpersonationEvent): Promise<void> {
  await pool.query(`INSERT INTO ${quoteIdent(sharedSchema)}.${AUDIT_TABLE} (at, action, tenant_id, actor, reason) VALUES ($1, 'impersonate', $2, $3, $4)`, [
    event.at,
    event.tenantId,
    event.actor,
    event.reason,
  ]);
}

function checkedText(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new InvalidConfigError(`tenancy.impersonate needs ${name === 'actor' ? 'an' : 'a'} ${name}: text of 1 to ${max} characters, got ${describe(value)}`);
  }
  return value;
}
