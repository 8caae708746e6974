-- In and out move a positive quantity; an adjustment corrects the count by a signed, non-zero amount.
-- (Together with products.stock >= 0 and the trigger, the database alone keeps stock right.)
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_quantity_check
  CHECK (CASE kind WHEN 'adjustment' THEN quantity <> 0 ELSE quantity > 0 END);
ALTER TABLE products ADD CONSTRAINT products_low_stock_threshold_check CHECK (low_stock_threshold >= 0);

-- The trigger function names `products` unqualified. Pin its search_path to the one this migration
-- runs with (this tenant's schema, then the shared one), so a movement always updates the products
-- of its own schema, whatever search_path the session that inserts it has.
ALTER FUNCTION apply_stock_movement() SET search_path FROM CURRENT;

CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, created_at DESC);
CREATE INDEX stock_movements_created_at_idx ON stock_movements (created_at DESC);
CREATE INDEX products_category_idx ON products (category_id);
