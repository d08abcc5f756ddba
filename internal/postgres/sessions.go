package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// CreateSession stores sess; ErrConflict when its ID exists, ErrNotFound when the user does
// not exist or when sess was made with a pass (AccessPassID) that is no longer there. The INSERT
// takes a key-share lock on the pass's row, so it waits for a replacement of the pass in flight
// (whose UPDATE of the row's key conflicts with it) and then finds the pass gone; a replacement
// that comes after it waits in turn and then ends the session it wrote (ReplaceAccessPass).
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	sess.CreatedAt, sess.AuthenticatedAt, sess.ExpiresAt = dbTime(sess.CreatedAt), dbTime(sess.AuthenticatedAt), dbTime(sess.ExpiresAt)
	tag, err := s.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, methods, passkey_id, access_pass_id,
		created_at, authenticated_at, expires_at, ip, user_agent)
		SELECT $1::text, $2::text, $3::text[], $4::text, $5::text, $6::timestamptz, $7::timestamptz,
			$8::timestamptz, $9::text, $10::text
		WHERE $5::text = '' OR EXISTS (SELECT 1 FROM access_passes WHERE id = $5::text FOR KEY SHARE)`,
		sess.ID, sess.UserID, sqlstore.NonNil(sess.Methods), sess.PasskeyID, sess.AccessPassID,
		sess.CreatedAt, sess.AuthenticatedAt, sess.ExpiresAt, sess.IP, sess.UserAgent)
	if err != nil {
		return storeError(err, "create session")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// endSessionsOfPasskey and endSessionsOfPasses delete, within a transaction that revokes a
// credential, the sessions of a user made with that passkey, or with any pass. They run as their
// own statements after the one that revokes the credential, so that they see a session that a
// racing sign-in committed while that statement waited for the credential's row.
const (
	endSessionsOfPasskey = `DELETE FROM sessions WHERE user_id = $1 AND passkey_id = $2`
	endSessionsOfPasses  = `DELETE FROM sessions WHERE user_id = $1 AND access_pass_id <> ''`
)

// FindSession returns the session if it has not expired at now; ErrNotFound otherwise.
func (s *Store) FindSession(ctx context.Context, id string, now time.Time) (*latchkey.Session, error) {
	sess := &latchkey.Session{}
	err := s.pool.QueryRow(ctx, `SELECT id, user_id, methods, passkey_id, access_pass_id, created_at,
		authenticated_at, expires_at, ip, user_agent
		FROM sessions WHERE id = $1 AND expires_at > $2`, id, dbTime(now)).
		Scan(&sess.ID, &sess.UserID, &sess.Methods, &sess.PasskeyID, &sess.AccessPassID, &sess.CreatedAt,
			&sess.AuthenticatedAt, &sess.ExpiresAt, &sess.IP, &sess.UserAgent)
	if err != nil {
		return nil, storeError(err, "find session")
	}
	return sess, nil
}

// DeleteSession removes the session, if it exists.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return storeError(err, "delete session")
}

// DeleteExpiredSessions removes the sessions that have expired at now, those FindSession no
// longer returns, and reports how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, dbTime(now))
	if err != nil {
		return 0, storeError(err, "delete expired sessions")
	}
	return int(tag.RowsAffected()), nil
}

// CreateChallenge stores a pending ceremony; ErrConflict when its ID exists.
func (s *Store) CreateChallenge(ctx context.Context, c *latchkey.Challenge) error {
	c.ExpiresAt = dbTime(c.ExpiresAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO challenges (id, ceremony, user_id, session_id, data, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.Ceremony, c.UserID, c.SessionID, sqlstore.NonNil(c.Data), c.ExpiresAt)
	return storeError(err, "create challenge")
}

// TakeChallenge deletes and returns the challenge in one statement, so of many racing callers
// exactly one gets it and the others get ErrNotFound. A challenge expired at now is ErrNotFound
// too; it stays until DeleteExpiredChallenges.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (*latchkey.Challenge, error) {
	c := &latchkey.Challenge{}
	err := s.pool.QueryRow(ctx, `DELETE FROM challenges WHERE id = $1 AND expires_at > $2
		RETURNING id, ceremony, user_id, session_id, data, expires_at`, id, dbTime(now)).
		Scan(&c.ID, &c.Ceremony, &c.UserID, &c.SessionID, &c.Data, &c.ExpiresAt)
	if err != nil {
		return nil, storeError(err, "take challenge")
	}
	return c, nil
}

// DeleteExpiredChallenges removes the pending challenges and the records of used ones
// (CompletePasskeySignIn) that have expired at now, in one statement, and reports how many rows
// it removed from both.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `WITH pending AS (
			DELETE FROM challenges WHERE expires_at <= $1 RETURNING 1
		), used AS (
			DELETE FROM used_challenges WHERE expires_at <= $1 RETURNING 1
		)
		SELECT (SELECT count(*) FROM pending) + (SELECT count(*) FROM used)`, dbTime(now)).Scan(&n)
	if err != nil {
		return 0, storeError(err, "delete expired challenges")
	}
	return n, nil
}

// MarkChallengeUsed implements latchkey.ChallengeStore.
func (s *Store) MarkChallengeUsed(ctx context.Context, id string, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO used_challenges (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO NOTHING`, id, expiresAt.UTC())
	if err != nil {
		return storeError(err, "mark challenge used")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrChallengeUsed
	}
	return nil
}

// EndUserSessions removes every session and refresh token of the user in one transaction and
// returns how many of each.
func (s *Store) EndUserSessions(ctx context.Context, userID string) (sessions, refreshTokens int, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		if err != nil {
			return storeError(err, "end user sessions")
		}
		sessions = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE user_id = $1`, userID)
		if err != nil {
			return storeError(err, "end user sessions")
		}
		refreshTokens = int(tag.RowsAffected())
		return nil
	})
	return sessions, refreshTokens, err
}
