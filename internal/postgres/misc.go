package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// FindThrottle returns the failure counter for key; one with no failures when there is none.
func (s *Store) FindThrottle(ctx context.Context, key string) (latchkey.Throttle, error) {
	t := latchkey.Throttle{Key: key}
	err := s.pool.QueryRow(ctx, `SELECT failures, last_failure_at FROM throttles WHERE key = $1`, key).
		Scan(&t.Failures, &t.LastFailureAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return latchkey.Throttle{}, storeError(err, "find throttle")
	}
	return t, nil
}

// pgDrained is the row's count drained to $2 (as Throttle.FailuresAt does): whole drains ($3
// microseconds) since the last failure, none for drain 0 or a last failure in the future.
const pgDrained = `GREATEST(0, t.failures - CASE WHEN $3::bigint > 0 AND $2::timestamptz > t.last_failure_at
	THEN LEAST(t.failures::bigint, (extract(epoch FROM $2::timestamptz - t.last_failure_at) * 1000000)::bigint / $3::bigint)::int
	ELSE 0 END)`

// reserveAttemptSQL counts one attempt in a single upsert, and only when the rule admits it
// (AttemptRule.Admits): $4 free, $5 limit (0: none), $6 longest delay in microseconds. The
// conflicting row is locked while its WHERE is checked, so racing callers are admitted one at a
// time; a row the rule refuses is not updated, and RETURNING then returns nothing.
var reserveAttemptSQL = strings.ReplaceAll(`INSERT INTO throttles AS t (key, failures, last_failure_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET failures = DRAINED + 1, last_failure_at = excluded.last_failure_at
		WHERE DRAINED < $4::int OR (($5::int = 0 OR DRAINED < $5::int)
			AND (extract(epoch FROM $2::timestamptz - t.last_failure_at) * 1000000)::bigint
				>= LEAST($6::bigint, 1000000::bigint << GREATEST(0, LEAST(DRAINED - $4::int, 30))))
		RETURNING failures, last_failure_at`, "DRAINED", pgDrained)

// ReserveAttempt counts one attempt against key when rule admits it, in one statement.
func (s *Store) ReserveAttempt(ctx context.Context, key string, at time.Time, rule latchkey.AttemptRule) (latchkey.Throttle, bool, error) {
	t := latchkey.Throttle{Key: key}
	err := s.pool.QueryRow(ctx, reserveAttemptSQL, key, dbTime(at), rule.Drain.Microseconds(),
		rule.Free, rule.Limit, rule.MaxDelay.Microseconds()).Scan(&t.Failures, &t.LastFailureAt)
	if errors.Is(err, pgx.ErrNoRows) {
		t, err = s.FindThrottle(ctx, key)
		return t, false, err
	}
	if err != nil {
		return latchkey.Throttle{}, false, storeError(err, "reserve attempt")
	}
	return t, true, nil
}

// ReleaseAttempt takes one counted attempt back from key.
func (s *Store) ReleaseAttempt(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `UPDATE throttles SET failures = GREATEST(0, failures - 1) WHERE key = $1`, key)
	return storeError(err, "release attempt")
}

// ResetThrottle clears key's counter, if any.
func (s *Store) ResetThrottle(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM throttles WHERE key = $1`, key)
	return storeError(err, "reset throttle")
}

const signInColumns = `id, created_at, user_id, upn, ip, user_agent, method, passkey_id, passkey_kind, aaguid,
	result, error_code, detail, correlation_id, app_id, platform, platform_version, strength, acr, amr, conditional_access`

// signInArgs are the values of signInColumns for e.
func signInArgs(e *latchkey.SignInEvent) []any {
	amr, policies := sqlstore.SignInAccess(e)
	return []any{e.ID, e.CreatedAt, e.UserID, e.UPN, e.IP, e.UserAgent, e.Method, e.PasskeyID, e.PasskeyKind, e.AAGUID,
		e.Result, e.ErrorCode, e.Detail, e.CorrelationID,
		e.AppID, e.Platform, e.PlatformVersion, e.Strength, e.ACR, amr, policies}
}

// scanSignIn reads one row of signInColumns.
func scanSignIn(row pgx.CollectableRow) (*latchkey.SignInEvent, error) {
	e := &latchkey.SignInEvent{}
	var amr, policies string
	if err := row.Scan(&e.ID, &e.CreatedAt, &e.UserID, &e.UPN, &e.IP, &e.UserAgent, &e.Method, &e.PasskeyID,
		&e.PasskeyKind, &e.AAGUID, &e.Result, &e.ErrorCode, &e.Detail, &e.CorrelationID,
		&e.AppID, &e.Platform, &e.PlatformVersion, &e.Strength, &e.ACR, &amr, &policies); err != nil {
		return nil, err
	}
	return e, sqlstore.SetSignInAccess(e, amr, policies)
}

// RecordSignIn appends e to the sign-in log, assigning ID and CreatedAt when empty.
func (s *Store) RecordSignIn(ctx context.Context, e *latchkey.SignInEvent) error {
	if e.ID == "" {
		e.ID = latchkey.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = sqlstore.Now()
	}
	e.CreatedAt = dbTime(e.CreatedAt)
	_, err := s.pool.Exec(ctx, `INSERT INTO sign_ins (`+signInColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		signInArgs(e)...)
	return storeError(err, "record sign-in")
}

// ListSignIns returns at most limit events, newest first, of one user when userID is not empty.
// A limit of zero or less means no limit.
func (s *Store) ListSignIns(ctx context.Context, userID string, limit int) ([]*latchkey.SignInEvent, error) {
	var max any // NULL: LIMIT ALL
	if limit > 0 {
		max = limit
	}
	var rows pgx.Rows
	var err error
	// Two queries rather than "$1 = '' OR user_id = $1", so each has a plan that uses its index.
	if userID == "" {
		rows, err = s.pool.Query(ctx, `SELECT `+signInColumns+` FROM sign_ins
			ORDER BY created_at DESC, id DESC LIMIT $1`, max)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+signInColumns+` FROM sign_ins WHERE user_id = $1
			ORDER BY created_at DESC, id DESC LIMIT $2`, userID, max)
	}
	if err != nil {
		return nil, storeError(err, "list sign-ins")
	}
	events, err := pgx.CollectRows(rows, scanSignIn)
	return events, storeError(err, "list sign-ins")
}

// ListSignInsFiltered returns the events matching every set field of f, newest first, at most
// f.EffectiveLimit() of them.
func (s *Store) ListSignInsFiltered(ctx context.Context, f latchkey.SignInFilter) ([]*latchkey.SignInEvent, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.UserID != "" {
		add("user_id = $%d", f.UserID)
	}
	if f.Result != "" {
		add("result = $%d", f.Result)
	}
	if f.Method != "" {
		add("method = $%d", f.Method)
	}
	if f.ErrorCode != "" {
		add("error_code = $%d", f.ErrorCode)
	}
	if f.AppID != "" {
		add("app_id = $%d", f.AppID)
	}
	if !f.Since.IsZero() {
		add("created_at >= $%d", dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("created_at < $%d", dbTime(f.Until))
	}
	query := `SELECT ` + signInColumns + ` FROM sign_ins`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.EffectiveLimit())
	query += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, storeError(err, "list sign-ins")
	}
	events, err := pgx.CollectRows(rows, scanSignIn)
	return events, storeError(err, "list sign-ins")
}

// GetSetting returns the value stored under key; ErrNotFound when there is none.
func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if err != nil {
		return nil, storeError(err, "get setting")
	}
	return value, nil
}

// CreateSetting stores value under key only when key has no value yet; ErrConflict otherwise.
func (s *Store) CreateSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)`, key, sqlstore.NonNil(value))
	return storeError(err, "create setting")
}

// updateSettingAttempts bounds how often UpdateSetting starts again after another transaction
// created the same absent key first.
const updateSettingAttempts = 3

// UpdateSetting replaces the value under key by what fn makes of the current one (nil when
// there is none), in one transaction that holds the row locked (SELECT ... FOR UPDATE) from the
// read to the write: no other change of key, from any node, lands in between. When key is absent
// and another node creates it meanwhile, the insert fails and the whole transaction runs again,
// fn included. fn's error is returned as it is and nothing is written.
func (s *Store) UpdateSetting(ctx context.Context, key string, fn func(current []byte) ([]byte, error)) ([]byte, error) {
	for attempt := 1; ; attempt++ {
		var stored []byte
		raced := false // the insert of an absent key lost to another node's
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			var current []byte
			err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1 FOR UPDATE`, key).Scan(&current)
			found := err == nil
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return storeError(err, "update setting")
			}
			next, err := fn(current)
			if err != nil {
				return err
			}
			stored = sqlstore.NonNil(next)
			if found {
				_, err = tx.Exec(ctx, `UPDATE settings SET value = $2 WHERE key = $1`, key, stored)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)`, key, stored)
				err = storeError(err, "update setting")
				raced = errors.Is(err, latchkey.ErrConflict)
				return err
			}
			return storeError(err, "update setting")
		})
		if raced && attempt < updateSettingAttempts {
			continue // another node created key first: read its value this time
		}
		if err != nil {
			return nil, err
		}
		return stored, nil
	}
}
