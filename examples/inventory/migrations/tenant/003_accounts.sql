-- The people who work in this business's inventory, and their sessions. Both live in the
-- business's own schema: a session token of one business is not even looked up on another.
CREATE TABLE users (
  id serial PRIMARY KEY,
  email text NOT NULL CHECK (email = lower(email)),
  name text NOT NULL,
  -- scrypt$N$r$p$salt$key (base64url): the parameters travel with the hash, so they can be raised later.
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE sessions (
  -- The SHA-256 of the cookie's token: a copy of this table does not let anyone log in.
  token_hash text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- Sent back in every form of a logged-in page and compared on every POST.
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- One row per business. The invite code lets a colleague sign up (48 random bits from gen_random_uuid).
CREATE TABLE settings (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  invite_code text NOT NULL
);
INSERT INTO settings (invite_code) VALUES (upper(left(replace(gen_random_uuid()::text, '-', ''), 12)));
