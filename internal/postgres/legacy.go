package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
)

const legacyColumns = `user_id, password_hash, password_set_at, totp_secret, totp_confirmed, totp_last_step, nudge_snoozes`

// FindLegacyCredentials returns the user's legacy credentials, or the zero value with UserID set
// when the user has none.
func (s *Store) FindLegacyCredentials(ctx context.Context, userID string) (*latchkey.LegacyCredentials, error) {
	c := &latchkey.LegacyCredentials{}
	err := s.pool.QueryRow(ctx, `SELECT `+legacyColumns+` FROM legacy_credentials WHERE user_id = $1`, userID).
		Scan(&c.UserID, &c.PasswordHash, &c.PasswordSetAt, &c.TOTPSecret, &c.TOTPConfirmed, &c.TOTPLastStep, &c.NudgeSnoozes)
	if errors.Is(err, pgx.ErrNoRows) {
		return &latchkey.LegacyCredentials{UserID: userID}, nil
	} else if err != nil {
		return nil, storeError(err, "find legacy credentials")
	}
	return c, nil
}

// SetPassword stores the user's password hash, replacing any earlier one; ErrNotFound when the
// user does not exist.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO legacy_credentials (user_id, password_hash, password_set_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, password_set_at = excluded.password_set_at`,
		userID, hash, dbTime(at))
	return storeError(err, "set password")
}

// DeletePassword removes the user's password, if any.
func (s *Store) DeletePassword(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE legacy_credentials SET password_hash = '', password_set_at = NULL WHERE user_id = $1`, userID)
	return storeError(err, "delete password")
}

// SetPendingTOTP stores a new unconfirmed authenticator secret; ErrConflict while a confirmed
// one exists. One upsert whose update is conditional, so it cannot race a confirmation.
func (s *Store) SetPendingTOTP(ctx context.Context, userID, secret string) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO legacy_credentials (user_id, totp_secret) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, totp_confirmed = false, totp_last_step = 0
		WHERE NOT legacy_credentials.totp_confirmed`, userID, secret)
	if err != nil {
		return storeError(err, "set pending totp")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrConflict
	}
	return nil
}

// ConfirmTOTP confirms the pending secret and records step as the last accepted one;
// ErrConflict when secret is not the pending secret.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, secret string, step int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE legacy_credentials SET totp_confirmed = true, totp_last_step = $3
		WHERE user_id = $1 AND totp_secret = $2 AND totp_secret <> '' AND NOT totp_confirmed`, userID, secret, step)
	if err != nil {
		return storeError(err, "confirm totp")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrConflict
	}
	return nil
}

// DeleteTOTP removes the user's authenticator secret, if any.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE legacy_credentials SET totp_secret = '', totp_confirmed = false, totp_last_step = 0 WHERE user_id = $1`, userID)
	return storeError(err, "delete totp")
}

// AdvanceTOTPStep records step as the last accepted step when it is later than the recorded
// one. The conditional UPDATE takes the row lock and re-checks the condition after a racing
// update commits, so of racing callers for one step exactly one wins.
func (s *Store) AdvanceTOTPStep(ctx context.Context, userID string, step int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE legacy_credentials SET totp_last_step = $2
		WHERE user_id = $1 AND totp_confirmed AND totp_secret <> '' AND totp_last_step < $2`, userID, step)
	if err != nil {
		return storeError(err, "advance totp step")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	ok, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM legacy_credentials WHERE user_id = $1 AND totp_confirmed AND totp_secret <> '')`, userID)
	if err != nil {
		return storeError(err, "advance totp step")
	}
	if !ok {
		return latchkey.ErrNotFound
	}
	return latchkey.ErrConflict
}

// SnoozeNudge adds one to the user's "Not now" count and returns the new count.
func (s *Store) SnoozeNudge(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `INSERT INTO legacy_credentials (user_id, nudge_snoozes) VALUES ($1, 1)
		ON CONFLICT (user_id) DO UPDATE SET nudge_snoozes = legacy_credentials.nudge_snoozes + 1
		RETURNING nudge_snoozes`, userID).Scan(&n)
	return n, storeError(err, "snooze nudge")
}
