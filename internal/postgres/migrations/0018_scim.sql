-- Provisioning by SCIM: the id the provisioning client gives a person or group (externalId, kept
-- as sent) and where a person came from ('scim' for one created by SCIM, '' otherwise).
ALTER TABLE users ADD COLUMN external_id text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN external_id text NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN source text NOT NULL DEFAULT '';
-- SCIM clients look people up by externalId (Entra's default matching).
CREATE INDEX users_external_id ON users (external_id) WHERE external_id <> '';
