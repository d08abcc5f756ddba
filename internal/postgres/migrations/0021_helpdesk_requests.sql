-- Helpdesk requests: an authentication admin's request for a recovery pass for a person who
-- holds a role, approved by a second administrator and executed once by the requester within
-- the hour (expires_at). decided_at and executed_at are NULL until set; pass_id is '' until the
-- pass exists. State changes are compare-and-set on state.
CREATE TABLE helpdesk_requests (
	id             text PRIMARY KEY,
	target_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	requester_id   text NOT NULL,
	reason         text NOT NULL,
	ticket         text NOT NULL,
	identity_check text NOT NULL,
	identity_note  text NOT NULL,
	created_at     timestamptz NOT NULL,
	expires_at     timestamptz NOT NULL,
	state          text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'executed', 'expired')),
	approver_id    text NOT NULL,
	decided_at     timestamptz,
	executed_at    timestamptz,
	pass_id        text NOT NULL
);
CREATE INDEX helpdesk_requests_created ON helpdesk_requests (created_at, id);
CREATE INDEX helpdesk_requests_target ON helpdesk_requests (target_id);
