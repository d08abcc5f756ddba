package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// FindThrottle returns the failure counter for key; one with no failures when there is none.
func (s *Store) FindThrottle(ctx context.Context, key string) (latchkey.Throttle, error) {
	th := latchkey.Throttle{Key: key}
	var last int64
	err := s.r.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM throttles WHERE key = ?`, key).Scan(&th.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return th, nil
	}
	if err != nil {
		return latchkey.Throttle{}, wrap("find throttle", err)
	}
	th.LastFailureAt = fromMicros(last)
	return th, nil
}

// sqliteDrained is a throttle row's count drained to ?2 (as Throttle.FailuresAt does): whole
// drains (?3 microseconds) since the last failure, none for drain 0 or a last failure in the
// future (another node's clock).
const sqliteDrained = `MAX(0, failures - CASE WHEN ?3 > 0 AND ?2 > last_failure_at THEN (?2 - last_failure_at) / ?3 ELSE 0 END)`

// reserveAttemptSQL counts one attempt in a single upsert, and only when the rule admits it
// (AttemptRule.Admits): ?4 free, ?5 limit (0: none), ?6 longest delay in microseconds. A row
// the rule refuses is not updated, and RETURNING then returns nothing.
var reserveAttemptSQL = strings.ReplaceAll(`INSERT INTO throttles (key, failures, last_failure_at) VALUES (?1, 1, ?2)
		ON CONFLICT (key) DO UPDATE SET failures = DRAINED + 1, last_failure_at = excluded.last_failure_at
		WHERE DRAINED < ?4 OR ((?5 = 0 OR DRAINED < ?5)
			AND ?2 - last_failure_at >= MIN(?6, 1000000 << MAX(0, MIN(DRAINED - ?4, 30))))
		RETURNING failures, last_failure_at`, "DRAINED", sqliteDrained)

// ReserveAttempt counts one attempt against key when rule admits it, in one statement, so that
// racing callers are admitted one at a time.
func (s *Store) ReserveAttempt(ctx context.Context, key string, at time.Time, rule latchkey.AttemptRule) (latchkey.Throttle, bool, error) {
	th := latchkey.Throttle{Key: key}
	var last int64
	err := s.w.QueryRowContext(ctx, reserveAttemptSQL, key, micros(at), rule.Drain.Microseconds(),
		rule.Free, rule.Limit, rule.MaxDelay.Microseconds()).Scan(&th.Failures, &last)
	if errors.Is(err, sql.ErrNoRows) {
		th, err = s.FindThrottle(ctx, key)
		return th, false, err
	}
	if err != nil {
		return latchkey.Throttle{}, false, wrap("reserve attempt", err)
	}
	th.LastFailureAt = fromMicros(last)
	return th, true, nil
}

// ReleaseAttempt takes one counted attempt back from key.
func (s *Store) ReleaseAttempt(ctx context.Context, key string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE throttles SET failures = MAX(0, failures - 1) WHERE key = ?`, key)
	return wrap("release attempt", err)
}

// ResetThrottle clears key's counter.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM throttles WHERE key = ?`, key)
	return wrap("reset throttle", err)
}

const signInColumns = `id, created_at, user_id, upn, ip, user_agent, method, passkey_id, passkey_kind, aaguid,
	result, error_code, detail, correlation_id, app_id, platform, platform_version, strength, acr, amr, conditional_access`

func scanSignIn(row scanner) (*latchkey.SignInEvent, error) {
	var e latchkey.SignInEvent
	var created int64
	var amr, policies string
	if err := row.Scan(&e.ID, &created, &e.UserID, &e.UPN, &e.IP, &e.UserAgent, &e.Method, &e.PasskeyID,
		&e.PasskeyKind, &e.AAGUID, &e.Result, &e.ErrorCode, &e.Detail, &e.CorrelationID,
		&e.AppID, &e.Platform, &e.PlatformVersion, &e.Strength, &e.ACR, &amr, &policies); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMicros(created)
	return &e, sqlstore.SetSignInAccess(&e, amr, policies)
}

// RecordSignIn appends e to the sign-in log, assigning ID and CreatedAt when empty.
func (s *Store) RecordSignIn(ctx context.Context, e *latchkey.SignInEvent) error {
	if e.ID == "" {
		e.ID = latchkey.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = sqlstore.Now()
	}
	_, err := s.w.ExecContext(ctx, insertSignIn, signInArgs(e)...)
	return wrap("record sign-in", err)
}

// insertSignIn stores one sign-in event, with the arguments of signInArgs. RecordSignIn and
// CompletePasskeySignIn share it, and so its prepared statement.
const insertSignIn = `INSERT INTO sign_ins (` + signInColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func signInArgs(e *latchkey.SignInEvent) []any {
	amr, policies := sqlstore.SignInAccess(e)
	return []any{e.ID, micros(e.CreatedAt), e.UserID, e.UPN, e.IP, e.UserAgent, e.Method, e.PasskeyID, e.PasskeyKind,
		e.AAGUID, e.Result, e.ErrorCode, e.Detail, e.CorrelationID,
		e.AppID, e.Platform, e.PlatformVersion, e.Strength, e.ACR, amr, policies}
}

// ListSignIns returns at most limit events, newest first, of userID when it is not empty.
// A limit of zero or less means no limit.
func (s *Store) ListSignIns(ctx context.Context, userID string, limit int) ([]*latchkey.SignInEvent, error) {
	if limit <= 0 {
		limit = -1 // SQLite's "no limit"
	}
	if userID == "" {
		return list(ctx, s.r, "list sign-ins", scanSignIn,
			`SELECT `+signInColumns+` FROM sign_ins ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	}
	return list(ctx, s.r, "list sign-ins", scanSignIn,
		`SELECT `+signInColumns+` FROM sign_ins WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, userID, limit)
}

// ListSignInsFiltered returns the events matching every set field of f, newest first, at most
// f.EffectiveLimit() of them.
func (s *Store) ListSignInsFiltered(ctx context.Context, f latchkey.SignInFilter) ([]*latchkey.SignInEvent, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.Result != "" {
		add("result = ?", f.Result)
	}
	if f.Method != "" {
		add("method = ?", f.Method)
	}
	if f.ErrorCode != "" {
		add("error_code = ?", f.ErrorCode)
	}
	if f.AppID != "" {
		add("app_id = ?", f.AppID)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < ?", micros(f.Until))
	}
	query := `SELECT ` + signInColumns + ` FROM sign_ins`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, f.EffectiveLimit())
	return list(ctx, s.r, "list sign-ins", scanSignIn, query, args...)
}

// GetSetting returns the value stored under key; latchkey.ErrNotFound when there is none.
func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return nil, wrap("get setting", err)
	}
	return v, nil
}

// CreateSetting stores value under key only when key has no value yet; latchkey.ErrConflict
// otherwise.
func (s *Store) CreateSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, key, sqlstore.NonNil(value))
	return wrap("create setting", err)
}

// UpdateSetting replaces the value under key by what fn makes of the current one (nil when
// there is none), in one IMMEDIATE transaction on the writer connection: no other change of key,
// from this store or another process on the file, lands between the read and the write. fn's
// error is returned as it is and nothing is written.
func (s *Store) UpdateSetting(ctx context.Context, key string, fn func(current []byte) ([]byte, error)) ([]byte, error) {
	var stored []byte
	err := s.write(ctx, "update setting", func(tx *txn) error {
		var current []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return wrap("update setting", err)
		}
		next, err := fn(current)
		if err != nil {
			return err
		}
		stored = sqlstore.NonNil(next)
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, stored)
		return wrap("update setting", err)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}
