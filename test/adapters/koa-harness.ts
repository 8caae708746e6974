import { createServer } from 'node:http';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import multer from 'multer';
import { tenancyMiddleware } from '../../src/adapters/koa.js';
import { type Harness, listenOnLoopback, type SlowMode } from './app-kit.js';

type MulterRequest = Context['req'] & { file?: Express.Multer.File; body?: Record<string, unknown>; seenWhileParsing?: (string | null)[] };

/**
 * Koa 3 with tenantry's middleware, @koa/bodyparser (JSON) and @koa/router. Multipart uploads go
 * through multer (an Express-style middleware, called on `ctx.req`/`ctx.res`): @koa/bodyparser
 * does not parse multipart bodies.
 */
export const koaHarness: Harness = {
  name: 'koa',
  perRouteConfig: false,
  async start(kit, serverOptions = {}) {
    const { handlers } = kit;
    const { requireHostHeader = true, ...options } = serverOptions;
    const app = new Koa();
    app.silent = true;
    app.use(
      tenancyMiddleware(kit.tenancy, {
        ...options,
        ...(options.onRefused
          ? {
              onRefused: (error, ctx) => {
                const { status, body } = options.onRefused!(error);
                ctx.status = status;
                ctx.type = 'text/plain';
                ctx.body = body;
              },
            }
          : {}),
      }),
    );
    app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '1mb' }));

    const upload = multer({
      storage: multer.memoryStorage(),
      // Called from busboy's parsing of the request stream: it must see the request's tenant.
      fileFilter: (req, _file, accept) => {
        ((req as MulterRequest).seenWhileParsing ??= []).push(handlers.seen());
        accept(null, true);
      },
    }).single('file');

    const router = new Router();
    router.get('/whoami', (ctx) => void (ctx.body = handlers.whoami(ctx.state.tenant, ctx.url)));
    router.get('/items', async (ctx) => void (ctx.body = await handlers.items(ctx.state.tenant, ctx.url)));
    router.get('/plans', async (ctx) => void (ctx.body = await handlers.plans(ctx.state.tenant)));
    router.get('/slow', async (ctx) => void (ctx.body = await handlers.slow(String(ctx.query.mode) as SlowMode, Number(ctx.query.ms ?? 5))));
    router.post('/echo', (ctx) => void (ctx.body = handlers.echo(ctx.state.tenant, ctx.request.body)));
    router.post('/stream', async (ctx) => void (ctx.body = await handlers.stream(ctx.req)));
    router.post('/upload', async (ctx) => {
      const req = ctx.req as MulterRequest;
      await new Promise<void>((resolve, reject) =>
        upload(req as unknown as Parameters<typeof upload>[0], ctx.res as unknown as Parameters<typeof upload>[1], (error?: unknown) => (error ? reject(error) : resolve())),
      );
      const file = req.file === undefined ? undefined : { name: req.file.originalname, size: req.file.size, text: req.file.buffer.toString('utf8') };
      ctx.body = handlers.upload(ctx.state.tenant, file, { ...req.body, seenInHandler: handlers.seen() }, req.seenWhileParsing ?? []);
    });
    app.use(router.routes());
    // Any other path and method: the tenant's rows (the fuzz test checks them on every 2xx).
    app.use(async (ctx) => void (ctx.body = await handlers.items(ctx.state.tenant, ctx.url)));

    return listenOnLoopback(createServer({ requireHostHeader }, app.callback()).listen(0, '127.0.0.1'));
  },
};
