-- Latchkey's first schema. Times are INTEGER unix microseconds UTC; lists are JSON arrays in TEXT.
-- UPNs and group names are unique through a normalized copy (latchkey.NormalizeUPN).

CREATE TABLE users (
	id           TEXT PRIMARY KEY,
	upn          TEXT NOT NULL,
	upn_norm     TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	given_name   TEXT NOT NULL,
	surname      TEXT NOT NULL,
	employee_id  TEXT NOT NULL,
	enabled      INTEGER NOT NULL,
	user_type    TEXT NOT NULL,
	roles        TEXT NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE groups (
	id           TEXT PRIMARY KEY,
	display_name TEXT NOT NULL,
	name_norm    TEXT NOT NULL UNIQUE,
	description  TEXT NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
	group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_members_user ON group_members (user_id, group_id);

CREATE TABLE passkeys (
	id                 TEXT PRIMARY KEY,
	user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id      BLOB NOT NULL UNIQUE,
	public_key         BLOB NOT NULL,
	sign_count         INTEGER NOT NULL,
	aaguid             TEXT NOT NULL,
	attestation_format TEXT NOT NULL,
	attestation_type   TEXT NOT NULL,
	attestation_trust  TEXT NOT NULL,
	transports         TEXT NOT NULL,
	backup_eligible    INTEGER NOT NULL,
	backup_state       INTEGER NOT NULL,
	user_verified      INTEGER NOT NULL,
	kind               TEXT NOT NULL,
	provider           TEXT NOT NULL,
	nickname           TEXT NOT NULL,
	possible_clone     INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	last_used_at       INTEGER,
	last_used_platform TEXT NOT NULL,
	attestation_object BLOB NOT NULL,
	client_data_json   BLOB NOT NULL
) STRICT;

CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

CREATE TABLE access_passes (
	id               TEXT PRIMARY KEY,
	user_id          TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	hash             TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	start_at         INTEGER NOT NULL,
	lifetime_minutes INTEGER NOT NULL,
	one_time         INTEGER NOT NULL,
	used_at          INTEGER,
	created_by       TEXT NOT NULL
) STRICT;

-- Sessions and sign-ins are written by every sign-in: WITHOUT ROWID tables keyed by their id,
-- and only the indexes their queries need, keep the pages each sign-in dirties (and so the
-- WAL frames it writes) few.
CREATE TABLE sessions (
	id               TEXT PRIMARY KEY,
	user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	methods          TEXT NOT NULL,
	passkey_id       TEXT NOT NULL,
	access_pass_id   TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	authenticated_at INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	ip               TEXT NOT NULL,
	user_agent       TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_expires ON sessions (expires_at);

-- No foreign keys: a challenge may name a user that is not yet, or no longer, there.
CREATE TABLE challenges (
	id         TEXT PRIMARY KEY,
	ceremony   TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	session_id TEXT NOT NULL,
	data       BLOB NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX challenges_expires ON challenges (expires_at);

CREATE TABLE throttles (
	key             TEXT PRIMARY KEY,
	failures        INTEGER NOT NULL,
	last_failure_at INTEGER NOT NULL
) STRICT;

-- No foreign keys: the log outlives users and passkeys, and records attempts by unknown users.
CREATE TABLE sign_ins (
	id             TEXT PRIMARY KEY,
	created_at     INTEGER NOT NULL,
	user_id        TEXT NOT NULL,
	upn            TEXT NOT NULL,
	ip             TEXT NOT NULL,
	user_agent     TEXT NOT NULL,
	method         TEXT NOT NULL,
	passkey_id     TEXT NOT NULL,
	passkey_kind   TEXT NOT NULL,
	aaguid         TEXT NOT NULL,
	result         TEXT NOT NULL,
	error_code     TEXT NOT NULL,
	detail         TEXT NOT NULL,
	correlation_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sign_ins_created ON sign_ins (created_at);
CREATE INDEX sign_ins_user ON sign_ins (user_id, created_at);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
