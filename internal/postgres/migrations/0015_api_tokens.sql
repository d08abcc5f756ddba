-- API tokens for automation (DESIGN §4). Only the SHA-256 of the secret is kept. created_by
-- names the person who made the token ('' for the server's CLI) and has no foreign key: a
-- token outlives its creator, as the audit log does.
CREATE TABLE api_tokens (
	id           text PRIMARY KEY,
	name         text NOT NULL,
	hash         text NOT NULL,
	scopes       text[] NOT NULL,
	created_by   text NOT NULL,
	created_at   timestamptz NOT NULL,
	expires_at   timestamptz,
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);
CREATE INDEX api_tokens_created_at ON api_tokens (created_at);
