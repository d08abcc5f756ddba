-- A person's profile as an administrator edits it: department, start date (YYYY-MM-DD, '' when
-- not known), work mail and a personal mail to send a first pass to.
ALTER TABLE users ADD COLUMN department text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN start_date text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mail text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN personal_mail text NOT NULL DEFAULT '';
