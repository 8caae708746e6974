import { createServer } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import multer from 'multer';
import { tenancyMiddleware } from '../../src/adapters/express.js';
import { type Harness, listenOnLoopback, type SlowMode } from './app-kit.js';

/** Express 5 with tenantry's middleware, express.json() and multer, all after the middleware. */
export const expressHarness: Harness = {
  name: 'express',
  perRouteConfig: false,
  async start(kit, serverOptions = {}) {
    const { handlers } = kit;
    const { requireHostHeader = true, ...options } = serverOptions;
    const app = express();
    app.use(
      tenancyMiddleware(kit.tenancy, {
        ...options,
        ...(options.onRefused
          ? {
              onRefused: (error, _req, res) => {
                const { status, body } = options.onRefused!(error);
                res.status(status).type('text/plain').send(body);
              },
            }
          : {}),
      }),
    );
    app.use(express.json({ limit: '1mb' }));

    const upload = multer({
      storage: multer.memoryStorage(),
      // Called from busboy's parsing of the request stream: it must see the request's tenant.
      fileFilter: (req, _file, accept) => {
        ((req as unknown as { seenWhileParsing: (string | null)[] }).seenWhileParsing ??= []).push(handlers.seen());
        accept(null, true);
      },
    });

    app.get('/whoami', (req, res) => void res.json(handlers.whoami(req.tenant, req.url)));
    app.get('/items', async (req, res) => void res.json(await handlers.items(req.tenant, req.url)));
    app.get('/plans', async (req, res) => void res.json(await handlers.plans(req.tenant)));
    app.get('/slow', async (req, res) => void res.json(await handlers.slow(String(req.query.mode) as SlowMode, Number(req.query.ms ?? 5))));
    app.post('/echo', (req, res) => void res.json(handlers.echo(req.tenant, req.body)));
    app.post('/stream', async (req, res) => void res.json(await handlers.stream(req)));
    app.post('/upload', upload.single('file'), (req, res) => {
      const seenWhileParsing = (req as unknown as { seenWhileParsing?: (string | null)[] }).seenWhileParsing ?? [];
      const file = req.file === undefined ? undefined : { name: req.file.originalname, size: req.file.size, text: req.file.buffer.toString('utf8') };
      res.json(handlers.upload(req.tenant, file, { ...req.body, seenInHandler: handlers.seen() }, seenWhileParsing));
    });
    // Any other path and method: the tenant's rows (the fuzz test checks them on every 2xx).
    app.use(async (req, res) => void res.json(await handlers.items(req.tenant, req.url)));
    const onError: ErrorRequestHandler = (error, _req, res, _next) => {
      const status = (error as { status?: number }).status ?? 500;
      res.status(status).json({ error: String(error), status });
    };
    app.use(onError);

    return listenOnLoopback(createServer({ requireHostHeader }, app).listen(0, '127.0.0.1'));
  },
};
