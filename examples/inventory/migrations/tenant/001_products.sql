CREATE TABLE categories (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  category_id integer REFERENCES categories (id) ON DELETE SET NULL,
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
  low_stock_threshold integer NOT NULL DEFAULT 5
);
