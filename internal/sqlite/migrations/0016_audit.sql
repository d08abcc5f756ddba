-- The tamper-evident audit log. Events are inserted unsealed (seq NULL) in the transaction of
-- their change; one sealer later gives them seq and leaf_hash in (time, id) order and stores a
-- signed checkpoint. seq and checkpoint size are unique, so a second sealer fails loudly
-- instead of forking the log. Names are kept as they were, without foreign keys.
CREATE TABLE audit_events (
	id             TEXT PRIMARY KEY,
	time           INTEGER NOT NULL,
	actor_kind     TEXT NOT NULL,
	actor_id       TEXT NOT NULL,
	actor_name     TEXT NOT NULL,
	action         TEXT NOT NULL,
	target_kind    TEXT NOT NULL,
	target_id      TEXT NOT NULL,
	target_name    TEXT NOT NULL,
	summary        TEXT NOT NULL,
	correlation_id TEXT NOT NULL,
	seq            INTEGER UNIQUE,
	leaf_hash      BLOB
) STRICT;

CREATE INDEX audit_events_time ON audit_events (time, id);
CREATE INDEX audit_events_unsealed ON audit_events (time, id) WHERE seq IS NULL;

CREATE TABLE audit_checkpoints (
	size      INTEGER PRIMARY KEY,
	root      BLOB NOT NULL,
	range_hashes BLOB NOT NULL,
	note      TEXT NOT NULL,
	sealed_at INTEGER NOT NULL
) STRICT;

-- The audit log's note signing key, apart from the token-signing keys.
CREATE TABLE audit_key (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	signer   TEXT NOT NULL,
	verifier TEXT NOT NULL
) STRICT;
