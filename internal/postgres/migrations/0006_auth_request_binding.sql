-- An authorization request is bound to the browser that started it (the hash of that browser's
-- binding cookie) and, once signed in for, to the session that completed it: its code goes only
-- to a browser that holds both.
ALTER TABLE auth_requests ADD COLUMN browser_hash text NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN session_id text NOT NULL DEFAULT '';
