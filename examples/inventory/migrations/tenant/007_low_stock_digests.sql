-- The low-stock digest the daily job writes (jobs/low-stock-digest-jobs.ts): the products at or
-- below their low-stock threshold when it ran. The dashboard shows the latest.
CREATE TABLE low_stock_digests (
  id serial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  item_count integer NOT NULL CHECK (item_count >= 0),
  -- [{ "sku", "name", "stock", "lowStockThreshold" }], emptiest first.
  items jsonb NOT NULL
);
CREATE INDEX low_stock_digests_created_at_idx ON low_stock_digests (created_at DESC);
