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
};

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
