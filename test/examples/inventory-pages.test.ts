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
    // 503 is the answer to “Send digest now” without a job queue (tested on purpose); any other 5xx is a bug.
    expect(replies.filter((reply) => reply.status >= 500 && reply.status !== 503).map((reply) => reply.text)).toEqual([]);
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

  it('links product names to their page', async () => {
    const list = await acme('/products?q=ACME-ANVIL');
    const id = /<a href="\/products\/(\d+)">ACME-ANVIL<\/a>/.exec(list.text)?.[1];
    expect(list.text).toContain(`<td><a href="/products/${id}">Anvil</a></td>`);
    expect((await acme('/')).text).toMatch(/<td><a href="\/products\/\d+">Giant magnet<\/a><\/td>/);
  });

  it('renames a category, keeping names unique per business (Post/Redirect/Get)', async () => {
    const page = await acme('/categories');
    const token = csrfOf(page);
    const id = /<tr id="category-(\d+)">\s*<td><a href="\/products\?categoryId=\d+">Transport<\/a>/.exec(page.text)?.[1];
    expect(id).toBeDefined();
    const renamed = await acme(`/categories/${id}`, form({ _csrf: token, name: 'Vehicles' }));
    expect([renamed.status, renamed.headers.location]).toEqual([303, '/categories?notice=category-renamed']);
    const after = await acme('/categories?notice=category-renamed');
    expect(after.text).toContain('Category renamed.');
    expect(after.text).toMatch(/>Vehicles<\/a>/);
    expect(after.text).not.toMatch(/>Transport<\/a>/);
    expect((await acme(`/products?categoryId=${id}`)).text).toContain('Vehicles');

    const taken = await acme(`/categories/${id}`, form({ _csrf: token, name: 'Tools' }));
    expect(taken.headers.location).toBe('/categories');
    const shown = await redirected(taken, { host: `acme.localhost:${server.port}`, cookie: acmeCookie });
    expect(shown.status).toBe(409);
    const row = new RegExp(`<tr id="category-${id}">[\\s\\S]*?</tr>`).exec(shown.text)![0];
    expect(row).toContain('value="Tools"');
    expect(row).toContain('is taken');
    expect(shown.text).toMatch(/>Vehicles<\/a>/);
    expect((await acme('/categories/9999', form({ _csrf: token, name: 'Ghost' }))).status).toBe(404);
    expect((await acme(`/categories/${id}`, form({ _csrf: token, name: 'Transport' }))).status).toBe(303);
  });

  it('lets owners remove members and make a new invite code; staff get neither the controls nor the routes (403)', async () => {
    const host = `acme.localhost:${server.port}`;
    const oldCode = fixture.inviteCodes.get('acme')!;
    const staff = { name: 'Pages Staff', email: 'pages-staff@acme.test', password: 'pages-staff-1' };
    const joined = await call({ host, path: '/signup', ...form({ ...staff, inviteCode: oldCode }) });
    expect([joined.status, joined.headers.location]).toEqual([303, '/?notice=welcome']);
    const staffCookie = sessionCookieOf(joined);
    const asStaff = (path: string, extra: Omit<Send, 'path'> = {}): Promise<Reply> => acme(path, { ...extra, headers: { ...extra.headers, cookie: staffCookie } });

    const ownerTeam = await acme('/team');
    const staffId = new RegExp(`<tr id="user-(\\d+)">\\s*<td>${staff.name}`).exec(ownerTeam.text)?.[1];
    const ownerId = /<tr id="user-(\d+)">\s*<td>Wile E\. Coyote <span class="muted">\(you\)<\/span>/.exec(ownerTeam.text)?.[1];
    expect([staffId, ownerId].every(Boolean)).toBe(true);
    expect(ownerTeam.text).toContain(`action="/team/${staffId}/remove"`);
    expect(ownerTeam.text).not.toContain(`action="/team/${ownerId}/remove"`); // not oneself
    expect(ownerTeam.text).toContain('Make a new invite code');

    // Staff: no controls, and the routes answer 403.
    const staffTeam = await asStaff('/team');
    expect(staffTeam.text).not.toMatch(/\/remove"|\/role"|action="\/team\/invite-code"|Make a new invite code/);
    expect(staffTeam.text).toContain('<span class="badge role">owner</span>');
    const staffToken = csrfOf(staffTeam);
    const product = await asStaff('/products/1');
    expect(product.text).not.toContain('id="delete-product"');
    const staffDelete = await asStaff('/products/1/delete', form({ _csrf: staffToken, confirm: 'ACME-ANVIL' }));
    expect(staffDelete.status).toBe(403);
    expect(staffDelete.text).toContain('Only an owner of this business may delete products');
    expect((await acme('/products/1')).status).toBe(200);
    for (const path of [`/team/${ownerId}/remove`, `/team/${staffId}/role`, '/team/invite-code', '/digests']) {
      const refused = await asStaff(path, form({ _csrf: staffToken, role: 'owner' }));
      expect([path, refused.status]).toEqual([path, 403]);
    }
    expect((await asStaff('/')).text).not.toContain('Send digest now');

    // The owner: a new invite code (the old one stops working), then the member removed.
    const token = csrfOf(ownerTeam);
    const regenerated = await acme('/team/invite-code', form({ _csrf: token }));
    expect([regenerated.status, regenerated.headers.location]).toEqual([303, '/team?notice=invite-code-regenerated']);
    const newCode = /id="invite-code">([0-9A-F]{12})</.exec((await acme('/team')).text)?.[1];
    expect(newCode).toBeDefined();
    expect(newCode).not.toBe(oldCode);
    const withOld = await call({ host, path: '/signup', ...form({ name: 'Too Late', email: 'late@acme.test', password: 'too-late-pass', inviteCode: oldCode }) });
    const refused = await redirected(withOld, { host });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('is not this business’s invite code');

    const lastOwner = await acme(`/team/${ownerId}/role`, form({ _csrf: token, role: 'staff' }));
    const lastOwnerShown = await redirected(lastOwner, { host, cookie: acmeCookie });
    expect(lastOwnerShown.status).toBe(409);
    expect(lastOwnerShown.text).toContain('A business needs an owner');

    const removed = await acme(`/team/${staffId}/remove`, form({ _csrf: token }));
    expect([removed.status, removed.headers.location]).toEqual([303, '/team?notice=member-removed']);
    expect((await acme('/team')).text).not.toContain(staff.email);
    expect((await asStaff('/products')).headers.location).toBe('/login');
  });

  it('answers “Send digest now” with a 503 page while the job queue is not running', async () => {
    const dashboard = await acme('/');
    expect(dashboard.text).toContain('No digest yet');
    const refused = await acme('/digests', form({ _csrf: csrfOf(dashboard) }));
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('The job queue is not running');
  });

  it('exports the products as CSV and imports the file back, leaving the catalogue equal', async () => {
    const token = csrfOf(await acme('/products'));
    // A name a spreadsheet would run as a formula: exported with a leading ', imported without it.
    expect((await acme('/products', form({ _csrf: token, sku: 'CSV-FORMULA', name: '=SUM(1,2)', price: '1.00', categoryId: '', lowStockThreshold: '0' }))).status).toBe(303);
    const exported = await acme('/products/export');
    expect(exported.status).toBe(200);
    expect(exported.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(exported.headers['content-disposition']).toMatch(/^attachment; filename="?products-acme-\d{4}-\d{2}-\d{2}\.csv"?$/);
    const lines = exported.text.trimEnd().split('\n');
    expect(lines[0]).toBe('sku,name,category,unit_price,low_stock_threshold,stock');
    expect(lines).toContain('ACME-ANVIL,Anvil,Tools,49.00,5,12');
    expect(lines).toContain(`CSV-FORMULA,"'=SUM(1,2)",,1.00,0,0`);
    const products = lines.length - 1;

    const back = await acme('/products/import', { method: 'POST', ...upload({ _csrf: token }, exported.text) });
    expect([back.status, back.headers.location]).toEqual([303, `/products?notice=products-imported&created=0&updated=${products}`]);
    expect((await acme('/products/export')).text).toBe(exported.text);
    expect((await acme('/products?q=CSV-FORMULA')).text).toContain('>=SUM(1,2)</a>');

    // Changed and new lines: updated and created (with a new category), stock untouched.
    const changed = exported.text.replace('ACME-ANVIL,Anvil,Tools,49.00,5,12', 'ACME-ANVIL,Anvil,Tools,52.50,6,999') + 'csv-new,Imported thing,Imported,3.00,,\n';
    const imported = await acme('/products/import', { method: 'POST', ...upload({ _csrf: token }, changed) });
    expect(imported.headers.location).toBe(`/products?notice=products-imported&created=1&updated=${products}`);
    const shown = await acme(imported.headers.location!);
    expect(shown.text).toContain(`1 created, ${products} updated.`);
    const after = (await acme('/products/export')).text;
    expect(after).toContain('ACME-ANVIL,Anvil,Tools,52.50,6,12');
    expect(after).toContain('CSV-NEW,Imported thing,Imported,3.00,5,0');
    expect((await acme('/categories')).text).toMatch(/>Imported<\/a>/);
    const restore = await acme('/products/import', { method: 'POST', ...upload({ _csrf: token }, exported.text) });
    expect(restore.status).toBe(303);
  });

  it('refuses a CSV file with bad lines, naming each one, and imports nothing', async () => {
    const host = `acme.localhost:${server.port}`;
    const token = csrfOf(await acme('/products'));
    const importing = async (csv: string): Promise<Reply> => {
      const posted = await acme('/products/import', { method: 'POST', ...upload({ _csrf: token }, csv) });
      expect(posted.headers.location).toBe('/products');
      return redirected(posted, { host, cookie: acmeCookie });
    };
    const bad = await importing(
      ['sku,name,unit_price,category', 'GOOD-1,Good,1.00,Tools', ',No SKU,2.00,', 'BAD-2,Bad price,cheap,', 'good-1,Twice,1.00,', 'BAD SKU,Spaces,1,', 'BAD-3,Short'].join('\n'),
    );
    expect(bad.status).toBe(400);
    const errors = /<div class="error-box" role="alert" id="import-errors">([\s\S]*?)<\/div>/.exec(bad.text)?.[1] ?? '';
    expect(errors).toContain('5 lines are not valid: nothing was imported');
    expect(errors).toContain('<li><strong>Line 3</strong>: sku is required</li>');
    expect(errors).toContain('<li><strong>Line 4</strong>: unit_price must be an amount like 12.50, got &quot;cheap&quot;</li>');
    expect(errors).toContain('<li><strong>Line 5</strong>: sku GOOD-1 is on line 2 too</li>');
    expect(errors).toMatch(/<li><strong>Line 6<\/strong>: sku may contain only/);
    expect(errors).toContain('<li><strong>Line 7</strong>: has 2 values, the header names 4 columns; unit_price is required</li>');
    expect(errors).not.toContain('Line 2');
    expect((await acme('/products?q=GOOD-1')).text).toContain('No product matches.');

    const header = await importing('sku,name,price\nX,Y,1.00\n');
    expect(header.text).toContain('unknown column &quot;price&quot;; missing column unit_price');
    expect((await importing('sku,name,unit_price\n"ACME-ANVIL,Anvil,1.00\n')).text).toContain('is not valid CSV');
    expect((await importing('sku,name,unit_price\n')).text).toContain('has no products below its header');
    const tooLarge = await importing(`sku,name,unit_price\n${'X,'.repeat(600_000)}\n`);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toContain('The file is larger than 1 MB');
    // No token: the CSRF check refuses it like any other form.
    expect((await acme('/products/import', { method: 'POST', ...upload({}, 'sku,name,unit_price\nNT-1,No token,1.00\n') })).status).toBe(403);
    expect((await acme('/products?q=NT-1')).text).toContain('No product matches.');
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

/** A multipart/form-data body with `fields` and a CSV file (the import form's). */
function upload(fields: Record<string, string>, csv: string): { raw: string; headers: Record<string, string> } {
  const boundary = `----inventory${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`);
  return { raw: parts.join(''), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function flashCookieOf(reply: Reply): string {
  return reply.cookies.find((value) => value.startsWith('inventory_flash='))!.split(';')[0]!;
}
