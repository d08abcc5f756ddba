-- The mail outbox: what to send and about whom, never the message (it is composed when sent,
-- so that no pass or token is stored). At most one pending item per non-empty key. A worker
-- claims an item by writing its holder and the end of its lease; an expired claim is free.
CREATE TABLE mail_outbox (
	id           text PRIMARY KEY,
	kind         text NOT NULL,
	key          text NOT NULL,
	subject_id   text NOT NULL,
	params       text NOT NULL,
	not_before   timestamptz NOT NULL,
	state        text NOT NULL,
	attempts     integer NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	sent_at      timestamptz,
	claim_holder text NOT NULL DEFAULT '',
	claim_until  timestamptz NOT NULL DEFAULT 'epoch'
);

CREATE UNIQUE INDEX mail_outbox_pending_key ON mail_outbox (key) WHERE state = 'pending' AND key <> '';
CREATE INDEX mail_outbox_due ON mail_outbox (not_before) WHERE state = 'pending';
CREATE INDEX mail_outbox_created ON mail_outbox (created_at, id COLLATE "C");
