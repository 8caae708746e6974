/**
 * The main app on Express: the pages (platform and businesses) and the JSON API.
 *
 * @module
 */
import { createServer } from 'node:http';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { tenancyMiddleware } from '../../../src/adapters/express.js';
import { InventoryError } from '../domain/errors.js';
import type { Inventory } from '../inventory.js';
import { STYLESHEET, STYLESHEET_PATH } from '../views/styles.js';
import { type ApiRequest, type ApiResponse, apiRoutes, BODY_LIMIT_BYTES, errorResponse, PROBLEM_TYPE, problem, routeNotFound } from './api.js';
import { pageRoutes, sendErrorPage, sendNotFoundPage, sendRefusedPage } from './pages.js';
import { basePathOf, sameOrigin } from './request-info.js';
import { listen, type RunningServer } from './server.js';

/**
 * The Express app. Requests to the main host run in tenantry's shared scope (`req.tenant ===
 * null`) and get the platform; requests that name a business run in its tenant scope.
 *
 * @example
 * ```ts
 * const app = createExpressApp(inventory);
 * app.listen(3000);
 * ```
 */
export function createExpressApp(inventory: Inventory): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);

  // Assets need no business: they are served before tenantry's middleware.
  app.get(STYLESHEET_PATH, (_req, res) => void res.type('css').set('Cache-Control', 'public, max-age=300').send(STYLESHEET));
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());

  app.use(
    tenancyMiddleware(inventory.tenancy, {
      required: false, // the main host is the platform, in the shared scope
      onRefused: (error, req, res) => {
        // An unknown business (404), a malformed id (400) or a suspended one (403).
        if (wantsHtml(req)) return sendRefusedPage(inventory, req, res, error);
        send(res, problem(error.httpStatus, error.code, error.message));
      },
    }),
  );

  // Forged cross-site POSTs are refused before any body is read (pages and API alike).
  app.use((req, _res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !sameOrigin(req.headers)) {
      throw new InventoryError(403, 'cross_origin', 'Requests from pages of another site are not accepted');
    }
    next();
  });

  // The JSON API: the same routes as on Fastify and Koa.
  const api = express.Router();
  api.use('/api', express.json({ limit: BODY_LIMIT_BYTES }));
  for (const route of apiRoutes(inventory)) {
    const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
    api[method](route.path, async (req, res) => send(res, await route.handle(apiRequestOf(req))));
  }
  api.use('/api', (req, res) => send(res, routeNotFound(req.method, req.path)));
  app.use(api);

  // The pages.
  const pages = pageRoutes(inventory);
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT_BYTES, parameterLimit: 50 }));
  app.use(onlyOn('platform', pages.platform));
  app.use(onlyOn('business', pages.business));
  app.use(sendNotFoundPage);

  const onError: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (req.path === '/api' || req.path.startsWith('/api/')) return send(res, errorResponse(error, inventory.logError));
    sendErrorPage(inventory, req, res, error);
  };
  app.use(onError);
  return app;
}

/**
 * Starts the Express app.
 *
 * @example
 * ```ts
 * const server = await startExpress(inventory, { port: 3000, host: '127.0.0.1' });
 * await server.close();
 * ```
 */
export function startExpress(inventory: Inventory, options: { port: number; host: string }): Promise<RunningServer> {
  return listen(createServer(createExpressApp(inventory)), options.port, options.host);
}

/** Runs a router only on the platform (shared scope) or only for a business (tenant scope). */
function onlyOn(where: 'platform' | 'business', router: RequestHandler): RequestHandler {
  return (req, res, next) => ((req.tenant ? 'business' : 'platform') === where ? router(req, res, next) : next());
}

function apiRequestOf(req: Request): ApiRequest {
  return {
    method: req.method,
    params: req.params as Record<string, string>,
    query: req.query as Record<string, unknown>,
    body: req.body,
    headers: req.headers,
    tenant: req.tenant ?? null,
    basePath: basePathOf(req.originalUrl, req.url, req.tenant ?? null),
    address: req.socket.remoteAddress ?? '',
  };
}

function send(res: Response, answer: ApiResponse): void {
  for (const cookie of answer.cookies ?? []) res.append('Set-Cookie', cookie);
  res.set(answer.headers ?? {});
  res.status(answer.status);
  if (answer.body === undefined) return void res.end();
  res.type(answer.problem ? PROBLEM_TYPE : 'application/json').send(JSON.stringify(answer.body));
}

function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

/** A strict policy: no scripts at all, styles and images from this origin, no framing. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
  });
  next();
};
