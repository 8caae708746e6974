/**
 * The inventory app in a real browser (Chromium through playwright-core): sign a business up on
 * the platform, land on its subdomain, log in, add a product and stock, see it on the
 * dashboard; then open another business and see that the product is not there.
 *
 * Chromium resolves `*.localhost` to the loopback address, so every business gets its own
 * origin (and its own cookies) with no DNS or /etc/hosts setup.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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
  const fixture = useInventory();
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
});
