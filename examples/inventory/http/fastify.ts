/**
 * The JSON API on Fastify: the same routes and domain code as the Express app's API.
 *
 * @module
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { fastifyTenancy, tenantRewriteUrl } from '../../../src/adapters/fastify.js';
import { type Inventory, PATH_PREFIX } from '../inventory.js';
import { type ApiRequest, type ApiResponse, apiRoutes, BODY_LIMIT_BYTES, errorResponse, PROBLEM_TYPE, routeNotFound } from './api.js';
import { basePathOf } from './request-info.js';
import type { RunningServer } from './server.js';

/**
 * The Fastify app. Fastify matches routes before any hook runs, so path routing
 * (`/t/acme/api/…`) is undone by `tenantRewriteUrl` first; tenantry's plugin still reads the
 * original URL.
 *
 * @example
 * ```ts
 * const app = await createFastifyApi(inventory);
 * await app.listen({ port: 3001 });
 * ```
 */
export async function createFastifyApi(inventory: Inventory): Promise<FastifyInstance> {
  const app = Fastify({ rewriteUrl: tenantRewriteUrl({ prefix: PATH_PREFIX }), bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifyTenancy, { tenancy: inventory.tenancy, required: false });
  for (const route of apiRoutes(inventory)) {
    app.route({ method: route.method, url: route.path, handler: async (request, reply) => send(reply, await route.handle(apiRequestOf(request))) });
  }
  app.setNotFoundHandler((request, reply) => send(reply, routeNotFound(request.method, request.url)));
  // Invalid JSON, an empty JSON body, a body too large, an unknown content type: 4xx, never 500.
  app.setErrorHandler((error, _request, reply) => send(reply, errorResponse(error, inventory.logError)));
  return app;
}

/**
 * Starts the Fastify API.
 *
 * @example
 * ```ts
 * const server = await startFastify(inventory, { port: 3001, host: '127.0.0.1' });
 * ```
 */
export async function startFastify(inventory: Inventory, options: { port: number; host: string }): Promise<RunningServer> {
  const app = await createFastifyApi(inventory);
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('Fastify is not listening on a TCP port');
  return {
    port: address.port,
    close: async () => {
      app.server.closeIdleConnections();
      setTimeout(() => app.server.closeAllConnections(), 2_000).unref();
      await app.close();
    },
  };
}

function apiRequestOf(request: FastifyRequest): ApiRequest {
  return {
    method: request.method,
    params: request.params as Record<string, string>,
    query: request.query as Record<string, unknown>,
    body: request.body,
    headers: request.headers,
    tenant: request.tenant,
    basePath: basePathOf(request.originalUrl, request.url, request.tenant),
    address: request.socket.remoteAddress ?? '',
  };
}

function send(reply: FastifyReply, answer: ApiResponse): FastifyReply {
  if (answer.cookies !== undefined && answer.cookies.length > 0) reply.header('set-cookie', [...answer.cookies]);
  reply.headers({ ...answer.headers });
  reply.code(answer.status);
  if (answer.body === undefined) return reply.send();
  return reply.type(answer.problem ? PROBLEM_TYPE : 'application/json').send(JSON.stringify(answer.body));
}
