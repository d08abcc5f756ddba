package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const apiTokenColumns = `id, name, hash, scopes, created_by, created_at, expires_at, last_used_at, revoked_at`

func scanAPIToken(row scanner) (*latchkey.APIToken, error) {
	var t latchkey.APIToken
	var scopes string
	var created int64
	var expires, used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &scopes, &t.CreatedBy, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	var err error
	if t.Scopes, err = sqlstore.FromJSONList(scopes); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNullMicros(expires), fromNullMicros(used), fromNullMicros(revoked)
	return &t, nil
}

// CreateAPIToken stores t, assigning ID and CreatedAt when empty; ErrConflict when its id or
// hash exists.
func (s *Store) CreateAPIToken(ctx context.Context, t *latchkey.APIToken) error {
	if t.ID == "" {
		t.ID = latchkey.NewID()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = sqlstore.Now()
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Hash, sqlstore.JSONList(t.Scopes), t.CreatedBy, micros(t.CreatedAt), nullMicros(t.ExpiresAt),
		nullMicros(t.LastUsedAt), nullMicros(t.RevokedAt))
	return wrap("create api token", err)
}

// FindAPITokenByHash returns the token with the given hash, revoked and expired ones included;
// ErrNotFound when there is none.
func (s *Store) FindAPITokenByHash(ctx context.Context, hash string) (*latchkey.APIToken, error) {
	t, err := scanAPIToken(s.r.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	return t, wrap("find api token", err)
}

// ListAPITokens returns every token, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]*latchkey.APIToken, error) {
	return list(ctx, s.r, "list api tokens", scanAPIToken, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at DESC, id DESC`)
}

// RevokeAPIToken records the token as revoked at at, keeping an earlier revocation's time;
// ErrNotFound when there is no such token.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(at), id)
	return affected("revoke api token", res, err)
}

// TouchAPIToken sets LastUsedAt to at when it is unset or older than at minus a minute, so that
// a busy token costs at most one write a minute. A reader asks first, so that the calls within
// the minute do not queue for the one writer connection. An unknown token is no error: nothing
// is written.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	const stale = `id = ? AND (last_used_at IS NULL OR last_used_at < ?)`
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM api_tokens WHERE `+stale, id, micros(at.Add(-time.Minute))).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap("touch api token", err)
	}
	_, err = s.w.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE `+stale, micros(at), id, micros(at.Add(-time.Minute)))
	return wrap("touch api token", err)
}
