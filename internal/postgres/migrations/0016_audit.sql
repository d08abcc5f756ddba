-- The tamper-evident audit log. Events are inserted unsealed (seq NULL) in the transaction of
-- their change; one sealer later gives them seq and leaf_hash in (time, id) order and stores a
-- signed checkpoint. seq and checkpoint size are unique, so a second sealer fails loudly
-- instead of forking the log. Names are kept as they were, without foreign keys.
CREATE TABLE audit_events (
	id             text PRIMARY KEY,
	time           bigint NOT NULL, -- microseconds since 1970, as the seal encodes it
	actor_kind     text NOT NULL,
	actor_id       text NOT NULL,
	actor_name     text NOT NULL,
	action         text NOT NULL,
	target_kind    text NOT NULL,
	target_id      text NOT NULL,
	target_name    text NOT NULL,
	summary        text NOT NULL,
	correlation_id text NOT NULL,
	seq            bigint UNIQUE,
	leaf_hash      bytea
);

CREATE INDEX audit_events_time ON audit_events (time, id COLLATE "C");
CREATE INDEX audit_events_unsealed ON audit_events (time, id COLLATE "C") WHERE seq IS NULL;

CREATE TABLE audit_checkpoints (
	size      bigint PRIMARY KEY,
	root      bytea NOT NULL,
	range_hashes bytea NOT NULL,
	note      text NOT NULL,
	sealed_at timestamptz NOT NULL
);

-- The audit log's note signing key, apart from the token-signing keys.
CREATE TABLE audit_key (
	id       integer PRIMARY KEY CHECK (id = 1),
	signer   text NOT NULL,
	verifier text NOT NULL
);
