package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var _ latchkey.AuditStore = (*Store)(nil)

const auditColumns = `id, time, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name,
	summary, correlation_id, seq, leaf_hash`

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertAuditEvents inserts the events ctx carries (latchkey.WithAuditEvent), unsealed, in the
// transaction tx. An event already stored (the same context used for a second write) is kept.
func insertAuditEvents(ctx context.Context, tx execer) error {
	for _, e := range latchkey.AuditEvents(ctx) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (id, time, actor_kind, actor_id, actor_name, action,
			target_kind, target_id, target_name, summary, correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, micros(e.Time), e.ActorKind, e.ActorID, e.ActorName, e.Action, e.TargetKind, e.TargetID,
			e.TargetName, e.SummaryJSON(), e.CorrelationID); err != nil {
			return wrap("insert audit event", err)
		}
	}
	return nil
}

// execAudited runs a single-statement write and the context's audit events and outbox changes
// in one transaction. A statement that changes no row changes nothing, so it records nothing.
func (p *pool) execAudited(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx, err := p.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return res, err
	}
	if err := insertRecords(ctx, tx); err != nil {
		return nil, err
	}
	return res, tx.Commit()
}

func scanAuditEvent(row scanner) (*latchkey.AuditEvent, error) {
	var e latchkey.AuditEvent
	var t int64
	var summary string
	var seq sql.NullInt64
	if err := row.Scan(&e.ID, &t, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.TargetKind, &e.TargetID,
		&e.TargetName, &summary, &e.CorrelationID, &seq, &e.LeafHash); err != nil {
		return nil, err
	}
	e.Time = fromMicros(t)
	if seq.Valid {
		e.Seq = &seq.Int64
	}
	if err := e.SetSummaryJSON(summary); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListAuditEvents returns the events f selects in (time, id) order.
func (s *Store) ListAuditEvents(ctx context.Context, f latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "(actor_id = ? OR actor_name = ?)"), append(args, f.Actor, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Target != "" {
		where, args = append(where, "(target_id = ? OR target_name = ?)"), append(args, f.Target, f.Target)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, micros(f.Until))
	}
	if f.After != "" {
		where, args = append(where, "(time, id) > (SELECT time, id FROM audit_events WHERE id = ?)"), append(args, f.After)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += ` ORDER BY time DESC, id DESC`
	} else {
		q += ` ORDER BY time, id`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return list(ctx, s.r, "list audit events", scanAuditEvent, q, args...)
}

// SealedAuditEvents returns every sealed event in seq order.
func (s *Store) SealedAuditEvents(ctx context.Context) ([]*latchkey.AuditEvent, error) {
	return list(ctx, s.r, "list sealed audit events", scanAuditEvent,
		`SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`)
}

func scanCheckpoint(row scanner) (*latchkey.AuditCheckpoint, error) {
	var c latchkey.AuditCheckpoint
	var hashes []byte
	var at int64
	if err := row.Scan(&c.Size, &c.Root, &hashes, &c.Note, &at); err != nil {
		return nil, err
	}
	c.SealedAt = fromMicros(at)
	for len(hashes) >= 32 {
		c.Range, hashes = append(c.Range, hashes[:32:32]), hashes[32:]
	}
	return &c, nil
}

const latestCheckpoint = `SELECT size, root, range_hashes, note, sealed_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1`

// LatestAuditCheckpoint returns the checkpoint of the largest size.
func (s *Store) LatestAuditCheckpoint(ctx context.Context) (*latchkey.AuditCheckpoint, error) {
	c, err := scanCheckpoint(s.r.QueryRowContext(ctx, latestCheckpoint))
	if err != nil {
		return nil, wrap("read audit checkpoint", err)
	}
	return c, nil
}

// SealAudit seals the unsealed events in one write transaction.
func (s *Store) SealAudit(ctx context.Context, seal latchkey.AuditSeal) (int, error) {
	n := 0
	err := s.write(ctx, "seal audit events", func(tx *txn) error {
		prev, err := scanCheckpoint(tx.QueryRowContext(ctx, latestCheckpoint))
		if errors.Is(err, sql.ErrNoRows) {
			prev, err = nil, nil
		}
		if err != nil {
			return wrap("read audit checkpoint", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY time, id LIMIT ?`, latchkey.AuditSealBatch)
		if err != nil {
			return wrap("list unsealed audit events", err)
		}
		var pending []*latchkey.AuditEvent
		for rows.Next() {
			e, err := scanAuditEvent(rows)
			if err != nil {
				rows.Close()
				return wrap("list unsealed audit events", err)
			}
			pending = append(pending, e)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return wrap("list unsealed audit events", err)
		}
		if len(pending) == 0 {
			return nil
		}
		next, err := seal(prev, pending)
		if err != nil {
			return err
		}
		for _, e := range pending {
			if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET seq = ?, leaf_hash = ? WHERE id = ? AND seq IS NULL`,
				*e.Seq, e.LeafHash, e.ID); err != nil {
				return wrap("seal audit event", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (size, root, range_hashes, note, sealed_at) VALUES (?, ?, ?, ?, ?)`,
			next.Size, next.Root, bytes.Join(next.Range, nil), next.Note, micros(next.SealedAt)); err != nil {
			return wrap("store audit checkpoint", err)
		}
		n = len(pending)
		return nil
	})
	return n, err
}

// AuditKey returns the audit signing key, storing the one generate makes on first use.
func (s *Store) AuditKey(ctx context.Context, generate func() (*latchkey.AuditKey, error)) (*latchkey.AuditKey, error) {
	var k latchkey.AuditKey
	err := s.r.QueryRowContext(ctx, `SELECT signer, verifier FROM audit_key WHERE id = 1`).Scan(&k.Signer, &k.Verifier)
	if err == nil {
		return &k, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap("read audit key", err)
	}
	g, err := generate()
	if err != nil {
		return nil, err
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO audit_key (id, signer, verifier) VALUES (1, ?, ?) ON CONFLICT DO NOTHING`,
		g.Signer, g.Verifier); err != nil {
		return nil, wrap("store audit key", err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT signer, verifier FROM audit_key WHERE id = 1`).Scan(&k.Signer, &k.Verifier); err != nil {
		return nil, wrap("read audit key", err)
	}
	return &k, nil
}

// AuditLease always holds: on SQLite the sealer is the process's own goroutine, and the
// writer's single IMMEDIATE transactions serialise sealing even across processes.
func (s *Store) AuditLease(context.Context) (func(), bool, error) { return func() {}, true, nil }
