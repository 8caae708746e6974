-- A one-time code that turns into a session on the business's own host. The platform's sign-up
-- form runs on the main host, where it cannot set the business's host-only cookie: it makes a
-- code here and redirects the new owner to /welcome?code=…, which redeems it (once, within a
-- minute) and sets the session cookie the way log-in does.
CREATE TABLE session_handoffs (
  -- The SHA-256 of the code: a copy of this table does not let anyone log in.
  code_hash text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
