import multipart from '@fastify/multipart';
import Fastify, { type FastifyRequest } from 'fastify';
import { fastifyTenancy, tenantRewriteUrl } from '../../src/adapters/fastify.js';
import { type Harness, PATH_PREFIX, type SlowMode } from './app-kit.js';

type Query = { mode?: string; ms?: string };

/**
 * Fastify 5 with tenantry's plugin, `tenantRewriteUrl` for the `/t/<tenant>` prefix,
 * @fastify/multipart, a pass-through parser for application/octet-stream, and two routes that
 * opt out per route: `/health` (`tenancy: false`) and `/maybe` (`tenancy: 'optional'`).
 */
export const fastifyHarness: Harness = {
  name: 'fastify',
  perRouteConfig: true,
  async start(kit, serverOptions = {}) {
    const { handlers } = kit;
    const { requireHostHeader = true, ...options } = serverOptions;
    const app = Fastify({ rewriteUrl: tenantRewriteUrl({ prefix: PATH_PREFIX }), http: { requireHostHeader } });
    await app.register(fastifyTenancy, {
      tenancy: kit.tenancy,
      ...options,
      ...(options.onRefused
        ? {
            onRefused: (error, _request, reply) => {
              const { status, body } = options.onRefused!(error);
              return reply.code(status).type('text/plain').send(body);
            },
          }
        : {}),
    });
    await app.register(multipart);
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

    app.get('/whoami', async (request) => handlers.whoami(request.tenant, request.url));
    app.get('/items', async (request) => handlers.items(request.tenant, request.url));
    app.get('/plans', async (request) => handlers.plans(request.tenant));
    app.get('/slow', async (request: FastifyRequest<{ Querystring: Query }>) => handlers.slow(request.query.mode as SlowMode, Number(request.query.ms ?? 5)));
    app.post('/echo', async (request) => handlers.echo(request.tenant, request.body));
    app.post('/stream', async (request) => handlers.stream(request.body as NodeJS.ReadableStream));
    app.post('/upload', async (request) => {
      const seenWhileParsing: (string | null)[] = [];
      const fields: Record<string, unknown> = {};
      let file: { name: string; size: number; text: string } | undefined;
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const chunks: Buffer[] = [];
          const ended = new Promise<void>((resolve, reject) => part.file.on('end', resolve).on('error', reject));
          part.file.on('data', (chunk: Buffer) => {
            seenWhileParsing.push(handlers.seen());
            chunks.push(chunk);
          });
          await ended;
          const content = Buffer.concat(chunks);
          file = { name: part.filename, size: content.length, text: content.toString('utf8') };
        } else {
          fields[part.fieldname] = part.value;
        }
      }
      return handlers.upload(request.tenant, file, { ...fields, seenInHandler: handlers.seen() }, seenWhileParsing);
    });
    app.get('/health', { config: { tenancy: false } }, async (request) => handlers.whoami(request.tenant, request.url));
    app.get('/public-plans', { config: { tenancy: false } }, async (request) => handlers.plans(request.tenant));
    app.get('/maybe', { config: { tenancy: 'optional' } }, async (request) => handlers.whoami(request.tenant, request.url));
    // Any other path and method: the tenant's rows (the fuzz test checks them on every 2xx).
    app.setNotFoundHandler(async (request) => handlers.items(request.tenant, request.url));

    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('fastify is not listening on a port');
    return {
      port: address.port,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
};
