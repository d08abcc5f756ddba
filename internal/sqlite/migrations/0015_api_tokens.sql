-- API tokens for automation (DESIGN §4). Only the SHA-256 of the secret is kept. created_by
-- names the person who made the token ('' for the server's CLI) and has no foreign key: a
-- token outlives its creator, as the audit log does.
CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	scopes       TEXT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER,
	last_used_at INTEGER,
	revoked_at   INTEGER
) STRICT;

CREATE INDEX api_tokens_created ON api_tokens (created_at);
