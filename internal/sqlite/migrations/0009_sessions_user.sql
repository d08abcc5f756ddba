-- Revoking a credential ends the sessions made with it, in the transaction that revokes it
-- (ReplaceAccessPass, DeleteAccessPass, DeletePasskey, FlagPasskeyPossibleClone): they are found
-- among the user's sessions, as PostgreSQL's sessions_user_id finds them.
CREATE INDEX sessions_user_id ON sessions (user_id);
