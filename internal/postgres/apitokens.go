package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const apiTokenColumns = `id, name, hash, scopes, created_by, created_at, expires_at, last_used_at, revoked_at`

// scanAPIToken reads one row of apiTokenColumns.
func scanAPIToken(row pgx.Row) (*latchkey.APIToken, error) {
	t := &latchkey.APIToken{}
	if err := row.Scan(&t.ID, &t.Name, &t.Hash, &t.Scopes, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt,
		&t.LastUsedAt, &t.RevokedAt); err != nil {
		return nil, err
	}
	t.Scopes = sqlstore.NonNil(t.Scopes)
	return t, nil
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
	_, err := s.pool.Exec(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Name, t.Hash, sqlstore.NonNil(t.Scopes), t.CreatedBy, dbTime(t.CreatedAt), dbTimePtr(t.ExpiresAt),
		dbTimePtr(t.LastUsedAt), dbTimePtr(t.RevokedAt))
	return storeError(err, "create api token")
}

// FindAPITokenByHash returns the token with the given hash, revoked and expired ones included;
// ErrNotFound when there is none.
func (s *Store) FindAPITokenByHash(ctx context.Context, hash string) (*latchkey.APIToken, error) {
	if !canName(hash) {
		return nil, latchkey.ErrNotFound
	}
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	return t, storeError(err, "find api token")
}

// ListAPITokens returns every token, newest first.
func (s *Store) ListAPITokens(ctx context.Context) ([]*latchkey.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens ORDER BY created_at DESC, id COLLATE "C" DESC`)
	if err != nil {
		return nil, storeError(err, "list api tokens")
	}
	tokens, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.APIToken, error) { return scanAPIToken(row) })
	return sqlstore.NonNil(tokens), storeError(err, "list api tokens")
}

// RevokeAPIToken records the token as revoked at at, keeping an earlier revocation's time;
// ErrNotFound when there is no such token.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, at time.Time) error {
	if !canName(id) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1`, id, dbTime(at))
	if err != nil {
		return storeError(err, "revoke api token")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.ErrNotFound
	}
	return nil
}

// TouchAPIToken sets LastUsedAt to at when it is unset or older than at minus a minute, so that
// a busy token costs at most one write a minute. An unknown token is no error: nothing is
// written.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if !canName(id) {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)`, id, dbTime(at), dbTime(at.Add(-time.Minute)))
	return storeError(err, "touch api token")
}
