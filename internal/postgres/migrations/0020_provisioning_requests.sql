-- The provisioning log: one row per request to the SCIM server, for the admins' provisioning
-- page. It is bounded (latchkey.ProvisioningRetention): each insert deletes the rows it no longer
-- keeps. body and error_detail are '' except for refused requests; the body has no password.
CREATE TABLE provisioning_requests (
	id             text PRIMARY KEY,
	time           timestamptz NOT NULL,
	token_id       text NOT NULL,
	method         text NOT NULL,
	path           text NOT NULL,
	status         integer NOT NULL,
	correlation_id text NOT NULL,
	body           text NOT NULL,
	error_detail   text NOT NULL
);
CREATE INDEX provisioning_requests_time ON provisioning_requests (time, id);
