package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const accessPassColumns = `id, user_id, hash, created_at, start_at, lifetime_minutes, one_time, used_at, created_by`

// ReplaceAccessPass stores p as the user's only pass, assigning ID and CreatedAt when empty, and
// ends the sessions made with the pass it replaces, in one transaction. The old pass, if any, is
// replaced by an upsert on the unique user_id, so racing replacements each succeed and leave
// exactly one pass, the last one's.
func (s *Store) ReplaceAccessPass(ctx context.Context, p *latchkey.AccessPass) error {
	if p.ID == "" {
		p.ID = latchkey.NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = sqlstore.Now()
	}
	p.CreatedAt, p.StartAt, p.UsedAt = dbTime(p.CreatedAt), dbTime(p.StartAt), dbTimePtr(p.UsedAt)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO access_passes (`+accessPassColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, hash = excluded.hash,
				created_at = excluded.created_at, start_at = excluded.start_at,
				lifetime_minutes = excluded.lifetime_minutes, one_time = excluded.one_time,
				used_at = excluded.used_at, created_by = excluded.created_by`,
			p.ID, p.UserID, p.Hash, p.CreatedAt, p.StartAt, p.LifetimeMinutes, p.OneTime, p.UsedAt, p.CreatedBy)
		if err != nil {
			return storeError(err, "replace access pass")
		}
		_, err = tx.Exec(ctx, endSessionsOfPasses, p.UserID)
		return storeError(err, "replace access pass")
	})
}

// FindAccessPassByUser returns the user's pass; ErrNotFound when there is none.
func (s *Store) FindAccessPassByUser(ctx context.Context, userID string) (*latchkey.AccessPass, error) {
	p := &latchkey.AccessPass{}
	err := s.pool.QueryRow(ctx, `SELECT `+accessPassColumns+` FROM access_passes WHERE user_id = $1`, userID).
		Scan(&p.ID, &p.UserID, &p.Hash, &p.CreatedAt, &p.StartAt, &p.LifetimeMinutes, &p.OneTime, &p.UsedAt, &p.CreatedBy)
	if err != nil {
		return nil, storeError(err, "find access pass")
	}
	return p, nil
}

// MarkAccessPassUsed records the first use of the pass. Only an unused pass changes, so of many
// racing redemptions exactly one wins; the others get ErrConflict. ErrNotFound when there is no
// such pass, for example because it was replaced.
func (s *Store) MarkAccessPassUsed(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE access_passes SET used_at = $2 WHERE id = $1 AND used_at IS NULL`,
		id, dbTime(at))
	if err != nil {
		return storeError(err, "mark access pass used")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Refused: the rare path may take a second round trip to say why.
	ok, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM access_passes WHERE id = $1)`, id)
	if err != nil {
		return storeError(err, "mark access pass used")
	}
	if !ok {
		return latchkey.ErrNotFound
	}
	return latchkey.ErrConflict
}

// DeleteAccessPass removes the user's pass, if any, and the sessions made with it, in one
// transaction.
func (s *Store) DeleteAccessPass(ctx context.Context, userID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM access_passes WHERE user_id = $1`, userID); err != nil {
			return storeError(err, "delete access pass")
		}
		_, err := tx.Exec(ctx, endSessionsOfPasses, userID)
		return storeError(err, "delete access pass")
	})
}
