/**
 * A console walk-through of tenantry on the inventory schema: starts PostgreSQL (DATABASE_URL,
 * or an embedded server), creates two businesses, stocks each, and shows that each sees only
 * its own products. Run it with `npm run demo`.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTenancy } from '../../src/index.js';
import { createTestDatabase, startTestServer } from '../../src/testing/index.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const server = await startTestServer({ order: ['url', 'embedded'], log: (line) => console.log(line) });
console.log(`PostgreSQL: ${server.kind === 'url' ? 'DATABASE_URL' : 'embedded server'}`);
const database = await createTestDatabase({ serverUrl: server.url, prefix: 'tenantry_demo' });
const pool = new pg.Pool({ connectionString: database.url });

try {
  const tenancy = createTenancy({
    pool,
    migrations: { shared: here('./migrations/shared'), tenant: here('./migrations/tenant') },
  });
  await tenancy.migrate.shared();

  const businesses = [
    { id: 'acme', name: 'Acme Tools', products: [['ACME-ANVIL', 'Anvil', 4900, 12], ['ACME-ROCKET', 'Rocket skates', 19900, 3]] },
    { id: 'globex', name: 'Globex Supplies', products: [['GLX-WIDGET', 'Widget', 250, 400]] },
  ] as const;

  for (const business of businesses) {
    const tenant = await tenancy.registry.create({ id: business.id, name: business.name, domains: [`${business.id}.localhost`] });
    console.log(`created tenant ${tenant.id} in schema ${tenant.schema} (migrated to ${tenant.migrationVersion})`);
    await inTenantSchema(pool, tenant.schema, async (client) => {
      for (const [sku, name, price, stock] of business.products) {
        const { rows } = await client.query<{ id: number }>(
          'INSERT INTO products (sku, name, unit_price_cents) VALUES ($1, $2, $3) RETURNING id',
          [sku, name, price],
        );
        await client.query("INSERT INTO stock_movements (product_id, kind, quantity, note) VALUES ($1, 'in', $2, 'opening stock')", [rows[0]!.id, stock]);
      }
    });
  }

  for (const business of businesses) {
    await tenancy.run(business.id, async () => {
      const tenant = tenancy.require();
      const products = await inTenantSchema(pool, tenant.schema, (client) =>
        client.query<{ sku: string; name: string; stock: number }>('SELECT sku, name, stock FROM products ORDER BY sku'),
      );
      console.log(`\n${tenant.name} (${tenant.id}) sees ${products.rowCount} product(s):`);
      for (const product of products.rows) console.log(`  ${product.sku.padEnd(12)} ${product.name.padEnd(16)} stock ${product.stock}`);
    });
  }

  const refused = await inTenantSchema(pool, 'tenant_acme', (client) =>
    client.query("INSERT INTO stock_movements (product_id, kind, quantity) VALUES (1, 'out', 1000)").then(
      () => 'accepted',
      (error: Error) => error.message,
    ),
  );
  console.log(`\nTaking 1000 anvils out of acme's stock: refused by the database (${refused})`);
} finally {
  await pool.end();
  await database.drop();
  await server.stop();
}

/** Runs `fn` in a transaction whose search_path is the tenant's schema (tenantPool will do this for you). */
async function inTenantSchema<R>(pool: pg.Pool, schema: string, fn: (client: pg.PoolClient) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT set_config('search_path', $1, true)", [`"${schema}", public`]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
