package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const sessionColumns = `id, user_id, methods, passkey_id, access_pass_id, created_at, authenticated_at, expires_at, ip, user_agent`

func scanSession(row scanner) (*latchkey.Session, error) {
	var sess latchkey.Session
	var methods string
	var created, authenticated, expires int64
	if err := row.Scan(&sess.ID, &sess.UserID, &methods, &sess.PasskeyID, &sess.AccessPassID, &created,
		&authenticated, &expires, &sess.IP, &sess.UserAgent); err != nil {
		return nil, err
	}
	var err error
	if sess.Methods, err = sqlstore.FromJSONList(methods); err != nil {
		return nil, err
	}
	sess.CreatedAt, sess.AuthenticatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(authenticated), fromMicros(expires)
	return &sess, nil
}

// CreateSession stores sess. It returns latchkey.ErrConflict when the ID is taken and
// latchkey.ErrNotFound when the user does not exist, or when sess was made with a pass
// (AccessPassID) that is no longer there: the check is part of the INSERT, and writes are
// serialized, so a sign-in racing with the pass's replacement cannot leave a session behind it.
func (s *Store) CreateSession(ctx context.Context, sess *latchkey.Session) error {
	res, err := s.w.ExecContext(ctx, createSession, sessionArgs(sess)...)
	return affected("create session", res, err)
}

// createSession is insertSession, only while the session's pass, if it names one, exists.
const createSession = `INSERT INTO sessions (` + sessionColumns + `)
	SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
	WHERE ?5 = '' OR EXISTS (SELECT 1 FROM access_passes WHERE id = ?5)`

// endSessionsOfPasskey and endSessionsOfPasses delete, within a transaction that revokes a
// credential, the sessions of a user made with that passkey, or with any pass.
const (
	endSessionsOfPasskey = `DELETE FROM sessions WHERE user_id = ? AND passkey_id = ?`
	endSessionsOfPasses  = `DELETE FROM sessions WHERE user_id = ? AND access_pass_id <> ''`
)

// insertSession stores one session, with the arguments of sessionArgs. CreateSession and
// CompletePasskeySignIn share it, and so its prepared statement.
const insertSession = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func sessionArgs(sess *latchkey.Session) []any {
	return []any{sess.ID, sess.UserID, sqlstore.JSONList(sess.Methods), sess.PasskeyID, sess.AccessPassID, micros(sess.CreatedAt),
		micros(sess.AuthenticatedAt), micros(sess.ExpiresAt), sess.IP, sess.UserAgent}
}

// FindSession returns the session if it has not expired at now; latchkey.ErrNotFound otherwise.
func (s *Store) FindSession(ctx context.Context, id string, now time.Time) (*latchkey.Session, error) {
	sess, err := scanSession(s.r.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ? AND expires_at > ?`, id, micros(now)))
	return sess, wrap("find session", err)
}

// DeleteSession removes the session, if it exists.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return wrap("delete session", err)
}

// DeleteExpiredSessions removes the sessions FindSession no longer returns at now, and
// returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(now))
	return rowsAffected("delete expired sessions", res, err)
}

const challengeColumns = `id, ceremony, user_id, session_id, data, expires_at`

// CreateChallenge stores a pending ceremony. It returns latchkey.ErrConflict when the ID is taken.
func (s *Store) CreateChallenge(ctx context.Context, c *latchkey.Challenge) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO challenges (`+challengeColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.Ceremony, c.UserID, c.SessionID, sqlstore.NonNil(c.Data), micros(c.ExpiresAt))
	return wrap("create challenge", err)
}

// TakeChallenge deletes and returns the challenge in one statement, so of many racing callers
// exactly one gets it and the others get latchkey.ErrNotFound. An expired challenge is deleted
// too, and is latchkey.ErrNotFound.
func (s *Store) TakeChallenge(ctx context.Context, id string, now time.Time) (*latchkey.Challenge, error) {
	var c latchkey.Challenge
	var expires int64
	err := s.w.QueryRowContext(ctx, `DELETE FROM challenges WHERE id = ? RETURNING `+challengeColumns, id).
		Scan(&c.ID, &c.Ceremony, &c.UserID, &c.SessionID, &c.Data, &expires)
	if err != nil {
		return nil, wrap("take challenge", err)
	}
	c.ExpiresAt = fromMicros(expires)
	if expires <= micros(now) {
		return nil, latchkey.ErrNotFound
	}
	return &c, nil
}

// DeleteExpiredChallenges removes the pending challenges and the records of used ones
// (CompletePasskeySignIn) that expired at or before now, in one transaction, and returns how
// many rows it removed from both.
func (s *Store) DeleteExpiredChallenges(ctx context.Context, now time.Time) (int, error) {
	return s.deleteExpired(ctx, "delete expired challenges", now, "challenges", "used_challenges")
}

// deleteExpired removes the rows of tables whose expires_at is at or before now, in one
// transaction, and returns how many.
func (s *Store) deleteExpired(ctx context.Context, verb string, now time.Time, tables ...string) (int, error) {
	var total int
	err := s.write(ctx, verb, func(tx *txn) error {
		for _, table := range tables {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at <= ?`, micros(now))
			n, err := rowsAffected(verb, res, err)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// MarkChallengeUsed implements latchkey.ChallengeStore.
func (s *Store) MarkChallengeUsed(ctx context.Context, id string, expiresAt time.Time) error {
	const verb = "mark challenge used"
	res, err := s.w.ExecContext(ctx, `INSERT INTO used_challenges (id, expires_at) VALUES (?, ?)
			ON CONFLICT (id) DO NOTHING`, id, micros(expiresAt))
	if err := affected(verb, res, err); errors.Is(err, latchkey.ErrNotFound) {
		return latchkey.ErrChallengeUsed
	} else if err != nil {
		return err
	}
	return nil
}

// EndUserSessions removes every session and refresh token of the user in one transaction and
// returns how many of each.
func (s *Store) EndUserSessions(ctx context.Context, userID string) (sessions, refreshTokens int, err error) {
	const verb = "end user sessions"
	err = s.write(ctx, verb, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if sessions, err = rowsAffected(verb, res, err); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ?`, userID)
		refreshTokens, err = rowsAffected(verb, res, err)
		return err
	})
	return sessions, refreshTokens, err
}
