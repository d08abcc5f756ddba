-- What the OpenID Connect provider keeps (latchkey.OIDCStore). Times are INTEGER unix
-- microseconds UTC; lists are JSON arrays in TEXT.

CREATE TABLE clients (
	id                        TEXT PRIMARY KEY,
	name                      TEXT NOT NULL,
	secret_hash               TEXT NOT NULL,
	public                    INTEGER NOT NULL,
	redirect_uris             TEXT NOT NULL,
	post_logout_redirect_uris TEXT NOT NULL,
	created_at                INTEGER NOT NULL
) STRICT;

CREATE INDEX clients_name ON clients (name, id);

-- An authorization request lives for minutes; no index on client_id, as only deleting a client,
-- rarely, looks requests up by it. user_id has no foreign key: it is empty until the person signs
-- in. code_hash is NULL until a code is issued, then unique, so a code finds one request.
CREATE TABLE auth_requests (
	id                    TEXT PRIMARY KEY,
	client_id             TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	redirect_uri          TEXT NOT NULL,
	scopes                TEXT NOT NULL,
	state                 TEXT NOT NULL,
	nonce                 TEXT NOT NULL,
	response_type         TEXT NOT NULL,
	response_mode         TEXT NOT NULL,
	code_challenge        TEXT NOT NULL,
	code_challenge_method TEXT NOT NULL,
	acr_values            TEXT NOT NULL,
	prompt                TEXT NOT NULL,
	max_age_seconds       INTEGER,
	login_hint            TEXT NOT NULL,
	user_id               TEXT NOT NULL,
	auth_time             INTEGER,
	amr                   TEXT NOT NULL,
	acr                   TEXT NOT NULL,
	done                  INTEGER NOT NULL,
	code_hash             TEXT,
	created_at            INTEGER NOT NULL,
	expires_at            INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX auth_requests_code_hash ON auth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

-- A refresh token's id is the hash of the token.
CREATE TABLE refresh_tokens (
	id         TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL,
	amr        TEXT NOT NULL,
	acr        TEXT NOT NULL,
	auth_time  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- Keys that sign ID tokens; private_key is PKCS#8 DER.
CREATE TABLE signing_keys (
	id          TEXT PRIMARY KEY,
	algorithm   TEXT NOT NULL,
	private_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER
) STRICT;
