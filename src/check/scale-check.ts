/**
 * `tenantry doctor`: the numbers of schemas and relations against the figures of docs/scaling.md.
 *
 * @module
 */
import type { Queryable } from '../db.js';
import type { DoctorFinding } from './doctor-finding.js';
import { finding } from './doctor-finding.js';

/**
 * The figures of docs/scaling.md: measured on a 2-core machine with the 10-table bench set,
 * 10,000 tenants (620,000 relations) work with tenant-affine connections; past these, plan
 * more servers.
 *
 * @example
 * ```ts
 * SCALE_LIMITS.schemas.warn; // 10_000
 * ```
 */
export const SCALE_LIMITS = Object.freeze({
  schemas: Object.freeze({ warn: 10_000, error: 50_000 }),
  relations: Object.freeze({ warn: 700_000, error: 3_000_000 }),
});

/**
 * Counts the database's schemas and relations (two catalog counts in one query) and compares
 * them with {@link SCALE_LIMITS}.
 *
 * @example
 * ```ts
 * const [schemas, relations] = await scaleCheck(pool);
 * ```
 */
export async function scaleCheck(db: Queryable): Promise<DoctorFinding[]> {
  const { rows } = await db.query<{ schemas: number; relations: number }>(
    'SELECT (SELECT count(*) FROM pg_namespace)::int AS schemas, (SELECT count(*) FROM pg_class)::int AS relations',
  );
  const { schemas, relations } = rows[0]!;
  return [
    judge('schemas', schemas, SCALE_LIMITS.schemas, 'schemas'),
    judge('relations', relations, SCALE_LIMITS.relations, 'relations (tables, indexes, sequences, TOAST…)'),
  ];
}

function judge(check: string, count: number, limits: { warn: number; error: number }, noun: string): DoctorFinding {
  const figure = `${count.toLocaleString('en-US')} ${noun}`;
  const fix = 'see docs/scaling.md: keep tenant-affine connections on, bound backend memory, and place new tenants on another server';
  if (count > limits.error) return finding(check, 'error', `${figure}: more than ${limits.error.toLocaleString('en-US')}, past what one server was measured to carry`, fix);
  if (count > limits.warn) return finding(check, 'warn', `${figure}: more than ${limits.warn.toLocaleString('en-US')}, the largest size measured`, fix);
  return finding(check, 'ok', `${figure} (docs/scaling.md: up to ${limits.warn.toLocaleString('en-US')} measured)`);
}
