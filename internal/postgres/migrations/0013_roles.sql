-- Roles and administrative units (DESIGN §5). A role is assigned over the whole directory
-- (unit_id NULL) or over one administrative unit; users.roles stays the list of the distinct
-- role names a person holds, which the store recomputes in the transaction that changes an
-- assignment, for the sign-in path and conditional access to read without another query.
CREATE TABLE administrative_units (
	id              text PRIMARY KEY,
	display_name    text NOT NULL,
	name_normalized text COLLATE "C" NOT NULL,
	description     text NOT NULL,
	created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX administrative_units_name_normalized ON administrative_units (name_normalized);

-- A member is a user or a group: one table each, so that both keep their foreign key.
CREATE TABLE unit_user_members (
	unit_id text NOT NULL REFERENCES administrative_units (id) ON DELETE CASCADE,
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (unit_id, user_id)
);
CREATE INDEX unit_user_members_user_id ON unit_user_members (user_id);

CREATE TABLE unit_group_members (
	unit_id  text NOT NULL REFERENCES administrative_units (id) ON DELETE CASCADE,
	group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (unit_id, group_id)
);
CREATE INDEX unit_group_members_group_id ON unit_group_members (group_id);

CREATE TABLE role_assignments (
	id         text PRIMARY KEY,
	user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       text NOT NULL,
	unit_id    text REFERENCES administrative_units (id) ON DELETE CASCADE,
	created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX role_assignments_scope ON role_assignments (user_id, role, coalesce(unit_id, ''));
CREATE INDEX role_assignments_unit_id ON role_assignments (unit_id);

-- The roles people already hold (the bootstrap admin's globalAdmin) become global assignments.
INSERT INTO role_assignments (id, user_id, role, unit_id, created_at)
SELECT gen_random_uuid()::text, u.id, r.role, NULL, u.created_at
FROM users u, LATERAL (SELECT DISTINCT unnest(u.roles) AS role) r;
