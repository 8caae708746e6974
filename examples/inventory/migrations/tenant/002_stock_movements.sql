CREATE TABLE stock_movements (
  id serial PRIMARY KEY,
  product_id integer NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('in', 'out', 'adjustment')),
  quantity integer NOT NULL,
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Stock never goes negative: every movement updates the product in the same statement's transaction.
CREATE FUNCTION apply_stock_movement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE products
     SET stock = stock + CASE NEW.kind WHEN 'out' THEN -NEW.quantity ELSE NEW.quantity END
   WHERE id = NEW.product_id;
  RETURN NEW;
END;
$$;
CREATE TRIGGER stock_movements_apply AFTER INSERT ON stock_movements
  FOR EACH ROW EXECUTE FUNCTION apply_stock_movement();
