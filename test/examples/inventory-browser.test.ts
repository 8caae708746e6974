/**
 * The inventory app in a real browser (Chromium through playwright-core): sign a business up on
 * the platform, land on its subdomain, log in, add a product and stock, see it on the
 * dashboard; then open another business and see that the product is not there. Then, as Acme's
 * owner: page through the products, rename a category, manage the team (a colleague joins, gets
 * removed, a new invite code), get throttled after five wrong passwords, export the products as
 * CSV and import the file back (and a bad file, refused line by line), and send the low-stock
 * digest. Screenshots of each page go to test-results/.
 *
 * Chromium resolves `*.localhost` to the loopback address, so every business gets its own
 * origin (and its own cookies) with no DNS or /etc/hosts setup.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExpress } from '../../examples/inventory/http/express.js';
import type { RunningServer } from '../../examples/inventory/http/server.js';
import { ACME, useInventory } from './inventory-fixture.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const SKIPPED = `Chromium is not installed at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;
if (!available) console.warn(`inventory browser test skipped. ${SKIPPED}`);

describe.skipIf(!available)(`inventory in Chromium${available ? '' : ` (skipped: ${SKIPPED})`}`, () => {
  const fixture = useInventory({ jobs: true });
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startExpress(fixture.inventory, { port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    expect(fixture.unexpected).toEqual([]);
  });

  const url = (host: string, path = '/'): string => `http://${host}:${server.port}${path}`;
  /** Clicks a form's submit button and waits for the page it leads to (after any redirects). */
  const submit = async (page: Page, form: string): Promise<void> => {
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(`${form} button[type=submit]`).click()]);
  };
  /** Follows a link and waits for the page. */
  const follow = async (page: Page, selector: string): Promise<void> => {
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(selector)]);
  };
  /** The text of the first element a selector finds, as shown. */
  const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().innerText()).trim();

  it('signs a business up, lands on its subdomain, stocks a product, and keeps it from other businesses', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Script errors, CSP violations and failed subresources (a page answered with 400 on purpose is not one).
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'document' && response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
    });

    // The platform, on the main host.
    await page.goto(url('localhost'));
    expect(await text(page, 'h1')).toBe('Inventory for every business');
    await page.fill('#signup input[name=name]', 'Bob’s <Bikes> & Co');
    await page.fill('#signup input[name=id]', 'bobs-bikes');
    await page.fill('#signup input[name=ownerName]', 'Bob');
    await page.fill('#signup input[name=email]', 'bob@bikes.test');
    await page.fill('#signup input[name=password]', 'pedal-power-2024');
    await submit(page, '#signup');

    // Redirected to the new business's own host, logged in.
    expect(page.url()).toBe(url('bobs-bikes.localhost', '/?notice=business-ready'));
    expect(await text(page, '.notice')).toContain('Your business is ready');
    expect(await text(page, 'header .brand')).toContain('Bob’s <Bikes> & Co'); // escaped, shown as text
    expect(await text(page, 'h1')).toBe('Dashboard');

    // The session cookie: this host only, HttpOnly, SameSite=Lax.
    const [cookie, ...others] = await context.cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: 'inventory_session', domain: 'bobs-bikes.localhost', path: '/', httpOnly: true, sameSite: 'Lax' });

    // A product, then stock for it.
    await follow(page, 'header nav >> text=Products');
    expect(await text(page, '#product-list')).toContain('No products yet');
    await page.fill('#new-product input[name=sku]', 'bike-road-1');
    await page.fill('#new-product input[name=name]', 'Road bike <Carbon>');
    await page.fill('#new-product input[name=price]', '1,299.50');
    await page.fill('#new-product input[name=lowStockThreshold]', '2');
    await submit(page, '#new-product');
    expect(await text(page, 'h1')).toContain('Road bike <Carbon>');
    expect(await text(page, '.notice')).toContain('Product created');

    await page.selectOption('#record-movement select[name=kind]', 'in');
    await page.fill('#record-movement input[name=quantity]', '4');
    await page.fill('#record-movement input[name=note]', 'first delivery');
    await submit(page, '#record-movement');
    expect(await text(page, '#stock')).toBe('4');

    // Taking out more than there is: refused, with the reason on the form.
    await page.selectOption('#record-movement select[name=kind]', 'out');
    await page.fill('#record-movement input[name=quantity]', '9');
    await submit(page, '#record-movement');
    expect(await text(page, '#record-movement .error-box')).toContain('Only 4 of BIKE-ROAD-1 in stock');
    expect(await text(page, '#stock')).toBe('4');
    // Redirected back to the product's page: a reload shows it again and posts nothing.
    expect(new URL(page.url()).pathname).toMatch(/^\/products\/\d+$/);
    await page.reload();
    expect(await text(page, '#stock')).toBe('4');
    expect(await page.locator('#record-movement .error-box').count()).toBe(0);

    // The dashboard shows it.
    await follow(page, 'header nav >> text=Dashboard');
    expect(await text(page, '#stock-value')).toBe('$5,198.00');
    expect(await text(page, '#recent-movements')).toContain('Road bike <Carbon>');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/inventory-dashboard.png', fullPage: true });

    // Another business in the same browser: Bob's cookie is not sent there, and Acme has no bike.
    await page.goto(url('acme.localhost'));
    expect(page.url()).toBe(url('acme.localhost', '/login'));
    await page.fill('#login input[name=email]', ACME.owner.email);
    await page.fill('#login input[name=password]', ACME.owner.password);
    await submit(page, '#login');
    expect(await text(page, 'h1')).toBe('Dashboard');
    expect(await text(page, 'header .brand')).toContain('Acme Tools');
    expect(await text(page, '#recent-movements')).not.toContain('Road bike');
    await follow(page, 'header nav >> text=Products');
    expect(await text(page, '#product-list')).toContain('ACME-ANVIL');
    expect(await text(page, '#product-list')).not.toContain('BIKE-ROAD-1');
    await page.screenshot({ path: 'test-results/inventory-other-business.png', fullPage: true });

    // Bob's business by path on the main host: no cookie of the subdomain reaches it either.
    await page.goto(url('localhost', '/t/bobs-bikes/products'));
    expect(page.url()).toBe(url('localhost', '/t/bobs-bikes/login'));

    // Two sessions, one per host; none for the platform.
    expect((await context.cookies()).map((each) => each.domain).sort()).toEqual(['acme.localhost', 'bobs-bikes.localhost']);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('pages, renames, manages the team, throttles, round-trips a CSV file and sends the digest', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'document' && response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
    });
    const shot = (name: string): Promise<Buffer> => page.screenshot({ path: `test-results/inventory-${name}.png`, fullPage: true });
    await mkdir('test-results', { recursive: true });

    await page.goto(url('acme.localhost', '/login'));
    await page.fill('#login input[name=email]', ACME.owner.email);
    await page.fill('#login input[name=password]', ACME.owner.password);
    await submit(page, '#login');

    // Pagination: two products a page, by SKU.
    await page.goto(url('acme.localhost', '/products?limit=2'));
    const skus = async (): Promise<string[]> => page.locator('#product-list tbody tr td:first-child').allInnerTexts();
    const first = await skus();
    expect(first).toEqual(['ACME-ANVIL', 'ACME-MAGNET']);
    await follow(page, 'a[rel=next]');
    expect(await skus()).toEqual(['ACME-SEED', 'ACME-SKATES']);
    await shot('products-page-2');
    await follow(page, 'a[rel=first]');
    expect(await skus()).toEqual(first);
    // Product names link to their page.
    await follow(page, '#product-list >> text=Giant magnet');
    expect(await text(page, 'h1')).toContain('Giant magnet');

    // Rename a category; a taken name is refused on its row.
    await follow(page, 'header nav >> text=Categories');
    const transport = page.locator('#category-list tr', { hasText: 'Transport' });
    await transport.locator('input[name=name]').fill('Vehicles');
    await Promise.all([page.waitForNavigation(), transport.locator('button', { hasText: 'Rename' }).click()]);
    expect(await text(page, '.notice')).toBe('Category renamed.');
    const vehicles = page.locator('#category-list tr', { hasText: 'Vehicles' });
    await vehicles.locator('input[name=name]').fill('Tools');
    await Promise.all([page.waitForNavigation(), vehicles.locator('button', { hasText: 'Rename' }).click()]);
    expect(await text(page, '#category-list .field-error')).toBe('is taken');
    expect(await page.locator('#category-list input.invalid').inputValue()).toBe('Tools');
    await shot('categories');
    // Inputs and buttons of a row line up.
    const [input, button] = [await vehicles.locator('input[name=name]').boundingBox(), await vehicles.locator('button', { hasText: 'Rename' }).boundingBox()];
    expect(Math.abs(input!.y + input!.height / 2 - (button!.y + button!.height / 2))).toBeLessThan(2);

    // The team: a colleague joins with the invite code (staff), the owner removes them, then makes a new code.
    await follow(page, 'header nav >> text=Team');
    const code = await text(page, '#invite-code');
    const colleague = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const theirs = await colleague.newPage();
    await theirs.goto(url('acme.localhost', '/signup'));
    await theirs.fill('#signup input[name=inviteCode]', code);
    await theirs.fill('#signup input[name=name]', 'Road Runner');
    await theirs.fill('#signup input[name=email]', 'runner@acme.test');
    await theirs.fill('#signup input[name=password]', 'beep-beep-beep');
    await submit(theirs, '#signup');
    expect(await text(theirs, 'h1')).toBe('Dashboard');
    await theirs.goto(url('acme.localhost', '/team'));
    expect(await theirs.locator('#team-list button').count()).toBe(0); // staff: no controls
    expect(await theirs.locator('#regenerate-invite').count()).toBe(0);

    await page.reload();
    expect(await text(page, '#team-list')).toContain('Road Runner');
    await shot('team');
    await Promise.all([page.waitForNavigation(), page.locator('#team-list tr', { hasText: 'Road Runner' }).locator('button', { hasText: 'Remove' }).click()]);
    expect(await text(page, '.notice')).toBe('Team member removed.');
    expect(await text(page, '#team-list')).not.toContain('Road Runner');
    await submit(page, '#regenerate-invite');
    expect(await text(page, '#invite-code')).not.toBe(code);
    // The removed colleague is logged out.
    await theirs.goto(url('acme.localhost', '/products'));
    expect(theirs.url()).toBe(url('acme.localhost', '/login'));
    await colleague.close();

    // Throttling: the sixth wrong password in a row is refused without checking it.
    const intruder = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const guess = await intruder.newPage();
    await guess.goto(url('acme.localhost', '/login'));
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      await guess.fill('#login input[name=email]', 'nobody@acme.test');
      await guess.fill('#login input[name=password]', `guess number ${attempt}`);
      await submit(guess, '#login');
      if (attempt <= 5) expect(await text(guess, '.error-box')).toContain('Wrong email or password');
    }
    expect(await text(guess, '.error-box')).toContain('Too many failed log-ins: try again in 15 minutes');
    await guess.screenshot({ path: 'test-results/inventory-throttled.png', fullPage: true });
    await intruder.close();

    // CSV: export, import the same file back (nothing changes), then a bad file (nothing imported).
    await follow(page, 'header nav >> text=Products');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const file = 'test-results/inventory-products.csv';
    await download.saveAs(file);
    const exported = await readFile(file, 'utf8');
    expect(exported.split('\n')[0]).toBe('sku,name,category,unit_price,low_stock_threshold,stock');
    await page.setInputFiles('#import-csv input[type=file]', file);
    await submit(page, '#import-csv');
    expect(await text(page, '#import-result')).toBe(`0 created, ${exported.trimEnd().split('\n').length - 1} updated.`);
    await shot('csv-imported');
    const [again] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    expect(await readFile((await again.path())!, 'utf8')).toBe(exported);

    const bad = 'sku,name,unit_price\nNEW-1,Fine,1.00\nNEW-2,Not a price,cheap\n,No SKU,2.00\n';
    await page.setInputFiles('#import-csv input[type=file]', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await submit(page, '#import-csv');
    const problems = await text(page, '#import-errors');
    expect(problems).toContain('2 lines are not valid: nothing was imported');
    expect(problems).toContain('Line 3: unit_price must be an amount like 12.50, got "cheap"');
    expect(problems).toContain('Line 4: sku is required');
    expect(await text(page, '#product-list')).not.toContain('NEW-1');
    await shot('csv-errors');

    // The low-stock digest, now: the job queue's worker writes it; the dashboard shows it.
    await follow(page, 'header nav >> text=Dashboard');
    expect(await text(page, '#digest')).toContain('No digest yet');
    await submit(page, '#send-digest');
    expect(await text(page, '.notice')).toContain('The low-stock digest is on its way');
    for (let attempt = 0; attempt < 50 && (await page.locator('#digest-count').count()) === 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await page.reload();
    }
    expect(await text(page, '#digest-count')).toBe('3');
    expect(await text(page, '#digest-items')).toContain('ACME-SEED');
    await shot('digest');

    expect(errors).toEqual([]);
    await context.close();
  }, 180_000); // a long walk with a dozen password hashes: over a minute on a loaded 2-core machine
});
