import express from 'express';
import pg from 'pg';
import { chainResolvers, createTenancy, domainResolver, subdomainResolver } from 'tenantry';
import { tenancyMiddleware } from 'tenantry/express';
import { tenantPool } from 'tenantry/pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const tenancy = createTenancy({
  pool,
  migrations: { tenant: './migrations/tenant' }, // .sql files (or modules), applied in name order
  // acme.localhost → acme (your domain in production); a domain a tenant registered → that tenant
  resolver: chainResolvers(subdomainResolver({ baseDomain: 'localhost' }), domainResolver()),
});

await tenancy.migrate.shared(); // the registry tables, then your shared migrations (if any)
await tenancy.registry.ensure({ id: 'acme', name: 'Acme', domains: ['shop.acme.test'] });
// the first run creates schema tenant_acme, its tables and the registry row in one transaction;
// later runs find acme and leave it as it is
const { warnings } = await tenancy.check(); // the database, the registry, migrations not applied yet
for (const warning of warnings) console.warn(warning);

const db = tenantPool(tenancy, pool); // stands wherever a pg.Pool does
const app = express();
app.use(tenancyMiddleware(tenancy)); // no tenant named 404, unknown 404, suspended 403
app.get('/products', async (_req, res) => {
  res.json((await db.query('SELECT id, name FROM products ORDER BY id')).rows); // tenant_acme.products
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => {
  console.log(`Listening: curl http://acme.localhost:${port}/products`);
  console.log(`       or: curl -H 'Host: shop.acme.test' http://localhost:${port}/products`);
});
