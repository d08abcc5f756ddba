-- Roles and administrative units (DESIGN §5). A role is assigned over the whole directory
-- (unit_id NULL) or over one administrative unit; users.roles stays the list of the distinct
-- role names a person holds, which the store recomputes in the transaction that changes an
-- assignment, for the sign-in path and conditional access to read without another query.
CREATE TABLE administrative_units (
	id           TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	name_norm    TEXT NOT NULL UNIQUE,
	description  TEXT NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;

-- A member is a user or a group: one table each, so that both keep their foreign key.
CREATE TABLE unit_user_members (
	unit_id TEXT NOT NULL REFERENCES administrative_units (id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (unit_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX unit_user_members_user ON unit_user_members (user_id, unit_id);

CREATE TABLE unit_group_members (
	unit_id  TEXT NOT NULL REFERENCES administrative_units (id) ON DELETE CASCADE,
	group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (unit_id, group_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX unit_group_members_group ON unit_group_members (group_id, unit_id);

CREATE TABLE role_assignments (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       TEXT NOT NULL,
	unit_id    TEXT REFERENCES administrative_units (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX role_assignments_scope ON role_assignments (user_id, role, coalesce(unit_id, ''));
CREATE INDEX role_assignments_unit ON role_assignments (unit_id);

-- The roles people already hold (the bootstrap admin's globalAdmin) become global assignments.
INSERT INTO role_assignments (id, user_id, role, unit_id, created_at)
SELECT lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), substr(hex(randomblob(2)), 2),
		substr('89ab', 1 + (random() & 3), 1), substr(hex(randomblob(2)), 2), hex(randomblob(6)))),
	u.id, r.value, NULL, u.created_at
FROM users u, json_each(u.roles) r
GROUP BY u.id, r.value;
