-- Challenges already answered by a completed sign-in (Store.CompletePasskeySignIn), kept until
-- they expire so that the same assertion cannot be answered twice.
CREATE TABLE used_challenges (
	id         text PRIMARY KEY,
	expires_at timestamptz NOT NULL
);
CREATE INDEX used_challenges_expires_at ON used_challenges (expires_at);
