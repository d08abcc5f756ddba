-- The mail outbox: what to send and about whom, never the message (it is composed when sent,
-- so that no pass or token is stored). At most one pending item per non-empty key. A worker
-- claims an item by writing its holder and the end of its lease; an expired claim is free.
CREATE TABLE mail_outbox (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	key          TEXT NOT NULL,
	subject_id   TEXT NOT NULL,
	params       TEXT NOT NULL,
	not_before   INTEGER NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	sent_at      INTEGER,
	claim_holder TEXT NOT NULL DEFAULT '',
	claim_until  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX mail_outbox_pending_key ON mail_outbox (key) WHERE state = 'pending' AND key <> '';
CREATE INDEX mail_outbox_due ON mail_outbox (not_before) WHERE state = 'pending';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at, id);
