package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const accessPassColumns = `id, user_id, hash, created_at, start_at, lifetime_minutes, one_time, used_at, created_by`

func scanAccessPass(row scanner) (*latchkey.AccessPass, error) {
	var p latchkey.AccessPass
	var created, start int64
	var used sql.NullInt64
	if err := row.Scan(&p.ID, &p.UserID, &p.Hash, &created, &start, &p.LifetimeMinutes, &p.OneTime,
		&used, &p.CreatedBy); err != nil {
		return nil, err
	}
	p.CreatedAt, p.StartAt, p.UsedAt = fromMicros(created), fromMicros(start), fromNullMicros(used)
	return &p, nil
}

// ReplaceAccessPass stores p as the user's only pass, deleting any earlier one and the sessions
// made with it, in one transaction. It assigns ID and CreatedAt when empty, and returns
// latchkey.ErrNotFound when the user does not exist.
func (s *Store) ReplaceAccessPass(ctx context.Context, p *latchkey.AccessPass) error {
	if p.ID == "" {
		p.ID = latchkey.NewID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = sqlstore.Now()
	}
	return s.write(ctx, "replace access pass", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_passes WHERE user_id = ?`, p.UserID); err != nil {
			return wrap("replace access pass", err)
		}
		if _, err := tx.ExecContext(ctx, endSessionsOfPasses, p.UserID); err != nil {
			return wrap("replace access pass", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO access_passes (`+accessPassColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.UserID, p.Hash, micros(p.CreatedAt), micros(p.StartAt), p.LifetimeMinutes, p.OneTime,
			nullMicros(p.UsedAt), p.CreatedBy)
		return wrap("replace access pass", err)
	})
}

// FindAccessPassByUser returns the user's pass; latchkey.ErrNotFound when there is none.
func (s *Store) FindAccessPassByUser(ctx context.Context, userID string) (*latchkey.AccessPass, error) {
	p, err := scanAccessPass(s.r.QueryRowContext(ctx, `SELECT `+accessPassColumns+` FROM access_passes WHERE user_id = ?`, userID))
	return p, wrap("find access pass", err)
}

// MarkAccessPassUsed records the first use of a pass. It returns latchkey.ErrConflict when the
// pass was used already, so of many racing redemptions exactly one wins, and
// latchkey.ErrNotFound when there is no such pass (it may have been replaced).
func (s *Store) MarkAccessPassUsed(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, "mark access pass used", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_passes SET used_at = ? WHERE id = ? AND used_at IS NULL`, micros(at), id)
		if err := affected("mark access pass used", res, err); !errors.Is(err, latchkey.ErrNotFound) {
			return err
		}
		return conflictIfExists(ctx, tx, "access_passes", id)
	})
}

// DeleteAccessPass removes the user's pass, if any, and the sessions made with it, in one
// transaction.
func (s *Store) DeleteAccessPass(ctx context.Context, userID string) error {
	return s.write(ctx, "delete access pass", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_passes WHERE user_id = ?`, userID); err != nil {
			return wrap("delete access pass", err)
		}
		_, err := tx.ExecContext(ctx, endSessionsOfPasses, userID)
		return wrap("delete access pass", err)
	})
}
