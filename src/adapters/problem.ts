/**
 * Error responses as RFC 9457 problem details.
 *
 * @module
 */
import type { TenancyError } from '../errors.js';

/** The media type of problem details. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * An RFC 9457 problem details body.
 *
 * @example
 * ```ts
 * const problem: ProblemDetails = { type: 'urn:tenantry:tenant-not-found', title: 'Not Found', status: 404, detail: 'No tenant "ghost" is registered', code: 'TENANTRY_TENANT_NOT_FOUND' }
 * ```
 */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** tenantry's stable error code. */
  readonly code: string;
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
};

/**
 * The headers a problem response carries beside its body: `Retry-After` for a tenant whose
 * writes are paused by a move.
 *
 * @example
 * ```ts
 * declare const error: import('../errors.js').TenancyError;
 * for (const [name, value] of Object.entries(problemHeaders(error))) res.setHeader(name, value);
 * ```
 */
export function problemHeaders(error: TenancyError): Readonly<Record<string, string>> {
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  return error.code === 'TENANTRY_TENANT_MOVING' && typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {};
}

/**
 * The problem details of a tenantry error, as the adapters send them.
 *
 * @example
 * ```ts
 * if (isTenancyError(error)) res.status(error.httpStatus).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problemOf(error)));
 * ```
 */
export function problemOf(error: TenancyError): ProblemDetails {
  return {
    type: `urn:tenantry:${error.code.replace(/^TENANTRY_/, '').toLowerCase().replaceAll('_', '-')}`,
    title: TITLES[error.httpStatus] ?? 'Error',
    status: error.httpStatus,
    detail: error.message,
    code: error.code,
  };
}
