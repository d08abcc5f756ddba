-- What the OpenID Connect provider keeps (latchkey.OIDCStore). Client names are COLLATE "C" so
-- that listing them orders byte-wise whatever the database's locale.

CREATE TABLE clients (
	id                        text PRIMARY KEY,
	name                      text COLLATE "C" NOT NULL,
	secret_hash               text NOT NULL,
	public                    boolean NOT NULL,
	redirect_uris             text[] NOT NULL,
	post_logout_redirect_uris text[] NOT NULL,
	created_at                timestamptz NOT NULL
);
CREATE INDEX clients_name ON clients (name, id);

-- An authorization request lives for minutes; no index on client_id, as only deleting a client,
-- rarely, looks requests up by it. user_id has no foreign key: it is empty until the person signs
-- in. code_hash is NULL until a code is issued, then unique, so a code finds one request.
CREATE TABLE auth_requests (
	id                    text PRIMARY KEY,
	client_id             text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	redirect_uri          text NOT NULL,
	scopes                text[] NOT NULL,
	state                 text NOT NULL,
	nonce                 text NOT NULL,
	response_type         text NOT NULL,
	response_mode         text NOT NULL,
	code_challenge        text NOT NULL,
	code_challenge_method text NOT NULL,
	acr_values            text[] NOT NULL,
	prompt                text[] NOT NULL,
	max_age_seconds       integer,
	login_hint            text NOT NULL,
	user_id               text NOT NULL,
	auth_time             timestamptz,
	amr                   text[] NOT NULL,
	acr                   text NOT NULL,
	done                  boolean NOT NULL,
	code_hash             text,
	created_at            timestamptz NOT NULL,
	expires_at            timestamptz NOT NULL
);
CREATE UNIQUE INDEX auth_requests_code_hash ON auth_requests (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX auth_requests_expires_at ON auth_requests (expires_at);

-- A refresh token's id is the hash of the token.
CREATE TABLE refresh_tokens (
	id         text PRIMARY KEY,
	client_id  text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
	user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes     text[] NOT NULL,
	amr        text[] NOT NULL,
	acr        text NOT NULL,
	auth_time  timestamptz NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_user_id_client_id ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client_id ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- Keys that sign ID tokens; private_key is PKCS#8 DER.
CREATE TABLE signing_keys (
	id          text PRIMARY KEY,
	algorithm   text NOT NULL,
	private_key bytea NOT NULL,
	created_at  timestamptz NOT NULL,
	retired_at  timestamptz
);
