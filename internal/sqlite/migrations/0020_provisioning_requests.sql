-- The provisioning log: one row per request to the SCIM server, for the admins' provisioning
-- page. It is bounded (latchkey.ProvisioningRetention): each insert deletes the rows it no longer
-- keeps. body and error_detail are '' except for refused requests; the body has no password.
CREATE TABLE provisioning_requests (
	id             TEXT PRIMARY KEY,
	time           INTEGER NOT NULL,
	token_id       TEXT NOT NULL,
	method         TEXT NOT NULL,
	path           TEXT NOT NULL,
	status         INTEGER NOT NULL,
	correlation_id TEXT NOT NULL,
	body           TEXT NOT NULL,
	error_detail   TEXT NOT NULL
) STRICT;

CREATE INDEX provisioning_requests_time ON provisioning_requests (time, id);
