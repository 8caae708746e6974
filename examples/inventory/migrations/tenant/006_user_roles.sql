-- Owners manage the team (remove members, change roles, regenerate the invite code) and may
-- delete products; staff work the catalogue and the stock. The user who signs a business up is
-- its owner; colleagues who join with the invite code are staff.
-- The constraint is named: Citus refuses to add a column with an unnamed one to a distributed table.
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'staff' CONSTRAINT users_role_check CHECK (role IN ('owner', 'staff'));

-- A business from before roles: its first user is the one who signed it up.
UPDATE users SET role = 'owner' WHERE id = (SELECT min(id) FROM users);
