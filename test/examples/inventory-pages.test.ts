/**
 * The server-rendered pages over HTTP: redirects, cookies, CSRF and origin checks, escaping,
 * and error pages (the browser test walks the happy path).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpress } from '../../examples/inventory/http/express.js';
import type { RunningServer } from '../../examples/inventory/http/server.js';
import { type Reply, type Send, send, sessionCookieOf } from './http.js';
import { ACME, GLOBEX, useInventory } from './inventory-fixture.js';

describe('inventory pages (Express)', () => {
  const fixture = useInventory();
  let server: RunningServer;
  let acmeCookie: string;
  const replies: Reply[] = [];

  const call = async (request: Send): Promise<Reply> => {
    const reply = await send(server.port, request);
    replies.push(reply);
    return reply;
  };
  const acme = (path: string, extra: Omit<Send, 'path'> = {}): Promise<Reply> =>
    call({ host: `acme.localhost:${server.port}`, ...extra, path, headers: { cookie: acmeCookie, ...extra.headers } });
  const form = (fields: Record<string, string>): Pick<Send, 'raw' | 'method'> & { headers: Record<string, string> } => ({
    method: 'POST',
    raw: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const csrfOf = (reply: Reply): string => /name="_csrf" value="([^"]+)"/.exec(reply.text)?.[1] ?? '';
  /** Follows a failed post's redirect (303) the way a browser does: the same cookies, plus the flash cookie it set. */
  const redirected = async (reply: Reply, request: Omit<Send, 'path'> & { cookie?: string } = {}): Promise<Reply> => {
    expect(reply.status, reply.text).toBe(303);
    const flash = reply.cookies.find((value) => value.startsWith('inventory_flash='))?.split(';')[0];
    expect(flash).toBeDefined();
    const cookie = [request.cookie, flash].filter(Boolean).join('; ');
    const location = new URL(reply.headers.location!, 'http://x');
    return call({ ...(request.host === undefined ? {} : { host: request.host }), path: location.pathname + location.search, headers: { cookie } });
  };

  beforeAll(async () => {
    server = await startExpress(fixture.inventory, { port: 0, host: '127.0.0.1' });
    const login = await call({ host: `acme.localhost:${server.port}`, path: '/login', ...form({ email: ACME.owner.email, password: ACME.owner.password }) });
    expect(login.status, login.text).toBe(303);
    expect(login.headers.location).toBe('/?notice=welcome');
    acmeCookie = sessionCookieOf(login);
  });

  afterAll(async () => {
    await server?.close();
    expect(replies.filter((reply) => reply.status >= 500).map((reply) => reply.text)).toEqual([]);
    expect(fixture.unexpected).toEqual([]);
  });

  it('sends a strict Content-Security-Policy and no framework banner', async () => {
    const reply = await call({ path: '/' });
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    expect(reply.headers['x-powered-by']).toBeUndefined();
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
  });

  it('sends visitors to the log-in page of the business they asked for', async () => {
    const byHost = await call({ host: `acme.localhost:${server.port}`, path: '/products' });
    expect([byHost.status, byHost.headers.location]).toEqual([303, '/login']);
    const byPath = await call({ path: '/t/acme/products' });
    expect([byPath.status, byPath.headers.location]).toEqual([303, '/t/acme/login']);
    // Acme's cookie means nothing to Globex.
    const other = await call({ host: `globex.localhost:${server.port}`, path: '/', headers: { cookie: acmeCookie } });
    expect([other.status, other.headers.location]).toEqual([303, '/login']);
  });

  it('logs in under path routing with a cookie limited to the business path', async () => {
    const login = await call({ path: '/t/globex/login', ...form({ email: GLOBEX.owner.email, password: GLOBEX.owner.password }) });
    expect([login.status, login.headers.location]).toEqual([303, '/t/globex/?notice=welcome']);
    expect(login.cookies[0]).toMatch(/^inventory_session=globex\.[^;]+; Path=\/t\/globex; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const dashboard = await call({ path: '/t/globex/', headers: { cookie: sessionCookieOf(login) } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('href="/t/globex/products"');

    const wrong = await call({ path: '/t/globex/login', ...form({ email: GLOBEX.owner.email, password: 'not the password' }) });
    expect([wrong.status, wrong.headers.location]).toEqual([303, '/t/globex/login']);
    expect(wrong.cookies[0]).toMatch(/^inventory_flash=[\w-]+; Path=\/t\/globex; Max-Age=60; HttpOnly; SameSite=Lax$/);
    const shown = await redirected(wrong);
    expect(shown.status).toBe(401);
    expect(shown.text).toContain('Wrong email or password');
    expect(shown.text).toContain(`value="${GLOBEX.owner.email}"`);
    expect(shown.text).not.toContain('not the password');
  });

  it('throttles failed log-ins with a 429 page and Retry-After', async () => {
    const wrong = (localAddress: string): Promise<Reply> =>
      call({ path: '/t/acme/login', localAddress, ...form({ email: 'nobody@acme.test', password: 'not the password' }) });
    const replies = await Promise.all(Array.from({ length: 8 }, () => wrong('127.0.0.6')));
    expect(replies.map((reply) => reply.status).sort()).toEqual([303, 303, 303, 303, 303, 429, 429, 429]);
    const throttled = replies.find((reply) => reply.status === 429)!;
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(800);
    expect(throttled.text).toContain('Too many failed log-ins: try again in 15 minutes');
    expect(throttled.text).toContain('value="nobody@acme.test"');
    expect(throttled.text).not.toContain('not the password');
  });

  it('pages the product list with next and first links that keep the filter', async () => {
    const first = await acme('/products?limit=1&lowStock=');
    const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first.text)?.[1];
    expect(next).toMatch(/^\/products\?limit=1&amp;after=[\w.-]+$/);
    const second = await acme(next!.replaceAll('&amp;', '&'));
    expect(second.status).toBe(200);
    expect(second.text).toContain('<a href="/products?limit=1" rel="first">First page</a>');
    const skuOf = (reply: Reply): string | undefined => /<td><a href="\/products\/\d+">([^<]+)<\/a><\/td>/.exec(reply.text)?.[1];
    expect(skuOf(second)).not.toBe(skuOf(first));
    expect((await acme('/products')).text).not.toContain('rel="next"');
    expect((await acme('/products?limit=abc')).status).toBe(400);
  });

  it('escapes what users type', async () => {
    const evil = '<img src=x onerror="alert(1)">';
    const products = await acme('/products');
    const created = await acme('/products', form({ _csrf: csrfOf(products), sku: 'XSS-1', name: evil, price: '1.00', categoryId: '', lowStockThreshold: '1' }));
    expect(created.status, created.text).toBe(303);
    const list = await acme('/products');
    expect(list.text).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(list.text).not.toContain(evil);
  });

  it('refuses a form without the session’s CSRF token, or from another site', async () => {
    const missing = await acme('/categories', form({ name: 'No token' }));
    expect(missing.status).toBe(403);
    const wrong = await acme('/categories', form({ name: 'Wrong token', _csrf: 'x'.repeat(32) }));
    expect(wrong.status).toBe(403);
    const token = csrfOf(await acme('/categories'));
    const crossSite = await acme('/categories', { ...form({ name: 'Cross site', _csrf: token }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.test' } });
    expect(crossSite.status).toBe(403);
    const fine = await acme('/categories', { ...form({ name: 'Fine', _csrf: token }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://acme.localhost:${server.port}` } });
    expect([fine.status, fine.headers.location]).toEqual([303, '/categories?notice=category-created']);
    expect((await acme('/categories')).text).not.toMatch(/No token|Wrong token|Cross site/);
  });

  it('shows form errors with the values typed, and keeps the stock', async () => {
    const page = await acme('/products/1');
    const token = csrfOf(page);
    const host = `acme.localhost:${server.port}`;
    const tooMany = await acme('/products/1/movements', form({ _csrf: token, kind: 'out', quantity: '100000', note: 'too many' }));
    expect(tooMany.headers.location).toBe('/products/1');
    const tooManyShown = await redirected(tooMany, { host, cookie: acmeCookie });
    expect(tooManyShown.status).toBe(400);
    expect(tooManyShown.text).toContain('Only 12 of ACME-ANVIL in stock');
    expect(tooManyShown.text).toContain('value="too many"');
    const badPrice = await acme('/products/1', form({ _csrf: token, sku: 'ACME-ANVIL', name: 'Anvil', price: 'cheap', categoryId: '', lowStockThreshold: '5' }));
    expect(badPrice.headers.location).toBe('/products/1');
    const badPriceShown = await redirected(badPrice, { host, cookie: acmeCookie });
    expect(badPriceShown.status).toBe(400);
    expect(badPriceShown.text).toContain('must be an amount like 12.50');
    expect(badPriceShown.text).toContain('value="cheap"');
    // Shown once: the same flash again (a reload) gives the plain page; and only on its own product.
    const flash = flashCookieOf(badPrice);
    const reload = await acme('/products/1', { headers: { cookie: `${acmeCookie}; ${flash}` } });
    expect(reload.status).toBe(200);
    expect(reload.text).not.toContain('value="cheap"');
    expect(reload.text).toContain('$49.00');
    const newProduct = await acme('/products', form({ _csrf: token, sku: '', name: 'No SKU', price: '1.00', categoryId: '', lowStockThreshold: '1' }));
    expect(newProduct.headers.location).toBe('/products');
    const elsewhere = await acme('/products/2', { headers: { cookie: `${acmeCookie}; ${flashCookieOf(newProduct)}` } });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.text).not.toContain('No SKU');
    const category = await acme('/categories', form({ _csrf: token, name: '' }));
    expect(category.headers.location).toBe('/categories');
    expect((await redirected(category, { host, cookie: acmeCookie })).status).toBe(400);
  });

  it('deletes a product only once its SKU is typed to confirm', async () => {
    const host = `acme.localhost:${server.port}`;
    const token = csrfOf(await acme('/products'));
    const created = await acme('/products', form({ _csrf: token, sku: 'DEL-ME', name: 'Doomed', price: '2.00', categoryId: '', lowStockThreshold: '1' }));
    const path = new URL(created.headers.location!, 'http://x').pathname;
    const shown = await acme(path);
    expect(shown.text).toContain('Type DEL-ME to confirm');
    expect(shown.text).toMatch(/<input name="confirm" type="text" value="" required/);

    for (const confirm of [undefined, '', 'del-m', 'ACME-ANVIL']) {
      const refused = await acme(`${path}/delete`, form(confirm === undefined ? { _csrf: token } : { _csrf: token, confirm }));
      expect(refused.headers.location).toBe(path);
      const again = await redirected(refused, { host, cookie: acmeCookie });
      expect(again.status).toBe(400);
      expect(again.text).toContain('must be DEL-ME to delete this product');
    }
    expect((await acme(path)).status).toBe(200);

    const deleted = await acme(`${path}/delete`, form({ _csrf: token, confirm: ' del-me ' }));
    expect([deleted.status, deleted.headers.location]).toEqual([303, '/products?notice=product-deleted']);
    expect((await acme(path)).status).toBe(404);
  });

  it('signs a business up from the platform form and logs the owner in on its subdomain', async () => {
    const fields = { name: 'Corner Shop', id: 'corner', plan: 'free', ownerName: 'Cora', email: 'cora@corner.test', password: 'corner-shop-1' };
    const created = await call({ path: '/businesses', ...form(fields) });
    expect(created.status).toBe(303);
    const welcome = new URL(created.headers.location!);
    expect(welcome.origin + welcome.pathname).toBe(`http://corner.localhost:${server.port}/welcome`);
    expect(created.cookies).toEqual([]); // the platform's host cannot set the business's cookie
    // The business's host turns the one-time code into a session, as log-in does.
    const landed = await call({ host: welcome.host, path: welcome.pathname + welcome.search });
    expect([landed.status, landed.headers.location]).toEqual([303, '/?notice=business-ready']);
    expect(landed.cookies[0]).toMatch(/^inventory_session=corner\.[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const dashboard = await call({ host: welcome.host, path: '/?notice=business-ready', headers: { cookie: sessionCookieOf(landed) } });
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('you are logged in');
    expect(dashboard.text).toContain('Cora');
    // The code works once, and only for its business.
    const again = await call({ host: welcome.host, path: welcome.pathname + welcome.search });
    expect([again.status, again.headers.location, again.cookies]).toEqual([303, '/login?notice=business-created', []]);
    const elsewhere = await call({ host: `acme.localhost:${server.port}`, path: welcome.pathname + welcome.search });
    expect([elsewhere.status, elsewhere.headers.location, elsewhere.cookies]).toEqual([303, '/login?notice=business-created', []]);

    // From an IP address there are no subdomains: path routing instead.
    const byIp = await call({ host: `127.0.0.1:${server.port}`, path: '/businesses', ...form({ ...fields, id: 'corner-2' }) });
    expect([byIp.status, byIp.headers.location]).toMatchObject([303, expect.stringMatching(/^\/t\/corner-2\/welcome\?code=[\w-]{43}$/)]);
    const byIpLanded = await call({ host: `127.0.0.1:${server.port}`, path: byIp.headers.location! });
    expect([byIpLanded.status, byIpLanded.headers.location]).toEqual([303, '/t/corner-2/?notice=business-ready']);
    expect(byIpLanded.cookies[0]).toMatch(/^inventory_session=corner-2\.[^;]+; Path=\/t\/corner-2;/);
    // A forged Host cannot send anyone elsewhere.
    const forged = await call({ host: 'evil.test', path: '/businesses', ...form({ ...fields, id: 'corner-3' }) });
    expect(forged.headers.location).toMatch(/^\/t\/corner-3\/welcome\?code=/);

    const takenPost = await call({ path: '/businesses', ...form(fields) });
    expect(takenPost.headers.location).toBe('/');
    const taken = await redirected(takenPost);
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('is taken');
    expect(taken.text).toContain('value="Corner Shop"');
    expect(taken.text).not.toContain('corner-shop-1');
    // Another business's pages do not show the platform's flash.
    const flashElsewhere = await call({ path: '/t/acme/login', headers: { cookie: flashCookieOf(takenPost) } });
    expect(flashElsewhere.status).toBe(200);
    expect(flashElsewhere.text).not.toContain('Corner Shop');
  });

  it('opens a business by its address', async () => {
    expect((await call({ path: '/open?business=Acme' })).headers.location).toBe(`http://acme.localhost:${server.port}/`);
    expect((await call({ path: '/open?business=ghost' })).status).toBe(404);
    expect((await call({ path: '/open?business=%3Cscript%3E' })).status).toBe(400);
  });

  it('answers bad addresses with error pages, never a 500', async () => {
    expect((await acme('/products/abc')).status).toBe(400);
    expect((await acme('/products/9999')).status).toBe(404);
    expect((await acme('/no/such/page')).status).toBe(404);
    const ghost = await call({ host: `ghost.localhost:${server.port}`, path: '/', headers: { accept: 'text/html' } });
    expect(ghost.status).toBe(404);
    expect(ghost.text).toContain('There is no business at this address.');
    expect(ghost.text).toContain(`href="http://localhost:${server.port}/"`);
    const malformed = await call({ path: '/t/Bad_Id/', headers: { accept: 'text/html' } });
    expect(malformed.status).toBe(400);
    const tooBig = await acme('/categories', form({ name: 'x'.repeat(200_000) }));
    expect(tooBig.status).toBe(413);
  });
});

function flashCookieOf(reply: Reply): string {
  return reply.cookies.find((value) => value.startsWith('inventory_flash='))!.split(';')[0]!;
}
