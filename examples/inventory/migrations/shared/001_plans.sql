CREATE TABLE plans (
  id text PRIMARY KEY,
  name text NOT NULL,
  max_products integer NOT NULL
);
INSERT INTO plans (id, name, max_products) VALUES ('free', 'Free', 50), ('pro', 'Pro', 10000);
