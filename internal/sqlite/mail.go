package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

const mailColumns = `id, kind, key, subject_id, params, not_before, state, attempts, last_error, created_at, sent_at`

// insertRecords inserts what ctx carries for the write's transaction tx: its audit events
// (latchkey.WithAuditEvent) and its outbox changes (latchkey.QueueMail, latchkey.CancelMail).
func insertRecords(ctx context.Context, tx execer) error {
	if err := insertAuditEvents(ctx, tx); err != nil {
		return err
	}
	return applyMailOps(ctx, tx)
}

// applyMailOps applies the outbox changes ctx carries, in order. A queued item whose Key has a
// pending item replaces that item's NotBefore, SubjectID and Params; an item already stored (the
// same context used for a second write) is kept.
func applyMailOps(ctx context.Context, tx execer) error {
	for _, op := range latchkey.MailOps(ctx) {
		if op.Queue == nil {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'cancelled', claim_holder = '', claim_until = 0
				WHERE key = ? AND key <> '' AND state = 'pending'`, op.CancelKey); err != nil {
				return wrap("cancel mail", err)
			}
			continue
		}
		m := op.Queue
		created := m.CreatedAt
		if created.IsZero() {
			created = time.Now()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (id, kind, key, subject_id, params, not_before, state,
			created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING`,
			m.ID, m.Kind, m.Key, m.SubjectID, m.ParamsJSON(), micros(m.NotBefore), micros(created))
		n, err := rowsAffected("queue mail", res, err)
		if err != nil {
			return err
		}
		if n == 0 && m.Key != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET not_before = ?, subject_id = ?, params = ?
				WHERE key = ? AND state = 'pending'`, micros(m.NotBefore), m.SubjectID, m.ParamsJSON(), m.Key); err != nil {
				return wrap("queue mail", err)
			}
		}
	}
	return nil
}

func scanMailItem(row scanner) (*latchkey.MailItem, error) {
	var m latchkey.MailItem
	var notBefore, created int64
	var sent sql.NullInt64
	var params string
	if err := row.Scan(&m.ID, &m.Kind, &m.Key, &m.SubjectID, &params, &notBefore, &m.State, &m.Attempts,
		&m.LastError, &created, &sent); err != nil {
		return nil, err
	}
	m.NotBefore, m.CreatedAt, m.SentAt = fromMicros(notBefore), fromMicros(created), fromNullMicros(sent)
	if err := m.SetParamsJSON(params); err != nil {
		return nil, err
	}
	return &m, nil
}

// EnqueueMail stores items, and what ctx carries, in one write.
func (s *Store) EnqueueMail(ctx context.Context, items ...latchkey.MailItem) error {
	for _, m := range items {
		ctx = latchkey.QueueMail(ctx, m)
	}
	return s.write(ctx, "enqueue mail", func(*txn) error { return nil })
}

// ClaimMail claims due, unclaimed pending items for holder, oldest first. The writer's single
// IMMEDIATE transaction serialises claims, across processes too.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, holder string, lease time.Duration, limit int) ([]*latchkey.MailItem, error) {
	var out []*latchkey.MailItem
	err := s.write(ctx, "claim mail", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, `UPDATE mail_outbox SET claim_holder = ?, claim_until = ?
			WHERE id IN (SELECT id FROM mail_outbox WHERE state = 'pending' AND not_before <= ? AND claim_until <= ?
				ORDER BY created_at, id LIMIT ?)
			RETURNING `+mailColumns, holder, micros(now.Add(lease)), micros(now), micros(now), limit)
		if err != nil {
			return wrap("claim mail", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMailItem(rows)
			if err != nil {
				return wrap("claim mail", err)
			}
			out = append(out, m)
		}
		return wrap("claim mail", rows.Err())
	})
	if err != nil {
		return nil, err
	}
	sortMail(out)
	return out, nil
}

// sortMail orders items oldest first.
func sortMail(items []*latchkey.MailItem) {
	slices.SortFunc(items, func(a, b *latchkey.MailItem) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// markMail runs update (whose last two arguments are id and holder) on the item holder claims.
func (s *Store) markMail(ctx context.Context, verb, update string, args ...any) error {
	id := args[len(args)-2].(string)
	return s.write(ctx, verb, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, update+` WHERE id = ? AND claim_holder = ? AND state = 'pending'`, args...)
		n, err := rowsAffected(verb, res, err)
		if err != nil {
			return err
		}
		if n == 0 {
			return conflictIfExists(ctx, tx, "mail_outbox", id)
		}
		return nil
	})
}

// MarkMailSent records the claimed item as sent.
func (s *Store) MarkMailSent(ctx context.Context, id, holder string, at time.Time) error {
	return s.markMail(ctx, "mark mail sent", `UPDATE mail_outbox SET state = 'sent', sent_at = ?, claim_holder = '', claim_until = 0`,
		micros(at), id, holder)
}

// MarkMailFailed records a failed attempt of the claimed item.
func (s *Store) MarkMailFailed(ctx context.Context, id, holder, lastError string, retryAt time.Time, giveUp bool) error {
	state := latchkey.MailPending
	if giveUp {
		state = latchkey.MailFailed
	}
	return s.markMail(ctx, "mark mail failed", `UPDATE mail_outbox SET state = ?, attempts = attempts + 1, last_error = ?,
		not_before = ?, claim_holder = '', claim_until = 0`, state, lastError, micros(retryAt), id, holder)
}

// MarkMailCancelled cancels the claimed item.
func (s *Store) MarkMailCancelled(ctx context.Context, id, holder string) error {
	return s.markMail(ctx, "cancel mail", `UPDATE mail_outbox SET state = 'cancelled', claim_holder = '', claim_until = 0`, id, holder)
}

// ListMail returns the items f selects, newest first.
func (s *Store) ListMail(ctx context.Context, f latchkey.MailFilter) ([]*latchkey.MailItem, error) {
	var where []string
	var args []any
	for _, c := range [][2]string{{"state", f.State}, {"kind", f.Kind}, {"subject_id", f.SubjectID}} {
		if c[1] != "" {
			where, args = append(where, c[0]+" = ?"), append(args, c[1])
		}
	}
	q := `SELECT ` + mailColumns + ` FROM mail_outbox`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY created_at DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return list(ctx, s.r, "list mail", scanMailItem, q, args...)
}

// CountMail returns how many items are in each state.
func (s *Store) CountMail(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, count(*) FROM mail_outbox GROUP BY state`)
	if err != nil {
		return nil, wrap("count mail", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, wrap("count mail", err)
		}
		out[state] = n
	}
	return out, wrap("count mail", rows.Err())
}
