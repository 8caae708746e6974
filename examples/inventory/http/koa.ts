/**
 * The JSON API on Koa: the same routes and domain code as the Express app's API.
 *
 * @module
 */
import { createServer } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { tenancyMiddleware } from '../../../src/adapters/koa.js';
import type { Inventory } from '../inventory.js';
import { type ApiRequest, type ApiResponse, apiRoutes, BODY_LIMIT_BYTES, errorResponse, PROBLEM_TYPE, routeNotFound } from './api.js';
import { basePathOf } from './request-info.js';
import { listen, type RunningServer } from './server.js';

/**
 * The Koa app: an error boundary first (body parser errors become 4xx problems), then
 * tenantry's middleware, the JSON body parser and the routes.
 *
 * @example
 * ```ts
 * createKoaApi(inventory).listen(3002);
 * ```
 */
export function createKoaApi(inventory: Inventory): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      send(ctx, errorResponse(error, inventory.logError));
    }
  });
  app.use(tenancyMiddleware(inventory.tenancy, { required: false }));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT_BYTES }));
  const router = new Router();
  for (const route of apiRoutes(inventory)) {
    router.register(route.path, [route.method], async (ctx: Context) => send(ctx, await route.handle(apiRequestOf(ctx))));
  }
  app.use(router.routes());
  app.use((ctx) => send(ctx, routeNotFound(ctx.method, ctx.path)));
  return app;
}

/**
 * Starts the Koa API.
 *
 * @example
 * ```ts
 * const server = await startKoa(inventory, { port: 3002, host: '127.0.0.1' });
 * ```
 */
export function startKoa(inventory: Inventory, options: { port: number; host: string }): Promise<RunningServer> {
  return listen(createServer(createKoaApi(inventory).callback()), options.port, options.host);
}

function apiRequestOf(ctx: Context): ApiRequest {
  return {
    method: ctx.method,
    params: (ctx as Context & { params?: Record<string, string> }).params ?? {},
    query: ctx.query,
    body: ctx.request.body,
    headers: ctx.headers,
    tenant: ctx.state.tenant ?? null,
    basePath: basePathOf(ctx.originalUrl, ctx.url, ctx.state.tenant ?? null),
    address: ctx.req.socket.remoteAddress ?? '',
  };
}

function send(ctx: Context, answer: ApiResponse): void {
  if (answer.cookies !== undefined && answer.cookies.length > 0) ctx.set('Set-Cookie', [...answer.cookies]);
  ctx.set({ ...answer.headers });
  ctx.status = answer.status;
  if (answer.body === undefined) {
    ctx.body = null;
    return;
  }
  ctx.type = answer.problem ? PROBLEM_TYPE : 'application/json';
  ctx.body = JSON.stringify(answer.body);
}
