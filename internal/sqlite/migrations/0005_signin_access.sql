-- Conditional access and assurance on the sign-in log: the application (client id, or the user
-- action), the platform from UA client hints, the strengths met, acr, amr (space-separated) and
-- every conditional access policy's result (JSON array).
ALTER TABLE sign_ins ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN platform_version TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN strength TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN acr TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE sign_ins ADD COLUMN conditional_access TEXT NOT NULL DEFAULT '[]';
-- No index on app_id: it would cost every sign-in one more index write; the log is read
-- newest first through the created_at index, filtered as it goes.
