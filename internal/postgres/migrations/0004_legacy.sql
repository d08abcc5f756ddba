-- Legacy sign-in methods, for migration only (latchkey.LegacyCredentialStore): one row per user
-- who has a password, an authenticator app, or said "Not now" to creating a passkey. The row
-- goes with its user.
--
-- password_hash is an argon2id PHC string ('' for none). totp_secret is the base32 secret (''
-- for none), usable once totp_confirmed; totp_last_step is the time step of the last accepted
-- code, which only ever grows, so that a code works once.
CREATE TABLE legacy_credentials (
	user_id         text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	password_hash   text NOT NULL DEFAULT '',
	password_set_at timestamptz,
	totp_secret     text NOT NULL DEFAULT '',
	totp_confirmed  boolean NOT NULL DEFAULT false,
	totp_last_step  bigint NOT NULL DEFAULT 0,
	nudge_snoozes   integer NOT NULL DEFAULT 0
);
