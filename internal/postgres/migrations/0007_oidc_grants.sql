-- Grants: every refresh token descended from one code exchange shares a grant id, and access
-- tokens carry it, so that the reuse of a spent code or refresh token revokes the whole grant.
-- Tokens stored before this migration each make a grant of their own.
ALTER TABLE refresh_tokens ADD COLUMN grant_id text NOT NULL DEFAULT '';
UPDATE refresh_tokens SET grant_id = id;
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);

-- The hash of every redeemed code and rotated refresh token, with its grant, kept until the code
-- or token would have expired, so that its reuse is recognised.
CREATE TABLE spent_secrets (
	hash       text PRIMARY KEY,
	grant_id   text NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX spent_secrets_expires_at ON spent_secrets (expires_at);

-- Revoked grants, kept until every access token issued on them has expired.
CREATE TABLE revoked_grants (
	grant_id   text PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX revoked_grants_expires_at ON revoked_grants (expires_at);
