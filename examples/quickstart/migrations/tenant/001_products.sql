CREATE TABLE products (
  id serial PRIMARY KEY,
  name text NOT NULL
);

INSERT INTO products (name) VALUES ('Anvil'), ('Rocket skates');
