-- Challenges already answered by a completed sign-in (Store.CompletePasskeySignIn), kept until
-- they expire so that the same assertion cannot be answered twice. Times are INTEGER unix
-- microseconds UTC.
--
-- No index on expires_at: every sign-in inserts here, and a second b-tree costs each of them a
-- page in the WAL, while the table holds only the last few minutes of sign-ins, which
-- DeleteExpiredChallenges scans once a minute.
CREATE TABLE used_challenges (
	id         TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
