/**
 * The inventory's domain and database rules, below HTTP: fail-closed scoping, the stock rules
 * the database enforces by itself, passwords, and HTML escaping.
 */
import { readdir, readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTenancyError, quoteIdent } from '../../src/index.js';
import { dashboard } from '../../examples/inventory/domain/dashboard.js';
import { hashPassword, verifyPassword } from '../../examples/inventory/domain/passwords.js';
import { createBusiness } from '../../examples/inventory/domain/businesses.js';
import { listCategories } from '../../examples/inventory/domain/categories.js';
import { importProductsCsv, writeProductCsv } from '../../examples/inventory/domain/product-csv.js';
import { createProduct, listProducts } from '../../examples/inventory/domain/products.js';
import { escapeHtml, html } from '../../examples/inventory/views/html.js';
import { useInventory } from './inventory-fixture.js';

describe('inventory domain', () => {
  const fixture = useInventory();

  it('refuses business queries outside a business (no fallback to the shared schema)', async () => {
    const error = await listProducts(fixture.inventory).catch((caught: unknown) => caught);
    expect(isTenancyError(error) && error.code).toBe('TENANTRY_NO_TENANT');
    const shared = await fixture.inventory.tenancy.runShared(() => listProducts(fixture.inventory)).catch((caught: unknown) => caught);
    expect(isTenancyError(shared) && shared.code).toBe('TENANTRY_NO_TENANT');
  });

  it('keeps each business in its own schema', async () => {
    const { tenancy } = fixture.inventory;
    const acme = await tenancy.run('acme', () => listProducts(fixture.inventory));
    const globex = await tenancy.run('globex', () => listProducts(fixture.inventory));
    expect(acme.every((product) => product.sku.startsWith('ACME-'))).toBe(true);
    expect(globex.every((product) => product.sku.startsWith('GLX-'))).toBe(true);
    const value = await tenancy.run('acme', () => dashboard(fixture.inventory));
    expect(value.stockValueCents).toBe(acme.reduce((sum, product) => sum + product.valueCents, 0));
  });

  it('enforces stock rules in the database, whatever the session’s search_path', async () => {
    // A plain connection of the same database, not through tenantry, with only public on its search_path.
    const schema = quoteIdent((await fixture.inventory.tenancy.registry.get('acme'))!.schema);
    const connection = await fixture.pool.connect();
    try {
      await connection.query('SET search_path TO public');
      const { rows } = await connection.query(`SELECT id, stock FROM ${schema}.products WHERE sku = 'ACME-ANVIL'`);
      const { id, stock } = rows[0] as { id: number; stock: number };
      // The trigger's function is pinned to its own schema: it finds acme's products from here.
      await connection.query(`INSERT INTO ${schema}.stock_movements (product_id, kind, quantity) VALUES ($1, 'in', 1)`, [id]);
      expect((await connection.query(`SELECT stock FROM ${schema}.products WHERE id = $1`, [id])).rows[0].stock).toBe(stock + 1);
      // Below zero: refused by the trigger, with the hint the app maps (a constraint name does not reach the app on Citus).
      await expect(connection.query(`INSERT INTO ${schema}.stock_movements (product_id, kind, quantity) VALUES ($1, 'out', $2)`, [id, stock + 2])).rejects.toMatchObject({
        code: '23514',
        hint: 'insufficient_stock',
        constraint: 'products_stock_check',
      });
      // A negative "in" or "out": refused by the movement's own CHECK.
      await expect(connection.query(`INSERT INTO ${schema}.stock_movements (product_id, kind, quantity) VALUES ($1, 'in', -5)`, [id])).rejects.toMatchObject({
        code: '23514',
        constraint: 'stock_movements_quantity_check',
      });
      // Stock cannot be written directly past zero either.
      await expect(connection.query(`UPDATE ${schema}.products SET stock = -1 WHERE id = $1`, [id])).rejects.toMatchObject({ code: '23514' });
    } finally {
      connection.release(true); // its search_path was changed by hand: do not give it back to the pool
    }
  });

  it('caps products at the plan’s limit, also under concurrent creation', async () => {
    const { inventory } = fixture;
    await fixture.pool.query("INSERT INTO plans (id, name, max_products) VALUES ('tiny', 'Tiny', 2)");
    await inventory.tenancy.runShared(() =>
      createBusiness(inventory, { id: 'tiny-shop', name: 'Tiny shop', plan: 'tiny', ownerName: 'T', email: 't@tiny.test', password: 'tiny-password-1' }),
    );
    const results = await inventory.tenancy.run('tiny-shop', () =>
      Promise.allSettled(Array.from({ length: 6 }, (_, index) => createProduct(inventory, { sku: `T-${index}`, name: `Thing ${index}`, unitPriceCents: 1 }))),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    for (const result of results.filter((each) => each.status === 'rejected')) {
      expect(result.reason).toMatchObject({ status: 403, code: 'plan_limit_reached' });
    }
  });

  it('makes the first user of a business from before roles its owner (tenant migration 006)', async () => {
    const folder = fileURLToPath(new URL('../../examples/inventory/migrations/tenant/', import.meta.url));
    const files = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort();
    const connection = await fixture.pool.connect();
    try {
      await connection.query('CREATE SCHEMA legacy_business; SET search_path TO legacy_business');
      for (const file of files.filter((name) => name < '006')) await connection.query(await readFile(`${folder}${file}`, 'utf8'));
      await connection.query("INSERT INTO users (email, name, password_hash) VALUES ('first@legacy.test', 'First', 'x'), ('second@legacy.test', 'Second', 'x')");
      await connection.query(await readFile(`${folder}${files.find((name) => name.startsWith('006'))!}`, 'utf8'));
      const { rows } = await connection.query('SELECT email, role FROM users ORDER BY id');
      expect(rows).toEqual([
        { email: 'first@legacy.test', role: 'owner' },
        { email: 'second@legacy.test', role: 'staff' },
      ]);
      await expect(connection.query("UPDATE users SET role = 'admin'")).rejects.toMatchObject({ code: '23514' });
    } finally {
      await connection.query('DROP SCHEMA legacy_business CASCADE');
      connection.release(true); // its search_path was changed by hand
    }
  });

  it('imports and exports more products than one page, in one transaction, within the plan', async () => {
    const { inventory } = fixture;
    const { tenancy } = inventory;
    for (const [id, plan] of [['bulk-pro', 'pro'], ['bulk-free', 'free']] as const) {
      await tenancy.runShared(() => createBusiness(inventory, { id, name: id, plan, ownerName: 'B', email: 'b@bulk.test', password: 'bulk-password-1' }));
    }
    const csv = ['sku,name,category,unit_price', ...Array.from({ length: 1_201 }, (_, index) => `BULK-${String(index).padStart(4, '0')},Thing ${index},Group ${index % 3},${index}.25`)].join('\n');
    const exportOf = (id: string): Promise<string> =>
      tenancy.run(id, async () => {
        const chunks: Buffer[] = [];
        const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (chunks.push(chunk), done()) });
        await writeProductCsv(inventory, sink);
        return Buffer.concat(chunks).toString('utf8');
      });

    expect(await tenancy.run('bulk-pro', () => importProductsCsv(inventory, csv))).toEqual({ created: 1_201, updated: 0, categoriesCreated: 3 });
    const exported = await exportOf('bulk-pro');
    expect(exported.trimEnd().split('\n')).toHaveLength(1_202);
    expect(exported).toContain('BULK-1200,Thing 1200,Group 0,1200.25,5,0');
    expect(await tenancy.run('bulk-pro', () => importProductsCsv(inventory, exported))).toEqual({ created: 0, updated: 1_201, categoriesCreated: 0 });
    expect(await exportOf('bulk-pro')).toBe(exported);
    // The free plan holds 50: the whole file is refused, nothing (not even a category) is left behind.
    await expect(tenancy.run('bulk-free', () => importProductsCsv(inventory, csv))).rejects.toMatchObject({ status: 403, code: 'plan_limit_reached' });
    expect(await exportOf('bulk-free')).toBe('sku,name,category,unit_price,low_stock_threshold,stock\n');
    expect(await tenancy.run('bulk-free', () => listCategories(inventory))).toEqual([]);
  });

  it('hashes passwords with scrypt and verifies them', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse battery staple')).not.toBe(stored); // salted
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
    expect(await verifyPassword('anything', 'not a hash')).toBe(false);
    expect(await verifyPassword('anything', 'scrypt$1073741824$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5')).toBe(false); // absurd cost: refused, not run
  });

  it('escapes every interpolated value, and only those', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const name = '<script>alert(1)</script>';
    expect(html`<td title="${name}">${name}</td>`.toString()).toBe(
      '<td title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</td>',
    );
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`, null, undefined, false, 0]}</ul>`.toString()).toBe('<ul>&lt;a&gt;<li>&lt;b&gt;</li>0</ul>');
  });
});
