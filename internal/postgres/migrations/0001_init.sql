-- Latchkey's first schema. IDs are text: most are random UUIDs, but session IDs are token
-- hashes and challenge IDs are the challenges themselves. Normalized names are COLLATE "C" so
-- that uniqueness and ordering are byte-wise whatever the database's locale.

CREATE TABLE users (
	id             text PRIMARY KEY,
	upn            text NOT NULL,
	upn_normalized text COLLATE "C" NOT NULL,
	display_name   text NOT NULL,
	given_name     text NOT NULL,
	surname        text NOT NULL,
	employee_id    text NOT NULL,
	enabled        boolean NOT NULL,
	user_type      text NOT NULL,
	roles          text[] NOT NULL,
	created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_upn_normalized ON users (upn_normalized);

CREATE TABLE groups (
	id              text PRIMARY KEY,
	display_name    text NOT NULL,
	name_normalized text COLLATE "C" NOT NULL,
	description     text NOT NULL,
	created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_name_normalized ON groups (name_normalized);

CREATE TABLE group_members (
	group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id ON group_members (user_id);

CREATE TABLE passkeys (
	id                 text PRIMARY KEY,
	user_id            text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id      bytea NOT NULL,
	public_key         bytea NOT NULL,
	sign_count         bigint NOT NULL,
	aaguid             text NOT NULL,
	attestation_format text NOT NULL,
	attestation_type   text NOT NULL,
	attestation_trust  text NOT NULL,
	transports         text[] NOT NULL,
	backup_eligible    boolean NOT NULL,
	backup_state       boolean NOT NULL,
	user_verified      boolean NOT NULL,
	kind               text NOT NULL,
	provider           text NOT NULL,
	nickname           text NOT NULL,
	possible_clone     boolean NOT NULL,
	created_at         timestamptz NOT NULL,
	last_used_at       timestamptz,
	last_used_platform text NOT NULL,
	attestation_object bytea NOT NULL,
	client_data_json   bytea NOT NULL
);
CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX passkeys_user_id ON passkeys (user_id, created_at);

-- At most one pass per user: the unique index makes racing replacements leave exactly one.
CREATE TABLE access_passes (
	id               text PRIMARY KEY,
	user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash             text NOT NULL,
	created_at       timestamptz NOT NULL,
	start_at         timestamptz NOT NULL,
	lifetime_minutes integer NOT NULL,
	one_time         boolean NOT NULL,
	used_at          timestamptz,
	created_by       text NOT NULL
);
CREATE UNIQUE INDEX access_passes_user_id ON access_passes (user_id);

CREATE TABLE sessions (
	id               text PRIMARY KEY,
	user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	methods          text[] NOT NULL,
	passkey_id       text NOT NULL,
	access_pass_id   text NOT NULL,
	created_at       timestamptz NOT NULL,
	authenticated_at timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	ip               text NOT NULL,
	user_agent       text NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE challenges (
	id         text PRIMARY KEY,
	ceremony   text NOT NULL,
	user_id    text NOT NULL,
	session_id text NOT NULL,
	data       bytea NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX challenges_expires_at ON challenges (expires_at);

CREATE TABLE throttles (
	key             text PRIMARY KEY,
	failures        integer NOT NULL,
	last_failure_at timestamptz NOT NULL
);

-- The sign-in log outlives users and passkeys, so it has no foreign keys.
CREATE TABLE sign_ins (
	id             text PRIMARY KEY,
	created_at     timestamptz NOT NULL,
	user_id        text NOT NULL,
	upn            text NOT NULL,
	ip             text NOT NULL,
	user_agent     text NOT NULL,
	method         text NOT NULL,
	passkey_id     text NOT NULL,
	passkey_kind   text NOT NULL,
	aaguid         text NOT NULL,
	result         text NOT NULL,
	error_code     text NOT NULL,
	detail         text NOT NULL,
	correlation_id text NOT NULL
);
CREATE INDEX sign_ins_created_at ON sign_ins (created_at);
CREATE INDEX sign_ins_user_id_created_at ON sign_ins (user_id, created_at);

CREATE TABLE settings (
	key   text PRIMARY KEY,
	value bytea NOT NULL
);
