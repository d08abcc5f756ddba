-- A person's manager (DESIGN §5: My Staff). Deleting the manager leaves the person without one.
ALTER TABLE users ADD COLUMN manager_id TEXT REFERENCES users (id) ON DELETE SET NULL;

CREATE INDEX users_manager ON users (manager_id) WHERE manager_id IS NOT NULL;
