package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

const mailColumns = `id, kind, key, subject_id, params, not_before, state, attempts, last_error, created_at, sent_at`

// epoch is the claim_until of an item nobody claims.
var epoch = time.Unix(0, 0).UTC()

// insertRecords inserts what ctx carries for the write's transaction tx: its audit events
// (latchkey.WithAuditEvent) and its outbox changes (latchkey.QueueMail, latchkey.CancelMail).
func insertRecords(ctx context.Context, tx pgx.Tx) error {
	if err := insertAuditEvents(ctx, tx); err != nil {
		return err
	}
	return applyMailOps(ctx, tx)
}

// applyMailOps applies the outbox changes ctx carries, in order. A queued item whose Key has a
// pending item replaces that item's NotBefore, SubjectID and Params; an item already stored (the
// same context used for a second write) is kept.
func applyMailOps(ctx context.Context, tx pgx.Tx) error {
	for _, op := range latchkey.MailOps(ctx) {
		if op.Queue == nil {
			if _, err := tx.Exec(ctx, `UPDATE mail_outbox SET state = 'cancelled', claim_holder = '', claim_until = $2
				WHERE key = $1 AND key <> '' AND state = 'pending'`, op.CancelKey, epoch); err != nil {
				return storeError(err, "cancel mail")
			}
			continue
		}
		m := op.Queue
		created := m.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		tag, err := tx.Exec(ctx, `INSERT INTO mail_outbox (id, kind, key, subject_id, params, not_before, state,
			created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) ON CONFLICT DO NOTHING`,
			m.ID, m.Kind, m.Key, m.SubjectID, m.ParamsJSON(), dbTime(m.NotBefore), dbTime(created))
		if err != nil {
			return storeError(err, "queue mail")
		}
		if tag.RowsAffected() == 0 && m.Key != "" {
			if _, err := tx.Exec(ctx, `UPDATE mail_outbox SET not_before = $1, subject_id = $2, params = $3
				WHERE key = $4 AND state = 'pending'`, dbTime(m.NotBefore), m.SubjectID, m.ParamsJSON(), m.Key); err != nil {
				return storeError(err, "queue mail")
			}
		}
	}
	return nil
}

func scanMailItem(row pgx.Row) (*latchkey.MailItem, error) {
	var m latchkey.MailItem
	var params string
	if err := row.Scan(&m.ID, &m.Kind, &m.Key, &m.SubjectID, &params, &m.NotBefore, &m.State, &m.Attempts,
		&m.LastError, &m.CreatedAt, &m.SentAt); err != nil {
		return nil, err
	}
	m.NotBefore, m.CreatedAt = m.NotBefore.UTC(), m.CreatedAt.UTC()
	if m.SentAt != nil {
		t := m.SentAt.UTC()
		m.SentAt = &t
	}
	if err := m.SetParamsJSON(params); err != nil {
		return nil, err
	}
	return &m, nil
}

func collectMail(rows pgx.Rows, err error) ([]*latchkey.MailItem, error) {
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.MailItem, error) { return scanMailItem(row) })
	return sqlstore.NonNil(items), err
}

// EnqueueMail stores items, and what ctx carries, in one transaction.
func (s *Store) EnqueueMail(ctx context.Context, items ...latchkey.MailItem) error {
	for _, m := range items {
		ctx = latchkey.QueueMail(ctx, m)
	}
	return storeError(pgx.BeginFunc(ctx, s.pool, func(pgx.Tx) error { return nil }), "enqueue mail")
}

// ClaimMail claims due, unclaimed pending items for holder, oldest first. SKIP LOCKED lets two
// nodes claim at once, each getting other items; the claim_until test in the UPDATE, which
// PostgreSQL re-checks on a row another transaction changed, keeps an item from being claimed
// twice.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]*latchkey.MailItem, error) {
	// The CTE runs once (a FOR UPDATE subquery in IN may be evaluated again, claiming more).
	out, err := collectMail(s.pool.Query(ctx, `WITH due AS (
			SELECT id FROM mail_outbox WHERE state = 'pending' AND not_before <= $3 AND claim_until <= $3
			ORDER BY created_at, id COLLATE "C" LIMIT $4 FOR UPDATE SKIP LOCKED)
		UPDATE mail_outbox m SET claim_holder = $1, claim_until = $2 FROM due
		WHERE m.id = due.id AND m.state = 'pending' AND m.claim_until <= $3
		RETURNING `+prefixed("m.", mailColumns), holder, dbTime(now.Add(lease)), dbTime(now), limit))
	if err != nil {
		return nil, storeError(err, "claim mail")
	}
	slices.SortFunc(out, func(a, b *latchkey.MailItem) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// prefixed returns the comma-separated columns each with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// markMail runs update, whose $1 and $2 are the id and the holder, on the item holder claims.
func (s *Store) markMail(ctx context.Context, verb, update string, args ...any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, update+` WHERE id = $1 AND claim_holder = $2 AND state = 'pending'`, args...)
		if err != nil {
			return storeError(err, verb)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		var found bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_outbox WHERE id = $1)`, args[0]).Scan(&found); err != nil {
			return storeError(err, verb)
		}
		if found {
			return latchkey.ErrConflict
		}
		return latchkey.ErrNotFound
	})
}

// MarkMailSent records the claimed item as sent.
func (s *Store) MarkMailSent(ctx context.Context, id, holder string, at time.Time) error {
	return s.markMail(ctx, "mark mail sent", `UPDATE mail_outbox SET state = 'sent', sent_at = $3, claim_holder = '',
		claim_until = $4`, id, holder, dbTime(at), epoch)
}

// MarkMailFailed records a failed attempt of the claimed item.
func (s *Store) MarkMailFailed(ctx context.Context, id, holder, lastError string, retryAt time.Time, giveUp bool) error {
	state := latchkey.MailPending
	if giveUp {
		state = latchkey.MailFailed
	}
	return s.markMail(ctx, "mark mail failed", `UPDATE mail_outbox SET state = $3, attempts = attempts + 1, last_error = $4,
		not_before = $5, claim_holder = '', claim_until = $6`, id, holder, state, lastError, dbTime(retryAt), epoch)
}

// MarkMailCancelled cancels the claimed item.
func (s *Store) MarkMailCancelled(ctx context.Context, id, holder string) error {
	return s.markMail(ctx, "cancel mail", `UPDATE mail_outbox SET state = 'cancelled', claim_holder = '', claim_until = $3`,
		id, holder, epoch)
}

// ListMail returns the items f selects, newest first.
func (s *Store) ListMail(ctx context.Context, f latchkey.MailFilter) ([]*latchkey.MailItem, error) {
	var where []string
	var args []any
	for _, c := range [][2]string{{"state", f.State}, {"kind", f.Kind}, {"subject_id", f.SubjectID}} {
		if c[1] != "" {
			args = append(args, c[1])
			where = append(where, fmt.Sprintf("%s = $%d", c[0], len(args)))
		}
	}
	q := `SELECT ` + mailColumns + ` FROM mail_outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id COLLATE "C" DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	out, err := collectMail(s.pool.Query(ctx, q, args...))
	return out, storeError(err, "list mail")
}

// CountMail returns how many items are in each state.
func (s *Store) CountMail(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT state, count(*) FROM mail_outbox GROUP BY state`)
	if err != nil {
		return nil, storeError(err, "count mail")
	}
	out := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { out[state] = n; return nil })
	return out, storeError(err, "count mail")
}
