import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../examples/inventory/inventory.js';
import type { RunningServer } from '../../examples/inventory/http/server.js';
import { type Reply, type Send, send, sessionCookieOf } from './http.js';
import { ACME, GLOBEX, type UseDatabase, useInventory } from './inventory-fixture.js';

/** Starts one of the example's entry points on a free port. */
export type StartServer = (inventory: Inventory, options: { port: number; host: string }) => Promise<RunningServer>;

/** The three ways a request names its business. */
const ROUTES = {
  subdomain: (id: string, path: string, port: number): Send => ({ path, host: `${id}.localhost:${port}` }),
  path: (id: string, path: string): Send => ({ path: `/t/${id}${path}` }),
  header: (id: string, path: string): Send => ({ path, headers: { 'x-tenant-id': id } }),
} as const;
type Routing = keyof typeof ROUTES;

/**
 * The JSON API's behaviour, the same on Express, Fastify and Koa: each entry point's test file
 * calls this with its start function and gets its own database (made by `database`, default one
 * on the test server; the Citus suite passes a Citus one, and its own `describe`).
 */
export function inventoryApiSuite(
  name: 'express' | 'fastify' | 'koa',
  start: StartServer,
  options: { database?: UseDatabase; describe?: (name: string, body: () => void) => void; strategy?: 'schema' | 'rls' } = {},
): void {
  const strategy = options.strategy ?? 'schema';
  (options.describe ?? describe)(`inventory JSON API on ${name}${strategy === 'rls' ? ', strategy rls' : ''}`, () => {
    const fixture = useInventory({ ...(options.database === undefined ? {} : { database: options.database }), strategy });
    let server: RunningServer;
    /** Session cookies of the seeded owners (logged in by header). */
    const cookies = new Map<string, string>();
    /** Every reply, to check that none was a 500. */
    const replies: Reply[] = [];

    const call = async (request: Send): Promise<Reply> => {
      const reply = await send(server.port, request);
      replies.push(reply);
      return reply;
    };
    /** A request to `path` of business `id`, routed one of three ways, with `cookie` (default: the owner's). */
    const on = (id: string, path: string, extra: Omit<Send, 'path' | 'host'> & { routing?: Routing; cookie?: string | null } = {}): Promise<Reply> => {
      const { routing = 'header', cookie = cookies.get(id) ?? null, ...rest } = extra;
      const routed = ROUTES[routing](id, path, server.port);
      const headers = { ...routed.headers, ...rest.headers, ...(cookie === null ? {} : { cookie }) };
      return call({ ...rest, ...routed, headers });
    };
    const logIn = async (id: string, email: string, password: string, routing: Routing = 'header'): Promise<Reply> =>
      on(id, '/api/session', { method: 'POST', json: { email, password }, routing, cookie: null });
    const expectProblem = (reply: Reply, status: number, code?: string): void => {
      expect(reply.status, reply.text).toBe(status);
      expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reply.json).toMatchObject({ status, ...(code === undefined ? {} : { code }) });
      expect(typeof reply.json.detail).toBe('string');
    };
    const skus = (reply: Reply): string[] => reply.json.products.map((product: { sku: string }) => product.sku);

    beforeAll(async () => {
      server = await start(fixture.inventory, { port: 0, host: '127.0.0.1' });
      for (const business of [ACME, GLOBEX]) {
        const reply = await logIn(business.id, business.owner.email, business.owner.password);
        expect(reply.status, reply.text).toBe(200);
        cookies.set(business.id, sessionCookieOf(reply));
      }
    });

    afterAll(async () => {
      await server?.close();
      expect(replies.filter((reply) => reply.status >= 500).map((reply) => reply.text)).toEqual([]);
      expect(fixture.unexpected).toEqual([]);
    });

    describe('each business sees only its own data', () => {
      it.each(['subdomain', 'path', 'header'] as const)('lists only its own products (routed by %s)', async (routing) => {
        const acme = await on('acme', '/api/products', { routing: 'header' });
        const globex = await on('globex', '/api/products', { routing: 'header' });
        expect(skus(acme).sort()).toEqual(ACME.products.map((product) => product.sku).sort());
        expect(skus(globex).sort()).toEqual(GLOBEX.products.map((product) => product.sku).sort());

        // The same through the other two routings, with a session of the same routing.
        const login = await logIn('globex', GLOBEX.owner.email, GLOBEX.owner.password, routing);
        const routed = await on('globex', '/api/products', { routing, cookie: sessionCookieOf(login) });
        expect(routed.status, routed.text).toBe(200);
        expect(skus(routed).sort()).toEqual(skus(globex).sort());
      });

      it('pages the product list by SKU: ?limit=&after=, `next` and a Link header', async () => {
        for (const sku of ['PAGE-C', 'PAGE-A', 'PAGE-B']) {
          expect((await on('acme', '/api/products', { method: 'POST', json: { sku, name: `Paged ${sku}`, unitPriceCents: 1 } })).status).toBe(201);
        }
        const first = await on('acme', '/api/products?q=page-&limit=2', { routing: 'path' });
        expect(skus(first)).toEqual(['PAGE-A', 'PAGE-B']);
        expect(first.json.next).toBe('PAGE-B');
        expect(first.headers.link).toBe('</t/acme/api/products?q=page-&limit=2&after=PAGE-B>; rel="next"');
        const second = await on('acme', '/api/products?q=page-&limit=2&after=PAGE-B', { routing: 'path' });
        expect(skus(second)).toEqual(['PAGE-C']);
        expect(second.json.next).toBeNull();
        expect(second.headers.link).toBeUndefined();
        // Without ?limit= a page holds 100; the body keeps `products` and adds `next`.
        const all = await on('acme', '/api/products');
        expect(all.json.next).toBeNull();
        expect(skus(all)).toEqual(expect.arrayContaining(['PAGE-A', 'PAGE-B', 'PAGE-C']));
        expectProblem(await on('acme', '/api/products?limit=0'), 400, 'invalid_input');
        expectProblem(await on('acme', '/api/products?limit=501'), 400, 'invalid_input');
        expectProblem(await on('acme', '/api/products?after=%3Cx%3E'), 400, 'invalid_input');
        for (const sku of ['PAGE-A', 'PAGE-B', 'PAGE-C']) {
          const id = (await on('acme', `/api/products?q=${sku}`)).json.products[0].id;
          expect((await on('acme', `/api/products/${id}`, { method: 'DELETE' })).status).toBe(204);
        }
      });

      it('creates a product in one business that the other cannot see or reach', async () => {
        const created = await on('acme', '/api/products', { method: 'POST', json: { sku: 'acme-only', name: 'Only at Acme', unitPriceCents: 100 } });
        expect(created.status, created.text).toBe(201);
        expect(created.json.product).toMatchObject({ sku: 'ACME-ONLY', stock: 0, lowStockThreshold: 5 });
        const id: number = created.json.product.id;

        expect(skus(await on('acme', '/api/products'))).toContain('ACME-ONLY');
        expect(skus(await on('globex', '/api/products'))).not.toContain('ACME-ONLY');
        expect(skus(await on('globex', '/api/products?q=only'))).toEqual([]);
        // Globex has fewer products: Acme's id does not exist there.
        expectProblem(await on('globex', `/api/products/${id}`), 404, 'product_not_found');
        expectProblem(await on('globex', `/api/products/${id}`, { method: 'PATCH', json: { name: 'mine now' } }), 404, 'product_not_found');
        expectProblem(await on('globex', `/api/products/${id}/movements`, { method: 'POST', json: { kind: 'in', quantity: 1 } }), 404, 'product_not_found');
        expectProblem(await on('globex', `/api/products/${id}`, { method: 'DELETE' }), 404, 'product_not_found');
        expect((await on('acme', `/api/products/${id}`)).json.product.name).toBe('Only at Acme');

        // The same SKU is free in the other business (unique per business, not globally).
        const twin = await on('globex', '/api/products', { method: 'POST', json: { sku: 'ACME-ONLY', name: 'Globex twin', unitPriceCents: 5 } });
        expect(twin.status, twin.text).toBe(201);
        expect((await on('acme', `/api/products/${id}`)).json.product.name).toBe('Only at Acme');
      });

      it('keeps dashboards apart', async () => {
        const acme = (await on('acme', '/api/dashboard')).json;
        const globex = (await on('globex', '/api/dashboard')).json;
        expect(acme.recentMovements.every((movement: { sku: string }) => movement.sku.startsWith('ACME-'))).toBe(true);
        expect(globex.recentMovements.every((movement: { sku: string }) => movement.sku.startsWith('GLX-'))).toBe(true);
        // Globex: 400 × 2.50 + 900 × 1.10 + 7 × 24.00 (+ the twin with no stock).
        expect(globex.stockValueCents).toBe(400 * 250 + 900 * 110 + 7 * 2400);
        expect(globex.lowStock.map((product: { sku: string }) => product.sku)).toContain('GLX-GADGET');
      });
    });

    describe('sessions', () => {
      it('sets a host-only, HttpOnly, SameSite=Lax cookie; path-routed logins get the business path', async () => {
        const byHost = await logIn('acme', ACME.owner.email, ACME.owner.password, 'subdomain');
        const cookie = byHost.cookies.find((value) => value.startsWith('inventory_session='))!;
        expect(cookie).toMatch(/; HttpOnly/);
        expect(cookie).toMatch(/; SameSite=Lax/);
        expect(cookie).toMatch(/; Path=\/;/);
        expect(cookie).not.toMatch(/Domain=/i);
        expect(cookie).toMatch(/^inventory_session=acme\.[A-Za-z0-9_-]{43};/);

        const byPath = await logIn('acme', ACME.owner.email, ACME.owner.password, 'path');
        expect(byPath.cookies.find((value) => value.startsWith('inventory_session='))).toMatch(/; Path=\/t\/acme;/);
      });

      it.each(['subdomain', 'path', 'header'] as const)('refuses a session cookie of one business on another (routed by %s)', async (routing) => {
        const acmeCookie = cookies.get('acme')!;
        for (const path of ['/api/products', '/api/dashboard', '/api/session']) {
          expectProblem(await on('globex', path, { routing, cookie: acmeCookie }), 401, 'session_of_another_business');
        }
        // A forged value that claims to be Globex's but carries Acme's token: not in Globex's schema.
        const forged = acmeCookie.replace('=acme.', '=globex.');
        expectProblem(await on('globex', '/api/products', { routing, cookie: forged }), 401, 'session_expired');
        expect((await on('acme', '/api/products', { routing, cookie: acmeCookie })).status).toBe(200);
      });

      it('needs a session for data, and forgets one after log-out', async () => {
        expectProblem(await on('acme', '/api/products', { cookie: null }), 401, 'not_logged_in');
        expectProblem(await logIn('acme', ACME.owner.email, 'wrong password!'), 401, 'login_failed');
        expectProblem(await logIn('acme', 'nobody@acme.test', 'whatever it is'), 401, 'login_failed');
        // Globex's owner has no account at Acme.
        expectProblem(await logIn('acme', GLOBEX.owner.email, GLOBEX.owner.password), 401, 'login_failed');

        const cookie = sessionCookieOf(await logIn('acme', ACME.owner.email, ACME.owner.password));
        expect((await on('acme', '/api/session', { cookie })).json.user.email).toBe(ACME.owner.email);
        const out = await on('acme', '/api/session', { method: 'DELETE', cookie });
        expect(out.status).toBe(204);
        expect(out.cookies[0]).toMatch(/^inventory_session=; Path=\/; Max-Age=0/);
        expectProblem(await on('acme', '/api/products', { cookie }), 401, 'session_expired');
      });

      it('throttles log-ins per account and per address, with Retry-After, before hashing', async () => {
        // Another loopback address is another client: the other tests' address keeps its budget.
        const user = { name: 'Wile E.', email: `coyote-${name}@globex.test`, password: 'acme-rockets-1' };
        const joined = await on('globex', '/api/users', { method: 'POST', json: { ...user, inviteCode: fixture.inviteCodes.get('globex') }, cookie: null });
        expect(joined.status, joined.text).toBe(201);
        const attempt = (password: string, localAddress: string, email = user.email): Promise<Reply> =>
          on('globex', '/api/session', { method: 'POST', json: { email, password }, cookie: null, localAddress });

        // 30 wrong passwords at once: 5 are checked, 25 refused before any hashing.
        const wrong = await Promise.all(Array.from({ length: 30 }, (_, index) => attempt(`wrong password ${index}`, '127.0.0.2')));
        expect(wrong.filter((reply) => reply.status === 401)).toHaveLength(5);
        const refused = wrong.filter((reply) => reply.status === 429);
        expect(refused).toHaveLength(25);
        for (const reply of refused) {
          expectProblem(reply, 429, 'too_many_attempts');
          expect(Number(reply.headers['retry-after'])).toBeGreaterThan(800);
          expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(900);
        }
        // The account stays locked for every address, even with the right password.
        expectProblem(await attempt(user.password, '127.0.0.3'), 429, 'too_many_attempts');

        // Per address: 20 failures over many accounts lock the address, not the accounts.
        const spread = await Promise.all(Array.from({ length: 20 }, (_, index) => attempt('wrong password', '127.0.0.4', `nobody-${index}@globex.test`)));
        expect(spread.map((reply) => reply.status)).toEqual(Array.from({ length: 20 }, () => 401));
        const locked = await attempt(GLOBEX.owner.password, '127.0.0.4', GLOBEX.owner.email);
        expectProblem(locked, 429, 'too_many_attempts');
        expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
        expect((await attempt(GLOBEX.owner.password, '127.0.0.5', GLOBEX.owner.email)).status).toBe(200);
      });

      it('signs a colleague up with the invite code only', async () => {
        const code = fixture.inviteCodes.get('acme')!;
        const user = { name: 'Road Runner', email: `runner-${name}@acme.test`, password: 'beep-beep-beep' };
        expectProblem(await on('acme', '/api/users', { method: 'POST', json: { ...user, inviteCode: fixture.inviteCodes.get('globex') }, cookie: null }), 403, 'wrong_invite_code');
        const joined = await on('acme', '/api/users', { method: 'POST', json: { ...user, inviteCode: code.toLowerCase() }, cookie: null });
        expect(joined.status, joined.text).toBe(201);
        expect((await on('acme', '/api/products', { cookie: sessionCookieOf(joined) })).status).toBe(200);
        expectProblem(await on('acme', '/api/users', { method: 'POST', json: { ...user, inviteCode: code }, cookie: null }), 409, 'email_taken');
        const team = await on('acme', '/api/team');
        expect(team.json.users.map((member: { email: string }) => member.email)).toEqual([ACME.owner.email, user.email]);
        expect(team.json.users[0]).not.toHaveProperty('password_hash');
      });
    });

    describe('stock', () => {
      it('moves stock in, out and by adjustment, and never below zero', async () => {
        const { product } = (await on('acme', '/api/products', { method: 'POST', json: { sku: 'STOCK-1', name: 'Stock test', unitPriceCents: 250, lowStockThreshold: 2 } })).json;
        const move = (kind: string, quantity: number): Promise<Reply> => on('acme', `/api/products/${product.id}/movements`, { method: 'POST', json: { kind, quantity } });
        expect((await move('in', 10)).json.stock).toBe(10);
        expect((await move('out', 3)).json.stock).toBe(7);
        expect((await move('adjustment', -2)).json.stock).toBe(5);
        expectProblem(await move('out', 6), 400, 'insufficient_stock');
        expectProblem(await move('adjustment', -6), 400, 'insufficient_stock');
        expect((await on('acme', `/api/products/${product.id}`)).json.product.stock).toBe(5);

        // Ten concurrent requests for one each: exactly five succeed, whatever the interleaving.
        const results = await Promise.all(Array.from({ length: 10 }, () => move('out', 1)));
        expect(results.filter((reply) => reply.status === 201)).toHaveLength(5);
        expect(results.filter((reply) => reply.status === 400)).toHaveLength(5);
        expect((await on('acme', `/api/products/${product.id}`)).json.product).toMatchObject({ stock: 0, lowStock: true });
        const history = await on('acme', `/api/products/${product.id}/movements?limit=50`);
        expect(history.json.movements).toHaveLength(3 + 5);
      });
    });

    describe('bad input is a 400 or a 404, never a 500', () => {
      const cases: readonly { readonly what: string; readonly request: Send & { routing?: Routing }; readonly status: number; readonly code?: string }[] = [
        { what: 'a malformed id', request: { path: '/api/products/abc' }, status: 400, code: 'invalid_id' },
        { what: 'an id with a sign', request: { path: '/api/products/-1' }, status: 400, code: 'invalid_id' },
        { what: 'an id past the integer range', request: { path: '/api/products/99999999999' }, status: 400, code: 'invalid_id' },
        { what: 'a decimal id', request: { path: '/api/products/1.5' }, status: 400, code: 'invalid_id' },
        { what: 'an unknown product', request: { path: '/api/products/9999' }, status: 404, code: 'product_not_found' },
        { what: 'deleting a malformed id', request: { method: 'DELETE', path: '/api/products/x' }, status: 400, code: 'invalid_id' },
        { what: 'deleting an unknown category', request: { method: 'DELETE', path: '/api/categories/9999' }, status: 404, code: 'category_not_found' },
        { what: 'movements of an unknown product', request: { path: '/api/products/9999/movements' }, status: 404, code: 'product_not_found' },
        { what: 'stock in for an unknown product', request: { method: 'POST', path: '/api/products/9999/movements', json: { kind: 'in', quantity: 1 } }, status: 404, code: 'product_not_found' },
        { what: 'invalid JSON', request: { method: 'POST', path: '/api/products', raw: '{"sku": "X",', headers: { 'content-type': 'application/json' } }, status: 400, code: 'invalid_json' },
        { what: 'an empty JSON body', request: { method: 'POST', path: '/api/products', raw: '', headers: { 'content-type': 'application/json' } }, status: 400 },
        { what: 'a JSON array', request: { method: 'POST', path: '/api/products', json: [1, 2] }, status: 400 },
        { what: 'a JSON string', request: { method: 'POST', path: '/api/categories', raw: '"Tools"', headers: { 'content-type': 'application/json' } }, status: 400 },
        { what: 'a body that is not JSON', request: { method: 'POST', path: '/api/products', raw: 'sku=X', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415 },
        { what: 'a body too large', request: { method: 'POST', path: '/api/categories', json: { name: 'x'.repeat(200_000) } }, status: 413 },
        { what: 'missing fields', request: { method: 'POST', path: '/api/products', json: {} }, status: 400, code: 'invalid_input' },
        { what: 'a negative price', request: { method: 'POST', path: '/api/products', json: { sku: 'NEG', name: 'Negative', unitPriceCents: -1 } }, status: 400, code: 'invalid_input' },
        { what: 'a price as a string', request: { method: 'POST', path: '/api/products', json: { sku: 'STR', name: 'String', unitPriceCents: '12' } }, status: 400, code: 'invalid_input' },
        { what: 'a fractional price', request: { method: 'POST', path: '/api/products', json: { sku: 'FRAC', name: 'Fraction', unitPriceCents: 1.5 } }, status: 400, code: 'invalid_input' },
        { what: 'a SKU with spaces', request: { method: 'POST', path: '/api/products', json: { sku: 'A B', name: 'Spaces', unitPriceCents: 1 } }, status: 400, code: 'invalid_input' },
        { what: 'a name with control characters', request: { method: 'POST', path: '/api/products', json: { sku: 'CTRL', name: 'a\u0000b', unitPriceCents: 1 } }, status: 400, code: 'invalid_input' },
        { what: 'an unknown field', request: { method: 'POST', path: '/api/products', json: { sku: 'UNK', name: 'Unknown', unitPriceCents: 1, colour: 'red' } }, status: 400, code: 'invalid_input' },
        { what: 'an unknown category', request: { method: 'POST', path: '/api/products', json: { sku: 'CAT', name: 'Category', unitPriceCents: 1, categoryId: 9999 } }, status: 400, code: 'invalid_input' },
        { what: 'a taken SKU', request: { method: 'POST', path: '/api/products', json: { sku: 'acme-anvil', name: 'Another anvil', unitPriceCents: 1 } }, status: 409, code: 'sku_taken' },
        { what: 'setting stock directly', request: { method: 'PATCH', path: '/api/products/1', json: { stock: 1000 } }, status: 400, code: 'invalid_input' },
        { what: 'an empty update', request: { method: 'PATCH', path: '/api/products/1', json: {} }, status: 400, code: 'invalid_input' },
        { what: 'negative stock out', request: { method: 'POST', path: '/api/products/1/movements', json: { kind: 'out', quantity: -5 } }, status: 400, code: 'invalid_input' },
        { what: 'more out than in stock', request: { method: 'POST', path: '/api/products/1/movements', json: { kind: 'out', quantity: 1_000_000 } }, status: 400, code: 'insufficient_stock' },
        { what: 'a zero adjustment', request: { method: 'POST', path: '/api/products/1/movements', json: { kind: 'adjustment', quantity: 0 } }, status: 400, code: 'invalid_input' },
        { what: 'an unknown movement kind', request: { method: 'POST', path: '/api/products/1/movements', json: { kind: 'sideways', quantity: 1 } }, status: 400, code: 'invalid_input' },
        { what: 'a quantity past the limit', request: { method: 'POST', path: '/api/products/1/movements', json: { kind: 'in', quantity: 2 ** 40 } }, status: 400, code: 'invalid_input' },
        { what: 'a malformed filter', request: { path: '/api/products?categoryId=abc' }, status: 400, code: 'invalid_id' },
        { what: 'a malformed limit', request: { path: '/api/movements?limit=0' }, status: 400, code: 'invalid_input' },
        { what: 'a duplicate category', request: { method: 'POST', path: '/api/categories', json: { name: 'Tools' } }, status: 409, code: 'category_exists' },
        { what: 'a cross-site POST', request: { method: 'POST', path: '/api/categories', json: { name: 'Evil' }, headers: { origin: 'http://evil.test' } }, status: 403, code: 'cross_origin' },
        { what: 'an unknown route', request: { path: '/api/nope' }, status: 404, code: 'route_not_found' },
        { what: 'a platform route on a business', request: { path: '/api/plans' }, status: 404, code: 'not_found' },
      ];

      it.each(cases)('$what → $status', async ({ request, status, code }) => {
        const { routing, ...rest } = request;
        expectProblem(await on('acme', request.path, { ...rest, ...(routing ? { routing } : {}) }), status, code);
      });

      it('an unknown or malformed business → 404 or 400', async () => {
        for (const [id, status] of [['ghost', 404], ['Not_A_Business!', 400]] as const) {
          const reply = await call({ path: '/api/products', headers: { 'x-tenant-id': id } });
          expectProblem(reply, status);
        }
        expectProblem(await call({ path: '/t/ghost/api/products' }), 404);
        expectProblem(await call({ path: '/api/products', host: `ghost.localhost:${server.port}` }), 404);
        expectProblem(await call({ path: '/api/products', host: `bad_label.localhost:${server.port}` }), 400);
      });

      it('business routes on the platform → 404 business_required', async () => {
        expectProblem(await call({ path: '/api/products' }), 404, 'business_required');
        expectProblem(await call({ path: '/api/session', method: 'POST', json: { email: ACME.owner.email, password: ACME.owner.password } }), 404, 'business_required');
      });
    });

    describe('the platform', () => {
      it('lists the plans from the shared table', async () => {
        const reply = await call({ path: '/api/plans' });
        expect(reply.json.plans.map((plan: { id: string }) => plan.id)).toEqual(['free', 'pro']);
      });

      it('signs a business up: its own schema, owner and address', async () => {
        const id = `shop-${name}`;
        const signup = { id, name: `Shop on ${name}`, plan: 'free', ownerName: 'Owner', email: 'owner@shop.test', password: 'shop-password-1' };
        const created = await call({ path: '/api/businesses', method: 'POST', json: signup });
        expect(created.status, created.text).toBe(201);
        expect(created.json).toMatchObject({ business: { id, plan: 'free' }, owner: { email: 'owner@shop.test' }, url: `http://${id}.localhost:${server.port}/` });
        const tenant = await fixture.inventory.tenancy.registry.get(id);
        if (strategy === 'rls') {
          // No schema: the business is a registry row, its owner a row of the shared users table under its id.
          expect((await fixture.pool.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [tenant!.schema])).rows[0].n).toBe(0);
          expect((await fixture.pool.query('SELECT tenant_id, email FROM users WHERE tenant_id = $1', [id])).rows).toEqual([{ tenant_id: id, email: signup.email }]);
        } else {
          expect(tenant?.schema).toBe(`tenant_${id.replaceAll('-', '_')}`);
        }

        const login = await logIn(id, signup.email, signup.password);
        expect(login.status, login.text).toBe(200);
        expect((await on(id, '/api/products', { cookie: sessionCookieOf(login) })).json.products).toEqual([]);
        // The owner exists only in the new business.
        expectProblem(await logIn('acme', signup.email, signup.password), 401, 'login_failed');

        expectProblem(await call({ path: '/api/businesses', method: 'POST', json: signup }), 409, 'business_exists');
        expectProblem(await call({ path: '/api/businesses', method: 'POST', json: { ...signup, id: 'www' } }), 400, 'invalid_input');
        expectProblem(await call({ path: '/api/businesses', method: 'POST', json: { ...signup, id: 'Bad Id!' } }), 400, 'invalid_input');
        expectProblem(await call({ path: '/api/businesses', method: 'POST', json: { ...signup, id: `${id}-2`, plan: 'platinum' } }), 400, 'invalid_input');
        expectProblem(await call({ path: '/api/businesses', method: 'POST', json: { ...signup, id: `${id}-3`, password: 'short' } }), 400, 'invalid_input');
        expect(await fixture.inventory.tenancy.registry.get(`${id}-3`)).toBeUndefined();
      });
    });

    describe('categories, roles and the team', () => {
      it('renames a category: unique names per business, 404 for another business’s id', async () => {
        const categories = (await on('acme', '/api/categories')).json.categories as { id: number; name: string }[];
        const seed = categories.find((category) => category.name === 'Bird seed')!;
        const renamed = await on('acme', `/api/categories/${seed.id}`, { method: 'PATCH', json: { name: '  Seeds  ' } });
        expect(renamed.status, renamed.text).toBe(200);
        expect(renamed.json.category).toEqual({ id: seed.id, name: 'Seeds', productCount: 1 });
        expect((await on('acme', `/api/products?categoryId=${seed.id}`)).json.products[0].categoryName).toBe('Seeds');
        expectProblem(await on('acme', `/api/categories/${seed.id}`, { method: 'PATCH', json: { name: 'Tools' } }), 409, 'category_exists');
        expectProblem(await on('acme', `/api/categories/${seed.id}`, { method: 'PATCH', json: { name: '' } }), 400, 'invalid_input');
        expectProblem(await on('acme', '/api/categories/9999', { method: 'PATCH', json: { name: 'Ghost' } }), 404, 'category_not_found');
        // Globex has two categories: Acme's third is not one of them, and Globex may use the name.
        expectProblem(await on('globex', `/api/categories/${Math.max(...categories.map((category) => category.id))}`, { method: 'PATCH', json: { name: 'Mine' } }), 404);
        const globexFirst = (await on('globex', '/api/categories')).json.categories[0];
        const globexRenamed = await on('globex', `/api/categories/${globexFirst.id}`, { method: 'PATCH', json: { name: 'Seeds' } });
        expect(globexRenamed.status, globexRenamed.text).toBe(200);
        await on('globex', `/api/categories/${globexFirst.id}`, { method: 'PATCH', json: { name: globexFirst.name } });
        expect((await on('acme', `/api/categories/${seed.id}`, { method: 'PATCH', json: { name: 'Bird seed' } })).status).toBe(200);
      });

      it('makes the sign-up owner an owner and colleagues staff; staff may not delete products or manage the team', async () => {
        const staff = { name: 'Staff Member', email: `staff-${name}@acme.test`, password: 'staff-password-1' };
        const joined = await on('acme', '/api/users', { method: 'POST', json: { ...staff, inviteCode: fixture.inviteCodes.get('acme') }, cookie: null });
        expect(joined.status, joined.text).toBe(201);
        expect(joined.json.user.role).toBe('staff');
        const staffCookie = sessionCookieOf(joined);
        const team = (await on('acme', '/api/team')).json.users as { id: number; email: string; role: string }[];
        const owner = team.find((user) => user.email === ACME.owner.email)!;
        const member = team.find((user) => user.email === staff.email)!;
        expect([owner.role, member.role]).toEqual(['owner', 'staff']);

        const anvil = (await on('acme', '/api/products?q=ACME-ANVIL')).json.products[0];
        expectProblem(await on('acme', `/api/products/${anvil.id}`, { method: 'DELETE', cookie: staffCookie }), 403, 'owner_only');
        expect((await on('acme', `/api/products/${anvil.id}`)).status).toBe(200);
        expectProblem(await on('acme', `/api/team/${owner.id}`, { method: 'DELETE', cookie: staffCookie }), 403, 'owner_only');
        expectProblem(await on('acme', `/api/team/${member.id}`, { method: 'PATCH', json: { role: 'owner' }, cookie: staffCookie }), 403, 'owner_only');
        expectProblem(await on('acme', '/api/team/invite-code', { method: 'POST', json: {}, cookie: staffCookie }), 403, 'owner_only');
        expectProblem(await on('acme', '/api/digests', { method: 'POST', json: {}, cookie: staffCookie }), 403, 'owner_only');
        // Staff still work the catalogue.
        expect((await on('acme', '/api/products', { cookie: staffCookie })).status).toBe(200);

        // An owner changes roles; the change holds from the member's next request.
        const promoted = await on('acme', `/api/team/${member.id}`, { method: 'PATCH', json: { role: 'owner' } });
        expect([promoted.status, promoted.json.user.role]).toEqual([200, 'owner']);
        expect((await on('acme', '/api/session', { cookie: staffCookie })).json.user.role).toBe('owner');
        expect((await on('acme', `/api/team/${member.id}`, { method: 'PATCH', json: { role: 'staff' }, cookie: staffCookie })).status).toBe(200);
        expectProblem(await on('acme', `/api/team/${member.id}`, { method: 'PATCH', json: { role: 'boss' } }), 400, 'invalid_input');
        // The last owner stays an owner, and nobody removes themselves.
        expectProblem(await on('acme', `/api/team/${owner.id}`, { method: 'PATCH', json: { role: 'staff' } }), 409, 'last_owner');
        expectProblem(await on('acme', `/api/team/${owner.id}`, { method: 'DELETE' }), 409, 'cannot_remove_yourself');
        expectProblem(await on('acme', '/api/team/9999', { method: 'DELETE' }), 404, 'user_not_found');
        // Globex's owner cannot reach Acme's members.
        expectProblem(await on('globex', `/api/team/${member.id}`, { method: 'DELETE' }), 404, 'user_not_found');

        // Removed: the member's session ends and the account is gone.
        expect((await on('acme', `/api/team/${member.id}`, { method: 'DELETE' })).status).toBe(204);
        expectProblem(await on('acme', '/api/products', { cookie: staffCookie }), 401, 'session_expired');
        expectProblem(await logIn('acme', staff.email, staff.password), 401, 'login_failed');
        expect(((await on('acme', '/api/team')).json.users as { email: string }[]).map((user) => user.email)).not.toContain(staff.email);
      });

      it('regenerates the invite code: the old one stops working', async () => {
        const old = (await on('acme', '/api/team')).json.inviteCode as string;
        const made = await on('acme', '/api/team/invite-code', { method: 'POST', json: {} });
        expect(made.status, made.text).toBe(200);
        expect(made.json.inviteCode).toMatch(/^[0-9A-F]{12}$/);
        expect(made.json.inviteCode).not.toBe(old);
        expect((await on('acme', '/api/team')).json.inviteCode).toBe(made.json.inviteCode);
        const colleague = { name: 'Late Joiner', email: `late-${name}@acme.test`, password: 'late-password-1' };
        expectProblem(await on('acme', '/api/users', { method: 'POST', json: { ...colleague, inviteCode: old }, cookie: null }), 403, 'wrong_invite_code');
        const joined = await on('acme', '/api/users', { method: 'POST', json: { ...colleague, inviteCode: made.json.inviteCode }, cookie: null });
        expect(joined.status, joined.text).toBe(201);
        // Globex's code did not change.
        expect((await on('globex', '/api/team')).json.inviteCode).toBe(fixture.inviteCodes.get('globex'));
      });
    });
  });
}
