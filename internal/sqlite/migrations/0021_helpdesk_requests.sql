-- Helpdesk requests: an authentication admin's request for a recovery pass for a person who
-- holds a role, approved by a second administrator and executed once by the requester within
-- the hour (expires_at). decided_at and executed_at are NULL until set; pass_id is '' until the
-- pass exists. State changes are compare-and-set on state.
CREATE TABLE helpdesk_requests (
	id             TEXT PRIMARY KEY,
	target_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	requester_id   TEXT NOT NULL,
	reason         TEXT NOT NULL,
	ticket         TEXT NOT NULL,
	identity_check TEXT NOT NULL,
	identity_note  TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	state          TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'executed', 'expired')),
	approver_id    TEXT NOT NULL,
	decided_at     INTEGER,
	executed_at    INTEGER,
	pass_id        TEXT NOT NULL
) STRICT;

CREATE INDEX helpdesk_requests_created ON helpdesk_requests (created_at, id);
CREATE INDEX helpdesk_requests_target ON helpdesk_requests (target_id);
