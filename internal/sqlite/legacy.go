package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

const legacyColumns = `user_id, password_hash, password_set_at, totp_secret, totp_confirmed, totp_last_step, nudge_snoozes`

// FindLegacyCredentials returns the user's legacy credentials, or the zero value with UserID set
// when the user has none.
func (s *Store) FindLegacyCredentials(ctx context.Context, userID string) (*latchkey.LegacyCredentials, error) {
	c := &latchkey.LegacyCredentials{}
	var setAt sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT `+legacyColumns+` FROM legacy_credentials WHERE user_id = ?`, userID).
		Scan(&c.UserID, &c.PasswordHash, &setAt, &c.TOTPSecret, &c.TOTPConfirmed, &c.TOTPLastStep, &c.NudgeSnoozes)
	if err == sql.ErrNoRows {
		return &latchkey.LegacyCredentials{UserID: userID}, nil
	} else if err != nil {
		return nil, wrap("find legacy credentials", err)
	}
	c.PasswordSetAt = fromNullMicros(setAt)
	return c, nil
}

// SetPassword stores the user's password hash, replacing any earlier one; latchkey.ErrNotFound
// when the user does not exist.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, at time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO legacy_credentials (user_id, password_hash, password_set_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, password_set_at = excluded.password_set_at`,
		userID, hash, micros(at))
	return wrap("set password", err)
}

// DeletePassword removes the user's password, if any.
func (s *Store) DeletePassword(ctx context.Context, userID string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE legacy_credentials SET password_hash = '', password_set_at = NULL WHERE user_id = ?`, userID)
	return wrap("delete password", err)
}

// SetPendingTOTP stores a new unconfirmed authenticator secret; latchkey.ErrConflict while a
// confirmed one exists.
func (s *Store) SetPendingTOTP(ctx context.Context, userID, secret string) error {
	return s.write(ctx, "set pending totp", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO legacy_credentials (user_id, totp_secret) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_confirmed = 0, totp_last_step = 0
			WHERE legacy_credentials.totp_confirmed = 0`, userID, secret)
		n, err := rowsAffected("set pending totp", res, err)
		if err != nil {
			return err
		}
		if n == 0 {
			return latchkey.ErrConflict
		}
		return nil
	})
}

// ConfirmTOTP confirms the pending secret and records step as the last accepted one;
// latchkey.ErrConflict when secret is not the pending secret.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, secret string, step int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE legacy_credentials SET totp_confirmed = 1, totp_last_step = ?
		WHERE user_id = ? AND totp_secret = ? AND totp_secret <> '' AND totp_confirmed = 0`, step, userID, secret)
	n, err := rowsAffected("confirm totp", res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return latchkey.ErrConflict
	}
	return nil
}

// DeleteTOTP removes the user's authenticator secret, if any.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE legacy_credentials SET totp_secret = '', totp_confirmed = 0, totp_last_step = 0 WHERE user_id = ?`, userID)
	return wrap("delete totp", err)
}

// AdvanceTOTPStep records step as the last accepted step when it is later than the recorded
// one, in one conditional UPDATE, so of racing callers for one step exactly one wins.
func (s *Store) AdvanceTOTPStep(ctx context.Context, userID string, step int64) error {
	return s.write(ctx, "advance totp step", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE legacy_credentials SET totp_last_step = ?
			WHERE user_id = ? AND totp_confirmed = 1 AND totp_secret <> '' AND totp_last_step < ?`, step, userID, step)
		n, err := rowsAffected("advance totp step", res, err)
		if err != nil || n == 1 {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM legacy_credentials WHERE user_id = ? AND totp_confirmed = 1 AND totp_secret <> ''`, userID).Scan(&one)
		if err == nil {
			return latchkey.ErrConflict
		}
		return wrap("advance totp step", err)
	})
}

// SnoozeNudge adds one to the user's "Not now" count and returns the new count.
func (s *Store) SnoozeNudge(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.write(ctx, "snooze nudge", func(tx *txn) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO legacy_credentials (user_id, nudge_snoozes) VALUES (?, 1)
			ON CONFLICT (user_id) DO UPDATE SET nudge_snoozes = legacy_credentials.nudge_snoozes + 1
			RETURNING nudge_snoozes`, userID).Scan(&n)
		return wrap("snooze nudge", err)
	})
	return n, err
}
