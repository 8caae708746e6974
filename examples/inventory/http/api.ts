/**
 * The JSON API, framework-neutral: a list of routes that the Express, Fastify and Koa entry
 * points each mount in a few lines. Scope, content type, origin and session checks, and the
 * mapping of every error to an `application/problem+json` answer, happen here once.
 *
 * @module
 */
import { isTenancyError, type Tenant } from '../../../src/index.js';
import { businessOf, createBusiness, listPlans } from '../domain/businesses.js';
import { createCategory, deleteCategory, listCategories, renameCategory } from '../domain/categories.js';
import { dashboard } from '../domain/dashboard.js';
import { InventoryError, isInventoryError, type Issues } from '../domain/errors.js';
import { createProduct, deleteProduct, getProduct, listProductPage, parseProductFilter, parseProductPage, updateProduct } from '../domain/products.js';
import { parseId } from '../domain/validate.js';
import { endSession, findSession, type Session, startSession } from '../domain/sessions.js';
import { requireOwner } from '../domain/roles.js';
import { listMovements, parseMovementQuery, recordMovement } from '../domain/stock.js';
import { changeRole, regenerateInviteCode, removeMember } from '../domain/team.js';
import { inviteCode, listUsers, logIn, signUp } from '../domain/users.js';
import type { Inventory } from '../inventory.js';
import { businessUrl, first, pageQuery, sameOrigin } from './request-info.js';
import { clearedSessionCookie, type CookieScope, readSessionCookie, sessionCookie } from './session-cookie.js';

/** A request as the API routes read it, whatever the framework. */
export interface ApiRequest {
  readonly method: string;
  /** Route parameters (`:id`). */
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, unknown>>;
  /** The parsed JSON body (`undefined` when there is none). */
  readonly body: unknown;
  /** Node's lower-case headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The business the adapter resolved, or `null` on the platform (shared scope). */
  readonly tenant: Tenant | null;
  /** `/t/acme` under path routing, else `` (see request-info.ts). */
  readonly basePath: string;
  /** The client's address (the socket's; no proxy header is trusted). */
  readonly address: string;
}

/** What a route answers. */
export interface ApiResponse {
  readonly status: number;
  /** A JSON value; `undefined` for an empty answer (204). */
  readonly body?: unknown;
  /** Send as `application/problem+json` (errors) instead of `application/json`. */
  readonly problem?: boolean;
  /** Set-Cookie values. */
  readonly cookies?: readonly string[];
  /** Other headers (`Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A mounted route. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The path, `:name` for parameters (the syntax Express, Fastify and @koa/router share). */
  readonly path: string;
  /** Answers the request. Never rejects: every error becomes a problem answer. */
  readonly handle: (request: ApiRequest) => Promise<ApiResponse>;
}

/** The media type of error answers (RFC 9457), as tenantry's adapters use too. */
export const PROBLEM_TYPE = 'application/problem+json';

/** The largest request body the entry points accept (JSON and forms). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** A business's request (its tenant resolved). */
interface VisitorContext {
  readonly request: ApiRequest;
  readonly tenant: Tenant;
}

/** A business's request with a live session of that business. */
interface MemberContext extends VisitorContext {
  readonly session: Session;
  readonly token: string;
}

/**
 * A route and who may call it: `platform` on the main host only (shared scope); `visitor` on a
 * business (its host, path or header) without logging in; `member` with a session of that business.
 */
type RouteSpec = { readonly method: ApiRoute['method']; readonly path: string } & (
  | { readonly scope: 'platform'; run(request: ApiRequest): Promise<ApiResponse> }
  | { readonly scope: 'visitor'; run(context: VisitorContext): Promise<ApiResponse> }
  | { readonly scope: 'member'; run(context: MemberContext): Promise<ApiResponse> }
);

const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });
const noContent: ApiResponse = { status: 204 };

/**
 * The API's routes over an inventory.
 *
 * @example
 * ```ts
 * for (const route of apiRoutes(inventory)) app[route.method.toLowerCase()](route.path, …);
 * ```
 */
export function apiRoutes(inventory: Inventory): readonly ApiRoute[] {
  const cookieScope = (request: ApiRequest): CookieScope => ({ basePath: request.basePath, secure: inventory.secureCookies });
  const id = (context: MemberContext, name = 'id'): number => parseId(context.request.params[name], name);
  /** `DELETE path` (with `:id`): 204 once `remove` is done. */
  const deleting = (path: string, remove: (context: MemberContext, id: number) => Promise<void>): RouteSpec => ({
    method: 'DELETE',
    path,
    scope: 'member',
    run: async (context) => {
      await remove(context, id(context));
      return noContent;
    },
  });

  const specs: RouteSpec[] = [
    // The platform (main host, shared scope).
    { method: 'GET', path: '/api/plans', scope: 'platform', run: async () => ok({ plans: await listPlans(inventory) }) },
    {
      method: 'POST',
      path: '/api/businesses',
      scope: 'platform',
      run: async (request) => {
        const created = await createBusiness(inventory, request.body);
        const url = businessUrl(inventory, first(request.headers.host), created.business.id);
        return ok({ ...created, url }, 201);
      },
    },

    // A business: log in and sign up.
    {
      method: 'POST',
      path: '/api/session',
      scope: 'visitor',
      run: async ({ request, tenant }) => {
        const user = await logIn(inventory, request.body, { address: request.address });
        const { token } = await startSession(inventory, user);
        return { status: 200, body: { user, business: businessOf(tenant) }, cookies: [sessionCookie(tenant.id, token, cookieScope(request))] };
      },
    },
    {
      method: 'POST',
      path: '/api/users',
      scope: 'visitor',
      run: async ({ request, tenant }) => {
        const user = await signUp(inventory, request.body);
        const { token } = await startSession(inventory, user);
        return { status: 201, body: { user, business: businessOf(tenant) }, cookies: [sessionCookie(tenant.id, token, cookieScope(request))] };
      },
    },

    // A business, logged in.
    { method: 'GET', path: '/api/session', scope: 'member', run: async ({ tenant, session }) => ok({ user: session.user, business: businessOf(tenant), expiresAt: session.expiresAt }) },
    {
      method: 'DELETE',
      path: '/api/session',
      scope: 'member',
      run: async ({ request, token }) => {
        await endSession(inventory, token);
        return { ...noContent, cookies: [clearedSessionCookie(cookieScope(request))] };
      },
    },
    { method: 'GET', path: '/api/team', scope: 'member', run: async () => ok({ users: await listUsers(inventory), inviteCode: (await inviteCode(inventory)) ?? null }) },
    // Owners only (a 403 `owner_only` for staff).
    { method: 'PATCH', path: '/api/team/:id', scope: 'member', run: async (context) => ok({ user: await changeRole(inventory, context.session.user, id(context), context.request.body) }) },
    deleting('/api/team/:id', ({ session }, userId) => removeMember(inventory, session.user, userId)),
    { method: 'POST', path: '/api/team/invite-code', scope: 'member', run: async ({ session }) => ok({ inviteCode: await regenerateInviteCode(inventory, session.user) }) },
    { method: 'GET', path: '/api/dashboard', scope: 'member', run: async () => ok(await dashboard(inventory)) },
    {
      method: 'POST',
      path: '/api/digests',
      scope: 'member',
      run: async ({ session }) => {
        requireOwner(session.user, 'send the low-stock digest');
        // Enqueued: the worker writes the digest shortly (GET /api/dashboard shows it as lastDigest).
        return ok({ jobId: await inventory.jobs.requestDigest() }, 202);
      },
    },

    { method: 'GET', path: '/api/categories', scope: 'member', run: async () => ok({ categories: await listCategories(inventory) }) },
    { method: 'POST', path: '/api/categories', scope: 'member', run: async ({ request }) => ok({ category: await createCategory(inventory, request.body) }, 201) },
    { method: 'PATCH', path: '/api/categories/:id', scope: 'member', run: async (context) => ok({ category: await renameCategory(inventory, id(context), context.request.body) }) },
    deleting('/api/categories/:id', (_context, categoryId) => deleteCategory(inventory, categoryId)),

    {
      method: 'GET',
      path: '/api/products',
      scope: 'member',
      run: async ({ request }) => {
        const page = await listProductPage(inventory, parseProductFilter(request.query), parseProductPage(request.query));
        if (page.next === null) return ok({ ...page });
        // The same list from the next SKU on: as `next` in the body, and as a Link header (RFC 8288).
        const link = `${request.basePath}/api/products?${pageQuery(request.query, page.next)}`;
        return { ...ok({ ...page }), headers: { Link: `<${link}>; rel="next"` } };
      },
    },
    { method: 'POST', path: '/api/products', scope: 'member', run: async ({ request }) => ok({ product: await createProduct(inventory, request.body) }, 201) },
    { method: 'GET', path: '/api/products/:id', scope: 'member', run: async (context) => ok({ product: await getProduct(inventory, id(context)) }) },
    {
      method: 'PATCH',
      path: '/api/products/:id',
      scope: 'member',
      run: async (context) => ok({ product: await updateProduct(inventory, id(context), context.request.body) }),
    },
    deleting('/api/products/:id', ({ session }, productId) => deleteProduct(inventory, session.user, productId)),
    {
      method: 'GET',
      path: '/api/products/:id/movements',
      scope: 'member',
      run: async (context) => {
        const { limit } = parseMovementQuery(context.request.query);
        return ok({ movements: await listMovements(inventory, { limit, productId: id(context) }) });
      },
    },
    {
      method: 'POST',
      path: '/api/products/:id/movements',
      scope: 'member',
      run: async (context) => ok(await recordMovement(inventory, id(context), context.request.body), 201),
    },
    { method: 'GET', path: '/api/movements', scope: 'member', run: async ({ request }) => ok({ movements: await listMovements(inventory, parseMovementQuery(request.query)) }) },
  ];

  return specs.map((spec) => ({
    method: spec.method,
    path: spec.path,
    handle: async (request) => {
      try {
        return await answer(inventory, spec, request);
      } catch (error) {
        return errorResponse(error, inventory.logError);
      }
    },
  }));
}

async function answer(inventory: Inventory, spec: RouteSpec, request: ApiRequest): Promise<ApiResponse> {
  const reads = request.method === 'GET' || request.method === 'HEAD';
  if (!reads && request.method !== 'DELETE' && !isJson(first(request.headers['content-type']))) {
    throw new InventoryError(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json)');
  }
  // A page of another site cannot send a JSON body without a CORS preflight, which this API never
  // answers, so the rule above already stops cross-site forms; refusing a foreign Origin is a second line.
  if (!reads && !sameOrigin(request.headers)) {
    throw new InventoryError(403, 'cross_origin', 'Requests from pages of another site are not accepted');
  }
  if (spec.scope === 'platform') {
    if (request.tenant !== null) {
      throw new InventoryError(404, 'not_found', `${spec.method} ${spec.path} is a platform route: call it on ${inventory.baseDomain}, without a business`);
    }
    return spec.run(request);
  }
  const tenant = request.tenant;
  if (tenant === null) {
    throw new InventoryError(404, 'business_required', `Name the business: its host (acme.${inventory.baseDomain}), its path (/t/acme/…) or the x-tenant-id header`);
  }
  if (spec.scope === 'visitor') return spec.run({ request, tenant });

  const cookie = readSessionCookie(first(request.headers.cookie), tenant.id);
  if (cookie.kind === 'other-business') {
    throw new InventoryError(401, 'session_of_another_business', `This session cookie belongs to another business, not to ${tenant.id}: log in here`);
  }
  if (cookie.kind === 'none') throw new InventoryError(401, 'not_logged_in', 'Log in first: POST /api/session with { email, password }');
  const session = await findSession(inventory, cookie.token);
  if (session === undefined) {
    const error = new InventoryError(401, 'session_expired', 'The session has expired or was ended: log in again');
    return { ...problem(error.status, error.code, error.message), cookies: [clearedSessionCookie({ basePath: request.basePath, secure: inventory.secureCookies })] };
  }
  return spec.run({ request, tenant, session, token: cookie.token });
}

/**
 * The answer to an error: the domain's and tenantry's 4xx errors and the frameworks' body
 * errors (invalid JSON, too large) as problem documents; anything else is logged and answered
 * with a 500 that says nothing about it.
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => send(res, errorResponse(error, inventory.logError)));
 * ```
 */
export function errorResponse(error: unknown, logError: (error: unknown) => void): ApiResponse {
  if (isInventoryError(error)) {
    const answer = problem(error.status, error.code, error.message, error.issues);
    return error.retryAfterSeconds === undefined ? answer : { ...answer, headers: { 'Retry-After': String(error.retryAfterSeconds) } };
  }
  if (isTenancyError(error) && error.httpStatus >= 400 && error.httpStatus < 500) return problem(error.httpStatus, error.code, error.message);
  const status = clientStatus(error);
  if (status !== undefined) {
    if (status === 413) return problem(413, 'body_too_large', 'The body is too large');
    if (status === 415) return problem(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json)');
    if (status === 400 && looksLikeJsonError(error)) return problem(400, 'invalid_json', 'The body is not valid JSON');
    return problem(status, 'bad_request', 'The request could not be read');
  }
  logError(error);
  return problem(500, 'internal', 'Something went wrong on our side');
}

/**
 * A problem answer (RFC 9457): `{ type, title, status, detail, code, issues? }`.
 *
 * @example
 * ```ts
 * problem(404, 'product_not_found', 'No product 7 in this business');
 * ```
 */
export function problem(status: number, code: string, detail: string, issues?: Issues): ApiResponse {
  const body = { type: `urn:inventory:${code.toLowerCase().replaceAll('_', '-')}`, title: TITLES[status] ?? 'Error', status, detail, code, ...(issues ? { issues } : {}) };
  return { status, body, problem: true };
}

/** 404 for paths no route takes. */
export function routeNotFound(method: string, path: string): ApiResponse {
  return problem(404, 'route_not_found', `No route ${method} ${path.slice(0, 100)}`);
}

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[a-z0-9.-]+\+)?json\s*(?:;|$)/i.test(contentType.trim());
}

/** The 4xx status a framework or body parser put on its error (`status` or `statusCode`). */
function clientStatus(error: unknown): number | undefined {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const value = typeof statusCode === 'number' ? statusCode : status;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

function looksLikeJsonError(error: unknown): boolean {
  const { type, code } = (error ?? {}) as { type?: unknown; code?: unknown };
  return error instanceof SyntaxError || type === 'entity.parse.failed' || (typeof code === 'string' && code.includes('JSON'));
}
