/**
 * tenantPlugin over tenantPool, shape by shape: every Kysely query shape below is compiled and
 * run for two tenants, against real PostgreSQL. For each one the SQL actually sent (Kysely's
 * query log) must name the active tenant's schema on every tenant table, name no other tenant's
 * schema, and leave shared tables and CTE names unqualified; the rows must be exactly the
 * active tenant's; and the other tenant's tables must be untouched.
 */
import { createRequire } from 'node:module';
import {
  type CompiledQuery,
  type Generated,
  Kysely,
  PostgresDialect,
  type PostgresCursorConstructor,
  type PostgresPool,
  sql,
} from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, NoTenantError, type Tenancy, type Tenant } from '../../src/index.js';
import { kyselyMigrations, tenantPlugin } from '../../src/kysely/index.js';
import { tenantPool } from '../../src/pg/index.js';
import { useTestDatabase } from '../helpers/database.js';

// pg-cursor ships no types; Kysely describes the constructor it needs.
const Cursor = createRequire(import.meta.url)('pg-cursor') as PostgresCursorConstructor;

const database = useTestDatabase();

interface PlanTable {
  id: string;
  name: string;
  max_products: number;
}

interface Database {
  // shared (public)
  plans: PlanTable;
  'public.plans': PlanTable;
  currencies: { code: string; symbol: string };
  // tenant tables; `owner` defaults to the schema the row lives in
  categories: { id: number; name: string; parent_id: number | null; owner: Generated<string> };
  products: { id: number; name: string; price: number; category_id: number | null; currency: string; owner: Generated<string> };
  orders: { id: Generated<number>; product_id: number; quantity: number; note: string | null; owner: Generated<string> };
  stock: { product_id: number; quantity: number; owner: Generated<string> };
}

const TENANT_TABLES = ['categories', 'products', 'orders', 'stock'] as const;
const SHARED_TABLES = ['plans', 'currencies'] as const;

interface Category {
  id: number;
  name: string;
  parent_id: number | null;
}
interface Product {
  id: number;
  name: string;
  price: number;
  category_id: number | null;
  currency: string;
}
interface Order {
  id: number;
  product_id: number;
  quantity: number;
  note: string | null;
}
interface Stock {
  product_id: number;
  quantity: number;
}

/** One tenant's rows, and what the checks compute their expectations from. */
interface Seed {
  readonly id: string;
  readonly schema: string;
  readonly categories: readonly Category[];
  readonly products: readonly Product[];
  readonly orders: readonly Order[];
  readonly stock: readonly Stock[];
}

/** Different shapes of data for each tenant, so a leak changes counts as well as names. */
const SEEDS: readonly Seed[] = [
  {
    id: 'acme',
    schema: 'tenant_acme',
    categories: [
      { id: 1, name: 'acme-tools', parent_id: null },
      { id: 2, name: 'acme-hammers', parent_id: 1 },
      { id: 3, name: 'acme-claws', parent_id: 2 },
      { id: 4, name: 'acme-empty', parent_id: null },
    ],
    products: [
      { id: 1, name: 'acme-hammer', price: 12, category_id: 2, currency: 'EUR' },
      { id: 2, name: 'acme-saw', price: 20, category_id: 1, currency: 'EUR' },
      { id: 3, name: 'acme-nail', price: 1, category_id: 3, currency: 'USD' },
    ],
    orders: [
      { id: 1, product_id: 1, quantity: 2, note: 'first' },
      { id: 2, product_id: 1, quantity: 3, note: null },
      { id: 3, product_id: 2, quantity: 1, note: null },
    ],
    stock: [
      { product_id: 1, quantity: 100 },
      { product_id: 2, quantity: 50 },
    ],
  },
  {
    id: 'globex',
    schema: 'tenant_globex',
    categories: [
      { id: 1, name: 'globex-tools', parent_id: null },
      { id: 2, name: 'globex-paint', parent_id: null },
      { id: 3, name: 'globex-brushes', parent_id: 2 },
      { id: 4, name: 'globex-rollers', parent_id: 3 },
      { id: 5, name: 'globex-unused', parent_id: null },
    ],
    products: [
      { id: 1, name: 'globex-drill', price: 50, category_id: 1, currency: 'USD' },
      { id: 2, name: 'globex-brush', price: 5, category_id: 3, currency: 'USD' },
      { id: 3, name: 'globex-roller', price: 8, category_id: 4, currency: 'GBP' },
      { id: 4, name: 'globex-primer', price: 15, category_id: 2, currency: 'USD' },
      { id: 5, name: 'globex-gift', price: 30, category_id: null, currency: 'EUR' },
    ],
    orders: [
      { id: 1, product_id: 3, quantity: 4, note: 'rush' },
      { id: 2, product_id: 4, quantity: 1, note: null },
    ],
    stock: [{ product_id: 3, quantity: 7 }],
  },
];

const CURRENCIES = [
  { code: 'EUR', symbol: '€' },
  { code: 'GBP', symbol: '£' },
  { code: 'USD', symbol: '$' },
];
const PLANS: readonly PlanTable[] = [
  { id: 'free', name: 'Free', max_products: 5 },
  { id: 'pro', name: 'Pro', max_products: 100 },
];

/** The rows of one tenant's tables, read with qualified SQL on the admin pool. */
interface Snapshot {
  categories: (Category & { owner: string })[];
  products: (Product & { owner: string })[];
  orders: (Order & { owner: string })[];
  stock: (Stock & { owner: string })[];
}

type Rows = readonly Record<string, unknown>[];

/**
 * One query shape. `build` returns a builder (compiled, then executed); `run` stands for shapes
 * that are not one builder (raw `sql`, transactions, streams).
 */
interface Shape {
  readonly name: string;
  readonly build?: (db: Kysely<Database>, seed: Seed) => { compile(): CompiledQuery; execute(): Promise<readonly unknown[]> };
  readonly run?: (db: Kysely<Database>, seed: Seed) => Promise<readonly unknown[]>;
  /** Tenant tables that must appear qualified: `"tenant_x"."table"`. */
  readonly qualified: readonly string[];
  /** Names that must appear bare (shared tables, CTE names, row variables) and never tenant-qualified (unless also in `qualified`). */
  readonly unqualified?: readonly string[];
  /** The exact SQL sent for the first tenant (acme), for the shapes the docs quote. */
  readonly sql?: string;
  /** Extra checks of one statement's text. */
  readonly checkSql?: (text: string, seed: Seed) => void;
  /** Checks the rows, and (for writes) the tenant's tables afterwards. */
  readonly check: (rows: Rows, seed: Seed, after: Snapshot) => void;
  /** Writes: the tenants are seeded again after the shape. */
  readonly mutates?: boolean;
  /** Raw SQL (`sql` templates, helpers built on them) or DDL: never marked as fully qualified. */
  readonly raw?: boolean;
}

const byId = <T extends { id: number }>(items: readonly T[], id: number | null): T | undefined => items.find((item) => item.id === id);
const names = (rows: Rows, key = 'name'): unknown[] => rows.map((row) => row[key]);
const sortedBy = <T>(items: readonly T[], key: (item: T) => string | number): T[] =>
  [...items].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
const orderedQuantity = (seed: Seed, productId: number): number =>
  seed.orders.filter((order) => order.product_id === productId).reduce((sum, order) => sum + order.quantity, 0);

const SHAPES: readonly Shape[] = [
  // ── selects ──────────────────────────────────────────────────────────────
  {
    name: 'selectAll',
    build: (db) => db.selectFrom('products').selectAll().orderBy('id'),
    qualified: ['products'],
    sql: 'select * from "tenant_acme"."products" order by "id"',
    check: (rows, seed) => expect(rows).toEqual(seed.products.map((p) => ({ ...p, owner: seed.schema }))),
  },
  {
    name: 'select columns',
    build: (db) => db.selectFrom('products').select(['id', 'name', 'price']).orderBy('id'),
    qualified: ['products'],
    check: (rows, seed) => expect(rows).toEqual(seed.products.map(({ id, name, price }) => ({ id, name, price }))),
  },
  {
    name: 'select qualified columns (products.name)',
    build: (db) => db.selectFrom('products').select(['products.id', 'products.name']).orderBy('products.id'),
    qualified: ['products'],
    sql: 'select "tenant_acme"."products"."id", "tenant_acme"."products"."name" from "tenant_acme"."products" order by "tenant_acme"."products"."id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.map((p) => p.name)),
  },
  {
    name: 'table alias (products as p)',
    build: (db) => db.selectFrom('products as p').select(['p.id', 'p.name']).where('p.price', '>', 10).orderBy('p.id'),
    qualified: ['products'],
    sql: 'select "p"."id", "p"."name" from "tenant_acme"."products" as "p" where "p"."price" > $1 order by "p"."id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => p.price > 10).map((p) => p.name)),
  },
  {
    name: 'column aliases',
    build: (db) => db.selectFrom('products').select(['name as title', 'price as cost']).orderBy('cost', 'desc'),
    qualified: ['products'],
    check: (rows, seed) =>
      expect(rows).toEqual(sortedBy(seed.products, (p) => -p.price).map((p) => ({ title: p.name, cost: p.price }))),
  },
  {
    name: 'where with refs',
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .where((eb) => eb('products.price', '>', eb.ref('products.id')))
        .where('products.category_id', 'is not', null)
        .orderBy('name'),
    qualified: ['products'],
    check: (rows, seed) =>
      expect(names(rows)).toEqual(seed.products.filter((p) => p.price > p.id && p.category_id !== null).map((p) => p.name).sort()),
  },
  {
    name: 'distinct',
    build: (db) => db.selectFrom('products').select('currency').distinct().orderBy('currency'),
    qualified: ['products'],
    check: (rows, seed) => expect(names(rows, 'currency')).toEqual([...new Set(seed.products.map((p) => p.currency))].sort()),
  },
  {
    name: 'distinct on',
    build: (db) =>
      db.selectFrom('products').distinctOn('currency').select(['currency', 'name']).orderBy('currency').orderBy('price', 'desc'),
    qualified: ['products'],
    check: (rows, seed) => {
      const expected = [...new Set(seed.products.map((p) => p.currency))].sort().map((currency) => ({
        currency,
        name: sortedBy(seed.products.filter((p) => p.currency === currency), (p) => -p.price)[0]!.name,
      }));
      expect(rows).toEqual(expected);
    },
  },
  {
    name: 'order by, limit, offset',
    build: (db) => db.selectFrom('products').select('name').orderBy('price', 'desc').limit(2).offset(1),
    qualified: ['products'],
    check: (rows, seed) => expect(names(rows)).toEqual(sortedBy(seed.products, (p) => -p.price).slice(1, 3).map((p) => p.name)),
  },
  {
    name: 'group by, having, aggregates',
    build: (db) =>
      db
        .selectFrom('orders')
        .select((eb) => ['product_id', eb.fn.count<string>('id').as('n'), eb.fn.sum<string>('quantity').as('total'), eb.fn.max('quantity').as('most')])
        .groupBy('product_id')
        .having((eb) => eb.fn.sum('quantity'), '>=', 1)
        .orderBy('product_id'),
    qualified: ['orders'],
    check: (rows, seed) => {
      const ids = [...new Set(seed.orders.map((o) => o.product_id))].sort((a, b) => a - b);
      expect(rows.map((r) => ({ ...r, n: Number(r.n), total: Number(r.total) }))).toEqual(
        ids.map((id) => {
          const mine = seed.orders.filter((o) => o.product_id === id);
          return { product_id: id, n: mine.length, total: orderedQuantity(seed, id), most: Math.max(...mine.map((o) => o.quantity)) };
        }),
      );
    },
  },
  {
    name: 'case',
    build: (db) =>
      db
        .selectFrom('products')
        .select((eb) => ['name', eb.case().when('price', '>=', 15).then('expensive').else('cheap').end().as('band')])
        .orderBy('id'),
    qualified: ['products'],
    check: (rows, seed) => expect(rows).toEqual(seed.products.map((p) => ({ name: p.name, band: p.price >= 15 ? 'expensive' : 'cheap' }))),
  },
  {
    name: 'window function (rank over partition)',
    build: (db) =>
      db
        .selectFrom('products')
        .select((eb) => ['name', eb.fn.agg<string>('rank').over((ob) => ob.partitionBy('currency').orderBy('price', 'desc')).as('rank')])
        .orderBy('id'),
    qualified: ['products'],
    check: (rows, seed) =>
      expect(rows.map((r) => ({ name: r.name, rank: Number(r.rank) }))).toEqual(
        seed.products.map((p) => ({ name: p.name, rank: 1 + seed.products.filter((q) => q.currency === p.currency && q.price > p.price).length })),
      ),
  },
  {
    name: 'json_agg of a table (row variable stays bare)',
    build: (db) => db.selectFrom('products').select((eb) => eb.fn.jsonAgg('products').orderBy('products.id').as('all')),
    qualified: ['products'],
    unqualified: ['products'],
    sql: 'select json_agg("products" order by "tenant_acme"."products"."id") as "all" from "tenant_acme"."products"',
    check: (rows, seed) => {
      const all = rows[0]!.all as { name: string; owner: string }[];
      expect(all.map((p) => p.name)).toEqual(seed.products.map((p) => p.name));
      expect(new Set(all.map((p) => p.owner))).toEqual(new Set([seed.schema]));
    },
  },
  {
    name: 'to_json of an aliased row',
    build: (db) => db.selectFrom('products as p').select((eb) => eb.fn.toJson('p').as('row')).orderBy('p.id'),
    qualified: ['products'],
    checkSql: (text) => expect(text).toContain('to_json("p")'),
    check: (rows, seed) => expect(rows.map((r) => (r.row as { name: string }).name)).toEqual(seed.products.map((p) => p.name)),
  },
  {
    name: 'selectNoFrom with scalar subqueries of tenant and shared tables',
    build: (db) =>
      db.selectNoFrom((eb) => [
        eb.selectFrom('products').select((e) => e.fn.countAll<string>().as('n')).as('products'),
        eb.selectFrom('plans').select((e) => e.fn.countAll<string>().as('n')).as('plans'),
      ]),
    qualified: ['products'],
    unqualified: ['plans', 'products'],
    check: (rows, seed) => expect(rows.map((r) => ({ products: Number(r.products), plans: Number(r.plans) }))).toEqual([{ products: seed.products.length, plans: PLANS.length }]),
  },
  {
    name: 'explain',
    run: (db) => db.selectFrom('products').select('name').where('id', '=', 1).explain<{ 'QUERY PLAN': string }>(),
    qualified: ['products'],
    sql: 'explain select "name" from "tenant_acme"."products" where "id" = $1',
    check: (rows) => expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Scan .*on products/),
  },
  {
    name: 'jsonArrayFrom (kysely/helpers/postgres)',
    raw: true,
    build: (db) =>
      db
        .selectFrom('categories')
        .select((eb) => [
          'categories.name',
          jsonArrayFrom(eb.selectFrom('products').select(['products.name']).whereRef('products.category_id', '=', 'categories.id').orderBy('products.id')).as(
            'items',
          ),
        ])
        .orderBy('categories.id'),
    qualified: ['categories', 'products'],
    check: (rows, seed) =>
      expect(rows).toEqual(
        seed.categories.map((c) => ({ name: c.name, items: seed.products.filter((p) => p.category_id === c.id).map((p) => ({ name: p.name })) })),
      ),
  },

  // ── joins ────────────────────────────────────────────────────────────────
  {
    name: 'inner join',
    build: (db) =>
      db
        .selectFrom('products')
        .innerJoin('categories', 'categories.id', 'products.category_id')
        .select(['products.name', 'categories.name as category'])
        .orderBy('products.id'),
    qualified: ['products', 'categories'],
    sql: 'select "tenant_acme"."products"."name", "tenant_acme"."categories"."name" as "category" from "tenant_acme"."products" inner join "tenant_acme"."categories" on "tenant_acme"."categories"."id" = "tenant_acme"."products"."category_id" order by "tenant_acme"."products"."id"',
    check: (rows, seed) =>
      expect(rows).toEqual(
        seed.products.filter((p) => p.category_id !== null).map((p) => ({ name: p.name, category: byId(seed.categories, p.category_id)!.name })),
      ),
  },
  {
    name: 'left join',
    build: (db) =>
      db
        .selectFrom('categories')
        .leftJoin('products', 'products.category_id', 'categories.id')
        .select(['categories.name as category', 'products.name as product'])
        .orderBy('categories.id')
        .orderBy('products.id'),
    qualified: ['products', 'categories'],
    check: (rows, seed) =>
      expect(rows).toEqual(
        seed.categories.flatMap((c): { category: string; product: string | null }[] => {
          const mine = seed.products.filter((p) => p.category_id === c.id);
          return mine.length === 0 ? [{ category: c.name, product: null }] : mine.map((p) => ({ category: c.name, product: p.name }));
        }),
      ),
  },
  {
    name: 'right join',
    build: (db) =>
      db
        .selectFrom('products')
        .rightJoin('categories', 'categories.id', 'products.category_id')
        .select(['categories.name as category'])
        .where('products.id', 'is', null)
        .orderBy('categories.id'),
    qualified: ['products', 'categories'],
    check: (rows, seed) =>
      expect(names(rows, 'category')).toEqual(seed.categories.filter((c) => !seed.products.some((p) => p.category_id === c.id)).map((c) => c.name)),
  },
  {
    name: 'full join',
    build: (db) =>
      db
        .selectFrom('products')
        .fullJoin('categories', 'categories.id', 'products.category_id')
        .select(['products.name as product', 'categories.name as category'])
        .where((eb) => eb.or([eb('products.id', 'is', null), eb('categories.id', 'is', null)]))
        .orderBy('product')
        .orderBy('category'),
    qualified: ['products', 'categories'],
    check: (rows, seed) => {
      const orphans = seed.products.filter((p) => p.category_id === null).map((p) => ({ product: p.name, category: null }));
      const empty = seed.categories.filter((c) => !seed.products.some((p) => p.category_id === c.id)).map((c) => ({ product: null, category: c.name }));
      expect(rows).toEqual([...sortedBy(orphans, (r) => r.product), ...sortedBy(empty, (r) => r.category)]);
    },
  },
  {
    name: 'joins with aliases (self-join)',
    build: (db) =>
      db
        .selectFrom('categories as c')
        .innerJoin('categories as parent', 'parent.id', 'c.parent_id')
        .innerJoin('products as p', 'p.category_id', 'c.id')
        .select(['p.name as product', 'c.name as category', 'parent.name as parent'])
        .orderBy('p.id'),
    qualified: ['products', 'categories'],
    sql: 'select "p"."name" as "product", "c"."name" as "category", "parent"."name" as "parent" from "tenant_acme"."categories" as "c" inner join "tenant_acme"."categories" as "parent" on "parent"."id" = "c"."parent_id" inner join "tenant_acme"."products" as "p" on "p"."category_id" = "c"."id" order by "p"."id"',
    check: (rows, seed) =>
      expect(rows).toEqual(
        seed.products.flatMap((p) => {
          const category = byId(seed.categories, p.category_id);
          const parent = category && byId(seed.categories, category.parent_id);
          return category && parent ? [{ product: p.name, category: category.name, parent: parent.name }] : [];
        }),
      ),
  },
  {
    name: 'comma join (selectFrom([a, b])) and cross join',
    build: (db) =>
      db
        .selectFrom(['products', 'stock'])
        .crossJoin('categories')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .whereRef('stock.product_id', '=', 'products.id'),
    qualified: ['products', 'stock', 'categories'],
    check: (rows, seed) => expect(Number(rows[0]!.n)).toBe(seed.stock.length * seed.categories.length),
  },
  {
    name: 'lateral join (innerJoinLateral)',
    build: (db) =>
      db
        .selectFrom('products')
        .innerJoinLateral(
          (eb) =>
            eb
              .selectFrom('orders')
              .select(['orders.id as order_id', 'orders.quantity'])
              .whereRef('orders.product_id', '=', 'products.id')
              .orderBy('orders.id', 'desc')
              .limit(1)
              .as('latest'),
          (join) => join.onTrue(),
        )
        .select(['products.name', 'latest.order_id', 'latest.quantity'])
        .orderBy('products.id'),
    qualified: ['products', 'orders'],
    check: (rows, seed) =>
      expect(rows).toEqual(
        seed.products.flatMap((p) => {
          const latest = sortedBy(seed.orders.filter((o) => o.product_id === p.id), (o) => -o.id)[0];
          return latest ? [{ name: p.name, order_id: latest.id, quantity: latest.quantity }] : [];
        }),
      ),
  },
  {
    name: 'lateral join (leftJoinLateral) with an aggregate',
    build: (db) =>
      db
        .selectFrom('products as p')
        .leftJoinLateral(
          (eb) => eb.selectFrom('orders').select((e) => e.fn.sum<string>('orders.quantity').as('total')).whereRef('orders.product_id', '=', 'p.id').as('o'),
          (join) => join.onTrue(),
        )
        .select(['p.name', 'o.total'])
        .orderBy('p.id'),
    qualified: ['products', 'orders'],
    check: (rows, seed) =>
      expect(rows.map((r) => ({ name: r.name, total: r.total === null ? null : Number(r.total) }))).toEqual(
        seed.products.map((p) => ({ name: p.name, total: seed.orders.some((o) => o.product_id === p.id) ? orderedQuantity(seed, p.id) : null })),
      ),
  },

  // ── subqueries ───────────────────────────────────────────────────────────
  {
    name: 'subquery in where (in)',
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .where('id', 'in', db.selectFrom('orders').select('product_id'))
        .orderBy('id'),
    qualified: ['products', 'orders'],
    sql: 'select "name" from "tenant_acme"."products" where "id" in (select "product_id" from "tenant_acme"."orders") order by "id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => seed.orders.some((o) => o.product_id === p.id)).map((p) => p.name)),
  },
  {
    name: 'subquery in select (correlated)',
    raw: true,
    build: (db) =>
      db
        .selectFrom('products')
        .select((eb) => [
          'products.name',
          eb
            .selectFrom('orders')
            .select((e) => e.fn.coalesce(e.fn.sum<number>('orders.quantity'), sql<number>`0`).as('q'))
            .whereRef('orders.product_id', '=', 'products.id')
            .as('ordered'),
        ])
        .orderBy('products.id'),
    qualified: ['products', 'orders'],
    check: (rows, seed) =>
      expect(rows.map((r) => ({ name: r.name, ordered: Number(r.ordered) }))).toEqual(seed.products.map((p) => ({ name: p.name, ordered: orderedQuantity(seed, p.id) }))),
  },
  {
    name: 'subquery in from (selectFrom(sub.as(x)))',
    build: (db) =>
      db
        .selectFrom(db.selectFrom('products').select(['id', 'price']).where('price', '>', 5).as('x'))
        .select((eb) => [eb.fn.count<string>('x.id').as('n'), eb.fn.sum<string>('x.price').as('total')]),
    qualified: ['products'],
    unqualified: ['x'],
    check: (rows, seed) => {
      const expensive = seed.products.filter((p) => p.price > 5);
      expect(rows.map((r) => ({ n: Number(r.n), total: Number(r.total) }))).toEqual([
        { n: expensive.length, total: expensive.reduce((sum, p) => sum + p.price, 0) },
      ]);
    },
  },
  {
    name: 'nested subqueries (two levels)',
    build: (db) =>
      db
        .selectFrom('categories')
        .select('name')
        .where('id', 'in', (eb) =>
          eb.selectFrom('products').select('category_id').where('id', 'in', (eb2) => eb2.selectFrom('stock').select('product_id').where('quantity', '>', 0)),
        )
        .orderBy('id'),
    qualified: ['categories', 'products', 'stock'],
    check: (rows, seed) => {
      const stocked = seed.products.filter((p) => seed.stock.some((s) => s.product_id === p.id && s.quantity > 0));
      expect(names(rows)).toEqual(seed.categories.filter((c) => stocked.some((p) => p.category_id === c.id)).map((c) => c.name));
    },
  },
  {
    name: 'exists',
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .where((eb) => eb.exists(eb.selectFrom('stock').select('stock.product_id').whereRef('stock.product_id', '=', 'products.id')))
        .orderBy('id'),
    qualified: ['products', 'stock'],
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => seed.stock.some((s) => s.product_id === p.id)).map((p) => p.name)),
  },
  {
    name: 'not exists',
    build: (db) =>
      db
        .selectFrom('products as p')
        .select('p.name')
        .where((eb) => eb.not(eb.exists(eb.selectFrom('orders as o').select('o.id').whereRef('o.product_id', '=', 'p.id'))))
        .orderBy('p.id'),
    qualified: ['products', 'orders'],
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => !seed.orders.some((o) => o.product_id === p.id)).map((p) => p.name)),
  },

  // ── CTEs ─────────────────────────────────────────────────────────────────
  {
    name: 'CTE (with)',
    build: (db) =>
      db
        .with('cheap', (qb) => qb.selectFrom('products').select(['id', 'name']).where('price', '<', 15))
        .selectFrom('cheap')
        .select('cheap.name')
        .orderBy('cheap.id'),
    qualified: ['products'],
    unqualified: ['cheap'],
    sql: 'with "cheap" as (select "id", "name" from "tenant_acme"."products" where "price" < $1) select "cheap"."name" from "cheap" order by "cheap"."id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => p.price < 15).map((p) => p.name)),
  },
  {
    name: 'two CTEs, the second reading the first and a tenant table',
    build: (db) =>
      db
        .with('busy', (qb) => qb.selectFrom('orders').select('product_id').groupBy('product_id'))
        .with('busy_names', (qb) => qb.selectFrom('busy').innerJoin('products', 'products.id', 'busy.product_id').select(['products.id', 'products.name']))
        .selectFrom('busy_names')
        .select('name')
        .orderBy('id'),
    qualified: ['products', 'orders'],
    unqualified: ['busy', 'busy_names'],
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => seed.orders.some((o) => o.product_id === p.id)).map((p) => p.name)),
  },
  {
    name: 'withRecursive (category tree)',
    raw: true,
    build: (db) =>
      db
        .withRecursive('tree(id, name, depth)', (qb) =>
          qb
            .selectFrom('categories')
            .select(['id', 'name', sql<number>`0`.as('depth')])
            .where('parent_id', 'is', null)
            .unionAll(
              qb
                .selectFrom('categories as child')
                .innerJoin('tree', 'tree.id', 'child.parent_id')
                .select(['child.id', 'child.name', sql<number>`tree.depth + 1`.as('depth')]),
            ),
        )
        .selectFrom('tree')
        .select(['name', 'depth'])
        .orderBy('depth')
        .orderBy('id'),
    qualified: ['categories'],
    unqualified: ['tree'],
    sql: 'with recursive "tree"("id", "name", "depth") as (select "id", "name", 0 as "depth" from "tenant_acme"."categories" where "parent_id" is null union all select "child"."id", "child"."name", tree.depth + 1 as "depth" from "tenant_acme"."categories" as "child" inner join "tree" on "tree"."id" = "child"."parent_id") select "name", "depth" from "tree" order by "depth", "id"',
    check: (rows, seed) => {
      const depth = (c: Category): number => (c.parent_id === null ? 0 : 1 + depth(byId(seed.categories, c.parent_id)!));
      expect(rows).toEqual(sortedBy(seed.categories, (c) => depth(c) * 100 + c.id).map((c) => ({ name: c.name, depth: depth(c) })));
    },
  },
  {
    name: 'CTE shadowing a tenant table name (its body reads the real table)',
    build: (db) =>
      db
        .with('products', (qb) => qb.selectFrom('products').select(['id', 'name']).where('price', '>', 10))
        .selectFrom('products')
        .select('products.name')
        .orderBy('products.id'),
    // Without RECURSIVE a CTE's own body cannot see it: there `products` is the tenant's table.
    qualified: ['products'],
    unqualified: ['products'],
    sql: 'with "products" as (select "id", "name" from "tenant_acme"."products" where "price" > $1) select "products"."name" from "products" order by "products"."id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => p.price > 10).map((p) => p.name)),
  },
  {
    name: 'CTE shadowing a tenant table inside a subquery of a statement that reads the table',
    build: (db) =>
      db
        .selectFrom('orders')
        .select(['orders.id'])
        .where('orders.product_id', 'in', (eb) =>
          eb
            .selectFrom('products')
            .select('products.id')
            .where('products.id', 'in', db.with('orders', (qb) => qb.selectFrom('stock').select('product_id as pid')).selectFrom('orders').select('orders.pid')),
        )
        .orderBy('orders.id'),
    qualified: ['orders', 'products', 'stock'],
    unqualified: ['orders'],
    check: (rows, seed) => expect(names(rows, 'id')).toEqual(seed.orders.filter((o) => seed.stock.some((s) => s.product_id === o.product_id)).map((o) => o.id)),
  },
  {
    name: 'CTE list where a later CTE shadows the tenant table an earlier one reads',
    build: (db) =>
      db
        .with('cheap', (qb) => qb.selectFrom('products').select(['id', 'name']).where('price', '<', 15))
        .with('products', (qb) => qb.selectFrom('cheap').select(['cheap.id', 'cheap.name']))
        .selectFrom('products')
        .select('products.name')
        .orderBy('products.id'),
    qualified: ['products'],
    unqualified: ['cheap', 'products'],
    sql: 'with "cheap" as (select "id", "name" from "tenant_acme"."products" where "price" < $1), "products" as (select "cheap"."id", "cheap"."name" from "cheap") select "products"."name" from "products" order by "products"."id"',
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => p.price < 15).map((p) => p.name)),
  },
  {
    name: 'CTE referencing a shared table',
    build: (db) =>
      db
        .with('symbols', (qb) => qb.selectFrom('currencies').select(['code', 'symbol']))
        .selectFrom('products')
        .innerJoin('symbols', 'symbols.code', 'products.currency')
        .select(['products.name', 'symbols.symbol'])
        .orderBy('products.id'),
    qualified: ['products'],
    unqualified: ['currencies', 'symbols'],
    check: (rows, seed) =>
      expect(rows).toEqual(seed.products.map((p) => ({ name: p.name, symbol: CURRENCIES.find((c) => c.code === p.currency)!.symbol }))),
  },

  // ── set operations ───────────────────────────────────────────────────────
  {
    name: 'union',
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .union(db.selectFrom('categories').select('name'))
        .orderBy('name'),
    qualified: ['products', 'categories'],
    check: (rows, seed) => expect(names(rows)).toEqual([...seed.products.map((p) => p.name), ...seed.categories.map((c) => c.name)].sort()),
  },
  {
    name: 'intersect',
    build: (db) =>
      db
        .selectFrom('products')
        .select('category_id as id')
        .intersect(db.selectFrom('categories').select('id').where('parent_id', 'is not', null))
        .orderBy('id'),
    qualified: ['products', 'categories'],
    check: (rows, seed) =>
      expect(names(rows, 'id')).toEqual(
        seed.categories.filter((c) => c.parent_id !== null && seed.products.some((p) => p.category_id === c.id)).map((c) => c.id),
      ),
  },
  {
    name: 'except',
    build: (db) =>
      db
        .selectFrom('products')
        .select('id')
        .except(db.selectFrom('stock').select('product_id as id'))
        .orderBy('id'),
    qualified: ['products', 'stock'],
    check: (rows, seed) => expect(names(rows, 'id')).toEqual(seed.products.filter((p) => !seed.stock.some((s) => s.product_id === p.id)).map((p) => p.id)),
  },

  // ── shared tables ────────────────────────────────────────────────────────
  {
    name: 'shared table only, in a tenant',
    build: (db) => db.selectFrom('plans').selectAll().orderBy('id'),
    qualified: [],
    unqualified: ['plans'],
    sql: 'select * from "plans" order by "id"',
    check: (rows) => expect(rows).toEqual(PLANS),
  },
  {
    name: 'mixing shared and tenant tables (join)',
    build: (db) =>
      db
        .selectFrom('products')
        .innerJoin('currencies', 'currencies.code', 'products.currency')
        .select(['products.name', 'currencies.symbol'])
        .orderBy('products.id'),
    qualified: ['products'],
    unqualified: ['currencies'],
    sql: 'select "tenant_acme"."products"."name", "currencies"."symbol" from "tenant_acme"."products" inner join "currencies" on "currencies"."code" = "tenant_acme"."products"."currency" order by "tenant_acme"."products"."id"',
    check: (rows, seed) =>
      expect(rows).toEqual(seed.products.map((p) => ({ name: p.name, symbol: CURRENCIES.find((c) => c.code === p.currency)!.symbol }))),
  },
  {
    name: 'shared table in a subquery of a tenant query',
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .where('currency', 'in', (eb) => eb.selectFrom('currencies').select('code').where('symbol', '=', '$'))
        .orderBy('id'),
    qualified: ['products'],
    unqualified: ['currencies'],
    check: (rows, seed) => expect(names(rows)).toEqual(seed.products.filter((p) => p.currency === 'USD').map((p) => p.name)),
  },
  {
    name: 'already-qualified public.plans is left alone',
    build: (db) =>
      db
        .selectFrom('products')
        .innerJoin('public.plans', (join) => join.on('public.plans.id', '=', 'pro'))
        .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('public.plans.max_products').as('cap')]),
    qualified: ['products'],
    checkSql: (text) => {
      expect(text).toContain('inner join "public"."plans" on "public"."plans"."id" = $1');
    },
    check: (rows, seed) => expect(rows.map((r) => ({ n: Number(r.n), cap: r.cap }))).toEqual([{ n: seed.products.length, cap: 100 }]),
  },

  // ── raw SQL (covered by tenantPool's search_path, not by the plugin) ─────
  {
    name: 'raw sql fragment in a select list',
    raw: true,
    build: (db) =>
      db
        .selectFrom('products')
        .select(['products.name', sql<string>`(select count(*) from orders o where o.product_id = products.id)`.as('n')])
        .orderBy('products.id'),
    qualified: ['products'],
    checkSql: (text) => expect(text).toContain('(select count(*) from orders o where o.product_id = products.id)'),
    check: (rows, seed) =>
      expect(rows.map((r) => ({ name: r.name, n: Number(r.n) }))).toEqual(
        seed.products.map((p) => ({ name: p.name, n: seed.orders.filter((o) => o.product_id === p.id).length })),
      ),
  },
  {
    name: 'raw sql fragment in where',
    raw: true,
    build: (db) =>
      db
        .selectFrom('products')
        .select('name')
        .where(sql<boolean>`category_id in (select id from categories where parent_id is null)`)
        .orderBy('id'),
    qualified: ['products'],
    checkSql: (text) => expect(text).toContain('category_id in (select id from categories where parent_id is null)'),
    check: (rows, seed) =>
      expect(names(rows)).toEqual(seed.products.filter((p) => byId(seed.categories, p.category_id)?.parent_id === null).map((p) => p.name)),
  },
  {
    name: 'sql`…`.execute(db) raw query',
    raw: true,
    run: async (db) => (await sql<{ name: string; owner: string }>`select name, owner from products order by id`.execute(db)).rows,
    qualified: [],
    sql: 'select name, owner from products order by id',
    check: (rows, seed) => expect(rows).toEqual(seed.products.map((p) => ({ name: p.name, owner: seed.schema }))),
  },
  {
    name: 'sql`…` with sql.table / sql.ref (not rewritten outside a builder)',
    raw: true,
    run: async (db) =>
      (await sql<{ n: string }>`select count(*) as n from ${sql.table('orders')} where ${sql.ref('orders.quantity')} > ${1}`.execute(db)).rows,
    qualified: [],
    unqualified: ['orders'],
    check: (rows, seed) => expect(Number(rows[0]!.n)).toBe(seed.orders.filter((o) => o.quantity > 1).length),
  },

  // ── writes ───────────────────────────────────────────────────────────────
  {
    name: 'insert values, returning',
    build: (db, seed) =>
      db.insertInto('orders').values({ product_id: seed.products[0]!.id, quantity: 9, note: `${seed.id}-new` }).returning(['id', 'note', 'owner']),
    qualified: ['orders'],
    sql: 'insert into "tenant_acme"."orders" ("product_id", "quantity", "note") values ($1, $2, $3) returning "id", "note", "owner"',
    mutates: true,
    check: (rows, seed, after) => {
      expect(rows).toEqual([{ id: seed.orders.length + 1, note: `${seed.id}-new`, owner: seed.schema }]);
      expect(after.orders).toHaveLength(seed.orders.length + 1);
    },
  },
  {
    name: 'insert … select from a CTE (with on the insert)',
    build: (db) =>
      db
        .with('restock', (qb) => qb.selectFrom('stock').select(['product_id', 'quantity']).where('quantity', '<', 60))
        .insertInto('orders')
        .columns(['product_id', 'quantity'])
        .expression((eb) => eb.selectFrom('restock').select(['restock.product_id', 'restock.quantity']))
        .returning(['product_id', 'quantity', 'owner']),
    qualified: ['orders', 'stock'],
    unqualified: ['restock'],
    mutates: true,
    check: (rows, seed) =>
      expect(rows).toEqual(seed.stock.filter((st) => st.quantity < 60).map((st) => ({ product_id: st.product_id, quantity: st.quantity, owner: seed.schema }))),
  },
  {
    name: 'insert multiple rows',
    build: (db, seed) =>
      db
        .insertInto('orders')
        .values(seed.products.map((p) => ({ product_id: p.id, quantity: 1, note: 'bulk' })))
        .returning('product_id'),
    qualified: ['orders'],
    mutates: true,
    check: (rows, seed, after) => {
      expect(names(rows, 'product_id')).toEqual(seed.products.map((p) => p.id));
      expect(after.orders.filter((o) => o.note === 'bulk')).toHaveLength(seed.products.length);
    },
  },
  {
    name: 'insert … select',
    build: (db) =>
      db
        .insertInto('orders')
        .columns(['product_id', 'quantity', 'note'])
        .expression((eb) => eb.selectFrom('products').select(['id', 'price', 'name']).where('price', '<', 10))
        .returning(['product_id', 'quantity', 'note', 'owner']),
    qualified: ['orders', 'products'],
    mutates: true,
    check: (rows, seed) =>
      expect(rows).toEqual(seed.products.filter((p) => p.price < 10).map((p) => ({ product_id: p.id, quantity: p.price, note: p.name, owner: seed.schema }))),
  },
  {
    name: 'insert … on conflict do nothing',
    build: (db, seed) =>
      db
        .insertInto('stock')
        .values(seed.products.map((p) => ({ product_id: p.id, quantity: 0 })))
        .onConflict((oc) => oc.column('product_id').doNothing())
        .returning('product_id'),
    qualified: ['stock'],
    mutates: true,
    check: (rows, seed, after) => {
      expect(names(rows, 'product_id')).toEqual(seed.products.filter((p) => !seed.stock.some((s) => s.product_id === p.id)).map((p) => p.id));
      expect(after.stock).toHaveLength(seed.products.length);
    },
  },
  {
    name: 'insert … on conflict do update (stock.quantity + excluded.quantity)',
    build: (db, seed) =>
      db
        .insertInto('stock')
        .values(seed.products.map((p) => ({ product_id: p.id, quantity: 5 })))
        .onConflict((oc) => oc.column('product_id').doUpdateSet((eb) => ({ quantity: eb('stock.quantity', '+', eb.ref('excluded.quantity')) })))
        .returning(['product_id', 'quantity', 'owner']),
    qualified: ['stock'],
    sql: 'insert into "tenant_acme"."stock" ("product_id", "quantity") values ($1, $2), ($3, $4), ($5, $6) on conflict ("product_id") do update set "quantity" = "tenant_acme"."stock"."quantity" + "excluded"."quantity" returning "product_id", "quantity", "owner"',
    mutates: true,
    check: (rows, seed) =>
      expect(sortedBy(rows, (r) => r.product_id as number)).toEqual(
        seed.products.map((p) => ({ product_id: p.id, quantity: (seed.stock.find((s) => s.product_id === p.id)?.quantity ?? 0) + 5, owner: seed.schema })),
      ),
  },
  {
    name: 'update, returning',
    build: (db) => db.updateTable('products').set((eb) => ({ price: eb('price', '*', 2) })).where('currency', '=', 'USD').returning(['id', 'price', 'owner']),
    qualified: ['products'],
    mutates: true,
    check: (rows, seed, after) => {
      const usd = seed.products.filter((p) => p.currency === 'USD');
      expect(sortedBy(rows, (r) => r.id as number)).toEqual(usd.map((p) => ({ id: p.id, price: p.price * 2, owner: seed.schema })));
      expect(after.products.map((p) => p.price)).toEqual(seed.products.map((p) => (p.currency === 'USD' ? p.price * 2 : p.price)));
    },
  },
  {
    name: 'update with from',
    build: (db) =>
      db
        .updateTable('stock')
        .from('products')
        .set((eb) => ({ quantity: eb('stock.quantity', '+', eb.ref('products.price')) }))
        .whereRef('stock.product_id', '=', 'products.id')
        .returning(['stock.product_id', 'stock.quantity']),
    qualified: ['stock', 'products'],
    sql: 'update "tenant_acme"."stock" set "quantity" = "tenant_acme"."stock"."quantity" + "tenant_acme"."products"."price" from "tenant_acme"."products" where "tenant_acme"."stock"."product_id" = "tenant_acme"."products"."id" returning "tenant_acme"."stock"."product_id", "tenant_acme"."stock"."quantity"',
    mutates: true,
    check: (rows, seed) =>
      expect(sortedBy(rows, (r) => r.product_id as number)).toEqual(
        seed.stock.map((s) => ({ product_id: s.product_id, quantity: s.quantity + byId(seed.products, s.product_id)!.price })),
      ),
  },
  {
    name: 'update with alias and from (stock as s, products as p)',
    build: (db) =>
      db
        .updateTable('stock as s')
        .from('products as p')
        .set({ quantity: 0 })
        .whereRef('s.product_id', '=', 'p.id')
        .where('p.price', '>', 10)
        .returning(['s.product_id']),
    qualified: ['stock', 'products'],
    mutates: true,
    check: (rows, seed) =>
      expect(names(rows, 'product_id').sort()).toEqual(seed.stock.filter((s) => byId(seed.products, s.product_id)!.price > 10).map((s) => s.product_id).sort()),
  },
  {
    name: 'update with a subquery',
    raw: true,
    build: (db) =>
      db
        .updateTable('products')
        .set((eb) => ({
          price: eb.selectFrom('orders').select((e) => e.fn.coalesce(e.fn.max('orders.quantity'), sql<number>`0`).as('m')).whereRef('orders.product_id', '=', 'products.id'),
        }))
        .where('id', 'in', (eb) => eb.selectFrom('stock').select('product_id'))
        .returning(['id', 'price']),
    qualified: ['products', 'orders', 'stock'],
    mutates: true,
    check: (rows, seed) => {
      const maxOf = (id: number) => Math.max(0, ...seed.orders.filter((o) => o.product_id === id).map((o) => o.quantity));
      expect(sortedBy(rows, (r) => r.id as number)).toEqual(seed.stock.map((s) => ({ id: s.product_id, price: maxOf(s.product_id) })));
    },
  },
  {
    name: 'delete with using',
    build: (db) =>
      db
        .deleteFrom('orders')
        .using('products')
        .whereRef('orders.product_id', '=', 'products.id')
        .where('products.price', '>', 10)
        .returning(['orders.id', 'orders.owner']),
    qualified: ['orders', 'products'],
    sql: 'delete from "tenant_acme"."orders" using "tenant_acme"."products" where "tenant_acme"."orders"."product_id" = "tenant_acme"."products"."id" and "tenant_acme"."products"."price" > $1 returning "tenant_acme"."orders"."id", "tenant_acme"."orders"."owner"',
    mutates: true,
    check: (rows, seed, after) => {
      const gone = seed.orders.filter((o) => byId(seed.products, o.product_id)!.price > 10);
      expect(sortedBy(rows, (r) => r.id as number)).toEqual(gone.map((o) => ({ id: o.id, owner: seed.schema })));
      expect(after.orders).toHaveLength(seed.orders.length - gone.length);
    },
  },
  {
    name: 'delete with a subquery, returning',
    build: (db) =>
      db
        .deleteFrom('stock')
        .where('product_id', 'not in', (eb) => eb.selectFrom('orders').select('product_id'))
        .returning(['product_id', 'owner']),
    qualified: ['stock', 'orders'],
    mutates: true,
    check: (rows, seed, after) => {
      const gone = seed.stock.filter((s) => !seed.orders.some((o) => o.product_id === s.product_id));
      expect(rows).toEqual(gone.map((s) => ({ product_id: s.product_id, owner: seed.schema })));
      expect(after.stock).toHaveLength(seed.stock.length - gone.length);
    },
  },
  {
    name: 'data-modifying CTE (with … insert … returning) joined to a tenant table',
    build: (db, seed) =>
      db
        .with('added', (qb) => qb.insertInto('orders').values({ product_id: seed.products[1]!.id, quantity: 6, note: 'cte' }).returning(['id', 'product_id']))
        .selectFrom('added')
        .innerJoin('products', 'products.id', 'added.product_id')
        .select(['added.id', 'products.name']),
    qualified: ['orders', 'products'],
    unqualified: ['added'],
    mutates: true,
    check: (rows, seed, after) => {
      expect(rows).toEqual([{ id: seed.orders.length + 1, name: seed.products[1]!.name }]);
      expect(after.orders.filter((o) => o.note === 'cte')).toHaveLength(1);
    },
  },
  {
    name: 'merge into … using',
    build: (db) =>
      db
        .mergeInto('stock as s')
        .using('products as p', 's.product_id', 'p.id')
        .whenMatched()
        .thenUpdateSet((eb) => ({ quantity: eb('s.quantity', '+', 1) }))
        .whenNotMatched()
        .thenInsertValues((eb) => ({ product_id: eb.ref('p.id'), quantity: 0 })),
    qualified: ['stock', 'products'],
    mutates: true,
    check: (rows, seed, after) => {
      expect(rows.map((r) => Number(r.numChangedRows))).toEqual([seed.products.length]);
      expect(after.stock.map(({ product_id, quantity, owner }) => ({ product_id, quantity, owner }))).toEqual(
        seed.products.map((p) => ({ product_id: p.id, quantity: (seed.stock.find((s) => s.product_id === p.id)?.quantity ?? -1) + 1, owner: seed.schema })),
      );
    },
  },

  {
    name: 'schema builder DDL (create table with a foreign key, drop table)',
    raw: true,
    run: async (db, seed) => {
      await db.schema
        .createTable('notes')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
        .execute();
      try {
        // The schema builder's table is not in the Database interface: raw SQL (through the search_path) reads it back.
        await sql`insert into notes (product_id) values (${seed.products[0]!.id})`.execute(db);
        return (await sql<{ schema: string; n: number }>`select current_schema() as schema, count(*)::int as n from notes`.execute(db)).rows;
      } finally {
        await db.schema.dropTable('notes').execute();
      }
    },
    qualified: ['products'],
    checkSql: (text, seed) => {
      if (text.startsWith('create')) {
        expect(text).toBe(
          `create table "${seed.schema}"."notes" ("id" serial primary key, "product_id" integer not null references "${seed.schema}"."products" ("id"))`,
        );
      }
      if (text.startsWith('drop')) expect(text).toBe(`drop table "${seed.schema}"."notes"`);
    },
    check: (rows, seed) => expect(rows).toEqual([{ schema: seed.schema, n: 1 }]),
  },

  // ── locking, transactions, streams ───────────────────────────────────────
  {
    name: "forUpdate('p') (the lock target stays a bare alias)",
    build: (db) =>
      db
        .selectFrom('products as p')
        .innerJoin('stock as s', 's.product_id', 'p.id')
        .select(['p.name', 's.quantity'])
        .orderBy('p.id')
        .forUpdate('p'),
    qualified: ['products', 'stock'],
    checkSql: (text) => expect(text).toMatch(/for update of "p"$/),
    check: (rows, seed) =>
      expect(rows).toEqual(seed.stock.map((s) => ({ name: byId(seed.products, s.product_id)!.name, quantity: s.quantity }))),
  },
  {
    name: "forUpdate('products') without an alias",
    build: (db) => db.selectFrom('products').select('name').where('id', '=', 1).forUpdate('products'),
    qualified: ['products'],
    unqualified: ['products'],
    sql: 'select "name" from "tenant_acme"."products" where "id" = $1 for update of "products"',
    check: (rows, seed) => expect(names(rows)).toEqual([seed.products[0]!.name]),
  },
  {
    name: 'db.transaction().execute (insert, then read and lock)',
    run: (db, seed) =>
      db.transaction().execute(async (trx) => {
        await trx.insertInto('orders').values({ product_id: seed.products[0]!.id, quantity: 1, note: 'in-tx' }).execute();
        return trx.selectFrom('orders').select(['id', 'note', 'owner']).where('note', '=', 'in-tx').forUpdate().execute();
      }),
    qualified: ['orders'],
    mutates: true,
    check: (rows, seed, after) => {
      expect(rows).toEqual([{ id: seed.orders.length + 1, note: 'in-tx', owner: seed.schema }]);
      expect(after.orders.filter((o) => o.note === 'in-tx')).toHaveLength(1);
    },
  },
  {
    name: 'db.transaction().execute that rolls back',
    run: async (db, seed) => {
      const error = await db
        .transaction()
        .execute(async (trx) => {
          await trx.deleteFrom('orders').execute();
          await trx.updateTable('products').set({ price: 0 }).execute();
          throw new Error(`roll back ${seed.id}`);
        })
        .catch((caught: unknown) => caught);
      expect(error).toEqual(new Error(`roll back ${seed.id}`));
      return db.selectFrom('orders').select('id').orderBy('id').execute();
    },
    qualified: ['orders', 'products'],
    check: (rows, seed, after) => {
      expect(names(rows, 'id')).toEqual(seed.orders.map((o) => o.id));
      expect(after.products.map((p) => p.price)).toEqual(seed.products.map((p) => p.price));
    },
  },
  {
    name: '.stream() through pg-cursor',
    run: async (db) => {
      const rows: unknown[] = [];
      for await (const row of db.selectFrom('products').innerJoin('currencies', 'currencies.code', 'products.currency').select(['products.name', 'currencies.symbol']).orderBy('products.id').stream(2)) {
        rows.push(row);
      }
      return rows;
    },
    qualified: ['products'],
    unqualified: ['currencies'],
    check: (rows, seed) =>
      expect(rows).toEqual(seed.products.map((p) => ({ name: p.name, symbol: CURRENCIES.find((c) => c.code === p.currency)!.symbol }))),
  },
  {
    name: '.stream() inside a transaction',
    run: (db) =>
      db.transaction().execute(async (trx) => {
        const rows: unknown[] = [];
        for await (const row of trx.selectFrom('categories').select(['id', 'owner']).orderBy('id').stream(1)) rows.push(row);
        return rows;
      }),
    qualified: ['categories'],
    check: (rows, seed) => expect(rows).toEqual(seed.categories.map((c) => ({ id: c.id, owner: seed.schema }))),
  },
];

const TENANT_MIGRATION = `
  CREATE TABLE categories (id int PRIMARY KEY, name text NOT NULL, parent_id int REFERENCES categories);
  CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL, category_id int REFERENCES categories,
                         currency text NOT NULL REFERENCES currencies (code));
  CREATE TABLE orders (id serial PRIMARY KEY, product_id int NOT NULL REFERENCES products, quantity int NOT NULL, note text);
  CREATE TABLE stock (product_id int PRIMARY KEY REFERENCES products, quantity int NOT NULL);
  DO $$ DECLARE t text; BEGIN
    FOREACH t IN ARRAY ARRAY['categories', 'products', 'orders', 'stock'] LOOP
      EXECUTE format('ALTER TABLE %I ADD COLUMN owner text NOT NULL DEFAULT %L', t, current_schema());
    END LOOP;
  END $$;
`;

let tenancy: Tenancy;
const tenants = new Map<string, Tenant>();
let raw: pg.Pool;
let db: Kysely<Database>;
/** The same wiring with `qualifiedPath: 'shared'`, on the same connections as `db`. */
let dbQualified: Kysely<Database>;
type QualifiedPath = 'tenant' | 'shared';
const MARK = ' /* tenantry: qualified */';
/** The SQL of every statement `db` sent, from Kysely's query log. */
const sent: string[] = [];
/** Checkouts from `raw`: a refused query must not take a connection. */
let acquired = 0;

function kyselyOn(pool: PostgresPool, qualifiedPath: QualifiedPath = 'tenant'): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool, cursor: Cursor }),
    plugins: [tenantPlugin(tenancy, { sharedTables: [...SHARED_TABLES], qualifiedPath })],
    log: (event) => {
      sent.push(event.query.sql);
    },
  });
}

/** tenantPool, which TypeScript accepts where Kysely wants a PostgresPool. */
function scopedPool(pool: pg.Pool): PostgresPool {
  return tenantPool(tenancy, pool);
}

async function reseed(seed: Seed): Promise<void> {
  const s = `"${seed.schema}"`;
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`TRUNCATE ${s}.stock, ${s}.orders, ${s}.products, ${s}.categories RESTART IDENTITY`);
    for (const c of seed.categories) await client.query(`INSERT INTO ${s}.categories (id, name, parent_id) VALUES ($1, $2, $3)`, [c.id, c.name, c.parent_id]);
    for (const p of seed.products) {
      await client.query(`INSERT INTO ${s}.products (id, name, price, category_id, currency) VALUES ($1, $2, $3, $4, $5)`, [p.id, p.name, p.price, p.category_id, p.currency]);
    }
    for (const o of seed.orders) await client.query(`INSERT INTO ${s}.orders (id, product_id, quantity, note) VALUES ($1, $2, $3, $4)`, [o.id, o.product_id, o.quantity, o.note]);
    await client.query(`SELECT setval(pg_get_serial_sequence('${s}.orders', 'id'), $1)`, [seed.orders.length]);
    for (const st of seed.stock) await client.query(`INSERT INTO ${s}.stock (product_id, quantity) VALUES ($1, $2)`, [st.product_id, st.quantity]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

async function snapshot(seed: Seed): Promise<Snapshot> {
  const read = async <T,>(table: string, order: string): Promise<T[]> =>
    (await database.pool.query(`SELECT * FROM "${seed.schema}".${table} ORDER BY ${order}`)).rows as T[];
  return {
    categories: await read('categories', 'id'),
    products: await read('products', 'id'),
    orders: await read('orders', 'id'),
    stock: await read('stock', 'product_id'),
  };
}

const otherThan = (seed: Seed): Seed => SEEDS.find((other) => other.id !== seed.id)!;

/** The SQL rules every statement of a shape must follow for `seed`'s tenant (`qualified` is checked over all of them). */
function checkStatement(text: string, shape: Shape, seed: Seed): void {
  const own = seed.schema;
  expect(text, 'names no other tenant').not.toContain(otherThan(seed).schema);
  expect(text).not.toContain(otherThan(seed).id);
  if (shape.qualified.length === 0) expect(text, 'names no tenant schema').not.toContain(own);
  const bare = new Set(shape.unqualified ?? []);
  for (const name of bare) {
    expect(text, `${name} appears bare`).toMatch(new RegExp(`(?<!\\.)"${name}"|(?<![."\\w])${name}\\b`));
    if (!shape.qualified.includes(name)) expect(text, `${name} is never qualified`).not.toContain(`"${own}"."${name}"`);
  }
  for (const table of TENANT_TABLES) {
    if (!bare.has(table)) expect(text, `every quoted mention of ${table} is qualified`).not.toMatch(new RegExp(`(?<!\\.)"${table}"`));
  }
  for (const table of SHARED_TABLES) {
    expect(text, `${table} is not tenant-qualified`).not.toMatch(new RegExp(`"(?!public")[^"]*"\\."${table}"`));
  }
  shape.checkSql?.(text.replace(MARK, ''), seed);
}

/** Rows may carry an `owner` (the schema the row lives in): it must be the active tenant's. */
function checkOwners(rows: Rows, seed: Seed): void {
  const json = JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
  expect(json).not.toContain(otherThan(seed).id);
  for (const row of rows) if ('owner' in row) expect(row.owner).toBe(seed.schema);
}

beforeAll(async () => {
  tenancy = createTenancy({
    pool: database.pool,
    migrations: {
      shared: [
        {
          name: '001_catalog',
          checksum: '1',
          up: async (client) => {
            await client.query('CREATE TABLE plans (id text PRIMARY KEY, name text NOT NULL, max_products int NOT NULL)');
            await client.query('CREATE TABLE currencies (code text PRIMARY KEY, symbol text NOT NULL)');
            for (const plan of PLANS) await client.query('INSERT INTO plans VALUES ($1, $2, $3)', [plan.id, plan.name, plan.max_products]);
            for (const currency of CURRENCIES) await client.query('INSERT INTO currencies VALUES ($1, $2)', [currency.code, currency.symbol]);
          },
        },
      ],
      tenant: [{ name: '001_inventory', checksum: '1', up: (client) => client.query(TENANT_MIGRATION) }],
    },
  });
  await tenancy.migrate.shared();
  for (const seed of SEEDS) {
    const tenant = await tenancy.registry.create({ id: seed.id, name: seed.id });
    expect(tenant.schema).toBe(seed.schema);
    tenants.set(seed.id, tenant);
    await reseed(seed);
  }
  // Two connections: each one serves both tenants in turn.
  raw = new pg.Pool({ connectionString: database.url, max: 2 });
  raw.on('acquire', () => {
    acquired += 1;
  });
  db = kyselyOn(scopedPool(raw));
  dbQualified = kyselyOn(scopedPool(raw), 'shared');
});

afterAll(async () => {
  await db?.destroy(); // ends `raw`, which dbQualified shares
});

/**
 * With `qualifiedPath: 'shared'` a statement the plugin marks runs with the shared search_path,
 * where no tenant table resolves: a tenant table the plugin failed to qualify fails the shape
 * (42P01) instead of passing through the tenant's search_path.
 */
describe.each(['tenant', 'shared'] as const)('Kysely query shapes under tenantPlugin (qualifiedPath %s) over tenantPool', (qualifiedPath) => {

  it('covers at least 40 shapes', () => {
    expect(SHAPES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(SHAPES.map((shape) => shape.name)).size).toBe(SHAPES.length);
  });

  it.each(SHAPES.map((shape) => [shape.name, shape] as const))('%s', async (_name, shape) => {
    const on = qualifiedPath === 'tenant' ? db : dbQualified;
    const compiled: string[] = [];
    try {
      for (const seed of SEEDS) {
        const tenant = tenants.get(seed.id)!;
        const other = otherThan(seed);
        const otherBefore = await snapshot(other);

        if (shape.build) {
          // The same builder (built from the first seed) for each tenant: compared after the loop.
          compiled.push(tenancy.runTenant(tenant, () => shape.build!(on, SEEDS[0]!).compile().sql));
        }
        sent.length = 0;
        const rows = (await tenancy.runTenant(tenant, () => (shape.build ? shape.build(on, seed).execute() : shape.run!(on, seed)))) as Rows;
        const statements = sent.filter((text) => !/^(begin|commit|rollback)$/i.test(text));
        // Marked exactly when the plugin qualified everything in it: builders, not raw SQL or DDL.
        for (const text of statements) expect(text.endsWith(MARK), 'marked as fully qualified').toBe(qualifiedPath === 'shared' && shape.raw !== true);
        for (const text of statements) expect(text.indexOf(MARK), 'marked only at the end').toBe(text.endsWith(MARK) ? text.length - MARK.length : -1);

        expect(statements.length).toBeGreaterThan(0);
        if (shape.build) expect(statements).toEqual([tenancy.runTenant(tenant, () => shape.build!(on, seed).compile().sql)]);
        if (shape.sql !== undefined && seed === SEEDS[0]) expect(statements[0]!.replace(MARK, '')).toBe(shape.sql);
        for (const text of statements) checkStatement(text, shape, seed);
        for (const table of shape.qualified) expect(statements.join('\n'), `qualifies ${table}`).toContain(`"${seed.schema}"."${table}"`);
        checkOwners(rows, seed);
        const after = await snapshot(seed);
        shape.check(rows, seed, after);
        expect(await snapshot(other), 'the other tenant is untouched').toEqual(otherBefore);
      }
      // One builder compiles to the same SQL for both tenants but for the schema.
      if (compiled.length === 2) expect(compiled[1]).toBe(compiled[0]!.replaceAll(SEEDS[0]!.schema, SEEDS[1]!.schema));
    } finally {
      if (shape.mutates) for (const seed of SEEDS) await reseed(seed);
    }
  });
});

describe('scopes', () => {
  it('refuses a tenant table with no tenant in context: NoTenantError before any I/O', async () => {
    const before = acquired;
    sent.length = 0;
    const attempts: (() => unknown)[] = [
      () => db.selectFrom('products').selectAll().compile(),
      () => db.selectFrom('products').selectAll().execute(),
      () => db.insertInto('orders').values({ product_id: 1, quantity: 1, note: null }).execute(),
      // A tenant table anywhere in the statement is enough, even under a shared one.
      () => db.selectFrom('plans').selectAll().where('id', 'in', (eb) => eb.selectFrom('products').select('currency')).execute(),
      () => db.with('x', (qb) => qb.selectFrom('stock').selectAll()).selectFrom('currencies').selectAll().execute(),
      () => db.transaction().execute((trx) => trx.selectFrom('orders').selectAll().execute()),
      async () => {
        for await (const row of db.selectFrom('products').selectAll().stream()) void row;
      },
    ];
    for (const attempt of attempts) {
      const error = await Promise.resolve().then(attempt).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(NoTenantError);
      expect(error).toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    }
    expect(() => db.selectFrom('products').selectAll().compile()).toThrow(NoTenantError);
    expect(acquired).toBe(before);
    expect(sent).toEqual([]);
  });

  it('refuses a tenant table in the explicit shared scope too', async () => {
    const before = acquired;
    await tenancy.runShared(async () => {
      expect(() => db.selectFrom('products').selectAll().compile()).toThrow(NoTenantError);
      await expect(db.selectFrom('orders').selectAll().execute()).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });
    });
    expect(acquired).toBe(before);
  });

  it('runs shared-table-only queries in tenancy.runShared', async () => {
    sent.length = 0;
    const rows = await tenancy.runShared(() =>
      db.selectFrom('plans').innerJoin('currencies', (join) => join.onTrue()).select(['plans.id', 'currencies.code']).orderBy('plans.id').orderBy('currencies.code').execute(),
    );
    expect(rows).toEqual(PLANS.flatMap((plan) => CURRENCIES.map((currency) => ({ id: plan.id, code: currency.code }))));
    expect(sent).toEqual([
      'select "plans"."id", "currencies"."code" from "plans" inner join "currencies" on true order by "plans"."id", "currencies"."code"',
    ]);
    // Raw SQL in the shared scope resolves in the shared schema only: tenant tables are not found.
    const { rows: found } = await tenancy.runShared(() => sql<{ n: number }>`select count(*)::int as n from plans`.execute(db));
    expect(found).toEqual([{ n: PLANS.length }]);
    await expect(tenancy.runShared(() => sql`select * from products`.execute(db))).rejects.toMatchObject({ code: '42P01' });
  });

  it('compiles shared-table-only queries outside any context; tenantPool still refuses to run them, a plain pool runs them', async () => {
    const query = db.selectFrom('plans').select(['id', 'max_products']).where('id', '=', 'pro');
    expect(query.compile().sql).toBe('select "id", "max_products" from "plans" where "id" = $1');
    // The plugin has nothing to qualify; the pool is what is fail-closed about the missing scope.
    await expect(query.execute()).rejects.toMatchObject({ code: 'TENANTRY_NO_TENANT' });

    const plain = new pg.Pool({ connectionString: database.url, max: 1 });
    const unscoped = kyselyOn(plain as unknown as PostgresPool);
    try {
      expect(await unscoped.selectFrom('plans').select(['id', 'max_products']).where('id', '=', 'pro').execute()).toEqual([{ id: 'pro', max_products: 100 }]);
      // The plugin alone (no tenantPool) still qualifies tenant tables exactly.
      const [acme] = SEEDS;
      const rows = await tenancy.runTenant(tenants.get(acme!.id)!, () => unscoped.selectFrom('products').select('name').orderBy('id').execute());
      expect(names(rows)).toEqual(acme!.products.map((p) => p.name));
      // With no search_path to fall back on, a CTE that shadows a tenant table needs its body qualified.
      const shadowed = await tenancy.runTenant(tenants.get(acme!.id)!, () =>
        unscoped.with('products', (qb) => qb.selectFrom('products').select(['id', 'name']).where('price', '>', 10)).selectFrom('products').select('name').orderBy('id').execute(),
      );
      expect(names(shadowed)).toEqual(acme!.products.filter((p) => p.price > 10).map((p) => p.name));
      expect(() => unscoped.selectFrom('products').selectAll().compile()).toThrow(NoTenantError);
    } finally {
      await unscoped.destroy();
    }
  });

  it('keeps two interleaved tenants apart on two shared connections', async () => {
    const rounds = 20;
    const work = SEEDS.flatMap((seed) =>
      Array.from({ length: rounds }, (_, i) =>
        tenancy.runTenant(tenants.get(seed.id)!, async () => {
          const rows =
            i % 2 === 0
              ? await db.selectFrom('products').select(['name', 'owner']).execute()
              : (await sql<{ name: string; owner: string }>`select name, owner from products`.execute(db)).rows;
          expect(new Set(rows.map((row) => row.owner))).toEqual(new Set([seed.schema]));
          expect(rows).toHaveLength(seed.products.length);
        }),
      ),
    );
    await Promise.all(work);
  });
});

describe('kyselyMigrations', () => {
  // Two different sources of `up`, so their checksums differ.
  const v1 = {
    '001_widgets': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take Kysely<any>
      up: async (db: Kysely<any>) => {
        await db.schema.createTable('widgets').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('label', 'text', (c) => c.notNull()).execute();
        await db.insertInto('widgets').values({ label: 'first' }).execute();
      },
    },
    '002_widgets_index': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take Kysely<any>
      up: async (db: Kysely<any>) => {
        await db.schema.createIndex('widgets_label').on('widgets').column('label').execute();
      },
    },
  };
  const v2 = {
    ...v1,
    '001_widgets': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely migrations take Kysely<any>
      up: async (db: Kysely<any>) => {
        await db.schema.createTable('widgets').addColumn('id', 'serial', (c) => c.primaryKey()).addColumn('label', 'text').execute();
      },
    },
  };

  const tenancyWith = (source: ReturnType<typeof kyselyMigrations>): Tenancy =>
    createTenancy({ pool: database.pool, sharedSchema: 'kysely_shared', schemaPrefix: 'km_', migrations: { tenant: source } });

  it('creates the tables of a new tenant in its own schema', async () => {
    const migrating = tenancyWith(kyselyMigrations(v1));
    await migrating.migrate.shared();
    const tenant = await migrating.registry.create({ id: 'initech' });
    expect(tenant.schema).toBe('km_initech');

    const { rows } = await database.pool.query<{ schemaname: string; tablename: string }>(
      "SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('widgets', 'tenantry_migrations') ORDER BY 1, 2",
    );
    expect(rows.filter((row) => row.tablename === 'widgets')).toEqual([{ schemaname: 'km_initech', tablename: 'widgets' }]);
    expect(rows).toContainEqual({ schemaname: 'km_initech', tablename: 'tenantry_migrations' });
    const { rows: indexes } = await database.pool.query("SELECT schemaname FROM pg_indexes WHERE indexname = 'widgets_label'");
    expect(indexes).toEqual([{ schemaname: 'km_initech' }]);
    const { rows: applied } = await database.pool.query('SELECT name FROM km_initech.tenantry_migrations ORDER BY name');
    expect(applied).toEqual([{ name: '001_widgets' }, { name: '002_widgets_index' }]);
    const { rows: widgets } = await database.pool.query('SELECT label FROM km_initech.widgets');
    expect(widgets).toEqual([{ label: 'first' }]);
  });

  it('detects a change to an applied up() as a checksum change', async () => {
    const [one] = await kyselyMigrations(v1).load();
    const [two] = await kyselyMigrations(v2).load();
    expect(one!.name).toBe(two!.name);
    expect(one!.checksum).not.toBe(two!.checksum);
    expect((await kyselyMigrations(v1).load())[0]!.checksum).toBe(one!.checksum);

    const changed = tenancyWith(kyselyMigrations(v2));
    await expect(changed.migrate.tenant('initech')).rejects.toMatchObject({ code: 'TENANTRY_MIGRATION_CHECKSUM' });
    const report = await changed.migrate.tenants();
    expect(report.failed.map((failure) => failure.code)).toEqual(['TENANTRY_MIGRATION_FAILED']);
    expect(report.failed[0]!.cause).toMatchObject({ code: 'TENANTRY_MIGRATION_CHECKSUM' });
    // Accepting the edit records the new checksum and does not run up() again.
    await expect(changed.migrate.tenant('initech', { allowChanged: true })).resolves.toMatchObject({ applied: [] });
    const { rows } = await database.pool.query<{ checksum: string }>("SELECT checksum FROM km_initech.tenantry_migrations WHERE name = '001_widgets'");
    expect(rows).toEqual([{ checksum: two!.checksum }]);
  });
});
