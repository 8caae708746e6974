-- In and out move a positive quantity; an adjustment corrects the count by a signed, non-zero amount.
-- (Together with products.stock >= 0 and the trigger, the database alone keeps stock right.)
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_quantity_check
  CHECK (CASE kind WHEN 'adjustment' THEN quantity <> 0 ELSE quantity > 0 END);
ALTER TABLE products ADD CONSTRAINT products_low_stock_threshold_check CHECK (low_stock_threshold >= 0);

-- The trigger function again, with two rules:
-- * It names `products` unqualified: its search_path is pinned to the one this migration runs with
--   (this tenant's schema, then the shared one), so a movement always updates the products of its
--   own schema, whatever search_path the session that inserts it has. (In CREATE, not in an ALTER
--   FUNCTION … FROM CURRENT, which Citus refuses for the functions of a distributed schema.)
-- * A movement that would take the stock below zero fails with SQLSTATE 23514 and the hint
--   `insufficient_stock`, which the app maps to its 400. The hint survives where the constraint
--   name does not: Citus relays an error raised on a worker without it.
CREATE OR REPLACE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  change integer := CASE NEW.kind WHEN 'out' THEN -NEW.quantity ELSE NEW.quantity END;
BEGIN
  UPDATE products SET stock = stock + change WHERE id = NEW.product_id AND stock + change >= 0;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'not enough stock of product % to take % out', NEW.product_id, -change
      USING ERRCODE = 'check_violation', CONSTRAINT = 'products_stock_check', HINT = 'insufficient_stock';
  END IF;
  RETURN NEW;
END;
$$;

CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, created_at DESC);
CREATE INDEX stock_movements_created_at_idx ON stock_movements (created_at DESC);
CREATE INDEX products_category_idx ON products (category_id);
