/**
 * The 10-table tenant set of the benchmarks (provisioning.ts, scale.ts): the inventory app's
 * tables, one migration each, with indexes and foreign keys.
 *
 * @module
 */

/** The inventory app's tenant tables: 10 migrations, one table each, with indexes and foreign keys. */
export const INVENTORY: Readonly<Record<string, string>> = {
  '001_categories.sql': `CREATE TABLE categories (
  id bigserial PRIMARY KEY,
  parent_id bigint REFERENCES categories (id) ON DELETE SET NULL,
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX categories_parent ON categories (parent_id);`,
  '002_suppliers.sql': `CREATE TABLE suppliers (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  email text,
  phone text,
  lead_time_days int NOT NULL DEFAULT 7 CHECK (lead_time_days >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX suppliers_name ON suppliers (lower(name));`,
  '003_warehouses.sql': `CREATE TABLE warehouses (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  address jsonb NOT NULL DEFAULT '{}'::jsonb,
  active boolean NOT NULL DEFAULT true
);`,
  '004_locations.sql': `CREATE TABLE locations (
  id bigserial PRIMARY KEY,
  warehouse_id bigint NOT NULL REFERENCES warehouses (id) ON DELETE CASCADE,
  code text NOT NULL,
  kind text NOT NULL DEFAULT 'shelf' CHECK (kind IN ('shelf', 'bin', 'pallet', 'dock')),
  UNIQUE (warehouse_id, code)
);`,
  '005_products.sql': `CREATE TABLE products (
  id bigserial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  category_id bigint REFERENCES categories (id) ON DELETE SET NULL,
  supplier_id bigint REFERENCES suppliers (id) ON DELETE SET NULL,
  unit_price numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
  reorder_level int NOT NULL DEFAULT 0,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category ON products (category_id);
CREATE INDEX products_supplier ON products (supplier_id);
CREATE INDEX products_name ON products (lower(name));`,
  '006_stock_levels.sql': `CREATE TABLE stock_levels (
  product_id bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  location_id bigint NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
  quantity int NOT NULL DEFAULT 0 CHECK (quantity >= 0),
  reserved int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (product_id, location_id)
);
CREATE INDEX stock_levels_location ON stock_levels (location_id);`,
  '007_stock_movements.sql': `CREATE TABLE stock_movements (
  id bigserial PRIMARY KEY,
  product_id bigint NOT NULL REFERENCES products (id),
  from_location_id bigint REFERENCES locations (id),
  to_location_id bigint REFERENCES locations (id),
  quantity int NOT NULL CHECK (quantity > 0),
  reason text NOT NULL,
  moved_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_product_time ON stock_movements (product_id, moved_at DESC);`,
  '008_customers.sql': `CREATE TABLE customers (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  billing_address jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX customers_email ON customers (lower(email));`,
  '009_purchase_orders.sql': `CREATE TABLE purchase_orders (
  id bigserial PRIMARY KEY,
  supplier_id bigint NOT NULL REFERENCES suppliers (id),
  warehouse_id bigint NOT NULL REFERENCES warehouses (id),
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'received', 'cancelled')),
  ordered_at timestamptz,
  expected_at date
);
CREATE INDEX purchase_orders_supplier_status ON purchase_orders (supplier_id, status);`,
  '010_purchase_order_lines.sql': `CREATE TABLE purchase_order_lines (
  purchase_order_id bigint NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
  line_no int NOT NULL,
  product_id bigint NOT NULL REFERENCES products (id),
  quantity int NOT NULL CHECK (quantity > 0),
  unit_cost numeric(12, 2) NOT NULL,
  PRIMARY KEY (purchase_order_id, line_no)
);
CREATE INDEX purchase_order_lines_product ON purchase_order_lines (product_id);`,
};
