-- The inventory app on the row-level strategy (`npm run demo -- --strategy rls`): every business's
-- rows live in these shared tables, each row under its business's tenant_id, and PostgreSQL's
-- row-level security shows each business only its own. The same tables as migrations/tenant, with
-- the tenant column leading every primary key, unique constraint, foreign key and index, and
-- each table made tenant-scoped by tenantry_tenant_table (docs/rls.md): the column's default is
-- the active business, so the app never names it.
CREATE TABLE plans (
  id text PRIMARY KEY,
  name text NOT NULL,
  max_products integer NOT NULL
);
INSERT INTO plans (id, name, max_products) VALUES ('free', 'Free', 50), ('pro', 'Pro', 10000);

CREATE TABLE categories (
  tenant_id text NOT NULL,
  id serial,
  name text NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT categories_name_key UNIQUE (tenant_id, name)
);
SELECT tenantry_tenant_table('categories');

CREATE TABLE products (
  tenant_id text NOT NULL,
  id serial,
  sku text NOT NULL,
  name text NOT NULL,
  category_id integer,
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
  low_stock_threshold integer NOT NULL DEFAULT 5 CONSTRAINT products_low_stock_threshold_check CHECK (low_stock_threshold >= 0),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT products_sku_key UNIQUE (tenant_id, sku),
  -- Deleting a category clears the column of its products, not their tenant_id.
  FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE SET NULL (category_id)
);
CREATE INDEX products_category_idx ON products (tenant_id, category_id);
SELECT tenantry_tenant_table('products');

CREATE TABLE stock_movements (
  tenant_id text NOT NULL,
  id serial,
  product_id integer NOT NULL,
  kind text NOT NULL CHECK (kind IN ('in', 'out', 'adjustment')),
  quantity integer NOT NULL CONSTRAINT stock_movements_quantity_check CHECK (CASE kind WHEN 'adjustment' THEN quantity <> 0 ELSE quantity > 0 END),
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX stock_movements_product_idx ON stock_movements (tenant_id, product_id, created_at DESC);
CREATE INDEX stock_movements_created_at_idx ON stock_movements (tenant_id, created_at DESC);
SELECT tenantry_tenant_table('stock_movements');

-- Stock never goes negative: every movement updates its product in the same transaction, and one
-- that would take the stock below zero fails with SQLSTATE 23514 and the hint insufficient_stock.
-- The UPDATE runs as whoever inserts the movement, under the same policies.
CREATE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  change integer := CASE NEW.kind WHEN 'out' THEN -NEW.quantity ELSE NEW.quantity END;
BEGIN
  UPDATE products SET stock = stock + change
   WHERE tenant_id = NEW.tenant_id AND id = NEW.product_id AND stock + change >= 0;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'not enough stock of product % to take % out', NEW.product_id, -change
      USING ERRCODE = 'check_violation', CONSTRAINT = 'products_stock_check', HINT = 'insufficient_stock';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION apply_stock_movement();

CREATE TABLE users (
  tenant_id text NOT NULL,
  id serial,
  email text NOT NULL CHECK (email = lower(email)),
  name text NOT NULL,
  password_hash text NOT NULL,
  role text NOT NULL DEFAULT 'staff' CONSTRAINT users_role_check CHECK (role IN ('owner', 'staff')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email);
SELECT tenantry_tenant_table('users');

CREATE TABLE sessions (
  tenant_id text NOT NULL,
  token_hash text NOT NULL,
  user_id integer NOT NULL,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_idx ON sessions (tenant_id, user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (tenant_id, expires_at);
SELECT tenantry_tenant_table('sessions');

-- One row per business, written when the business is created (domain/businesses.ts).
CREATE TABLE settings (
  tenant_id text NOT NULL,
  id boolean NOT NULL DEFAULT true CHECK (id),
  invite_code text NOT NULL DEFAULT upper(left(replace(gen_random_uuid()::text, '-', ''), 12)),
  PRIMARY KEY (tenant_id, id)
);
SELECT tenantry_tenant_table('settings');

CREATE TABLE session_handoffs (
  tenant_id text NOT NULL,
  code_hash text NOT NULL,
  user_id integer NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, code_hash),
  FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
SELECT tenantry_tenant_table('session_handoffs');

CREATE TABLE low_stock_digests (
  tenant_id text NOT NULL,
  id serial,
  created_at timestamptz NOT NULL DEFAULT now(),
  item_count integer NOT NULL CHECK (item_count >= 0),
  items jsonb NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX low_stock_digests_created_at_idx ON low_stock_digests (tenant_id, created_at DESC);
SELECT tenantry_tenant_table('low_stock_digests');
