package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var _ latchkey.AuditStore = (*Store)(nil)

// auditLockKey is the advisory lock whose holder is the one audit sealer.
const auditLockKey int64 = 0x4c4b_4155_4449_54 // "LKAUDIT"

const auditColumns = `id, time, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name,
	summary, correlation_id, seq, leaf_hash`

// dbPool is the connection pool; its writes carry the context's audit events
// (latchkey.WithAuditEvent) and outbox changes (latchkey.QueueMail, latchkey.CancelMail) in
// their transaction: a transaction begun on it inserts them just before it commits, and a
// single-statement Exec runs in a transaction with them.
type dbPool struct{ *pgxpool.Pool }

// Begin begins a transaction that inserts the context's audit events when it commits.
func (p *dbPool) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := p.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &auditTx{Tx: tx, ctx: ctx}, nil
}

// Exec runs a write; with audit events on ctx, in one transaction with them. A statement that
// changes no row changes nothing, so it records no event.
func (p *dbPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !latchkey.CarriesRecords(ctx) {
		return p.Pool.Exec(ctx, sql, args...)
	}
	var tag pgconn.CommandTag
	err := pgx.BeginFunc(ctx, p.Pool, func(tx pgx.Tx) error {
		var err error
		if tag, err = tx.Exec(ctx, sql, args...); err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return insertRecords(ctx, tx)
	})
	return tag, err
}

type auditTx struct {
	pgx.Tx
	ctx context.Context
}

func (t *auditTx) Commit(ctx context.Context) error {
	if err := insertRecords(t.ctx, t.Tx); err != nil {
		return err
	}
	return t.Tx.Commit(ctx)
}

func insertAuditEvents(ctx context.Context, tx pgx.Tx) error {
	for _, e := range latchkey.AuditEvents(ctx) {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_events (id, time, actor_kind, actor_id, actor_name, action,
			target_kind, target_id, target_name, summary, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, e.Time.UnixMicro(), e.ActorKind, e.ActorID, e.ActorName, e.Action, e.TargetKind, e.TargetID,
			e.TargetName, e.SummaryJSON(), e.CorrelationID); err != nil {
			return storeError(err, "insert audit event")
		}
	}
	return nil
}

func scanAuditEvent(row pgx.Row) (*latchkey.AuditEvent, error) {
	var e latchkey.AuditEvent
	var t int64
	var summary string
	if err := row.Scan(&e.ID, &t, &e.ActorKind, &e.ActorID, &e.ActorName, &e.Action, &e.TargetKind, &e.TargetID,
		&e.TargetName, &summary, &e.CorrelationID, &e.Seq, &e.LeafHash); err != nil {
		return nil, err
	}
	e.Time = time.UnixMicro(t).UTC()
	if err := e.SetSummaryJSON(summary); err != nil {
		return nil, err
	}
	return &e, nil
}

func collectAuditEvents(rows pgx.Rows, err error) ([]*latchkey.AuditEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*latchkey.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListAuditEvents returns the events f selects in (time, id) order.
func (s *Store) ListAuditEvents(ctx context.Context, f latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Actor != "" {
		p := arg(f.Actor)
		where = append(where, "(actor_id = "+p+" OR actor_name = "+p+")")
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Target != "" {
		p := arg(f.Target)
		where = append(where, "(target_id = "+p+" OR target_name = "+p+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= "+arg(f.Since.UnixMicro()))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < "+arg(f.Until.UnixMicro()))
	}
	if f.After != "" {
		where = append(where, `(time, id COLLATE "C") > (SELECT time, id COLLATE "C" FROM audit_events WHERE id = `+arg(f.After)+`)`)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += ` ORDER BY time DESC, id COLLATE "C" DESC`
	} else {
		q += ` ORDER BY time, id COLLATE "C"`
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	evs, err := collectAuditEvents(s.pool.Query(ctx, q, args...))
	if err != nil {
		return nil, storeError(err, "list audit events")
	}
	return evs, nil
}

// SealedAuditEvents returns every sealed event in seq order.
func (s *Store) SealedAuditEvents(ctx context.Context) ([]*latchkey.AuditEvent, error) {
	evs, err := collectAuditEvents(s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`))
	if err != nil {
		return nil, storeError(err, "list sealed audit events")
	}
	return evs, nil
}

const latestCheckpoint = `SELECT size, root, range_hashes, note, sealed_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1`

func scanCheckpoint(row pgx.Row) (*latchkey.AuditCheckpoint, error) {
	var c latchkey.AuditCheckpoint
	var hashes []byte
	if err := row.Scan(&c.Size, &c.Root, &hashes, &c.Note, &c.SealedAt); err != nil {
		return nil, err
	}
	for len(hashes) >= 32 {
		c.Range, hashes = append(c.Range, hashes[:32:32]), hashes[32:]
	}
	return &c, nil
}

// LatestAuditCheckpoint returns the checkpoint of the largest size.
func (s *Store) LatestAuditCheckpoint(ctx context.Context) (*latchkey.AuditCheckpoint, error) {
	c, err := scanCheckpoint(s.pool.QueryRow(ctx, latestCheckpoint))
	if err != nil {
		return nil, storeError(err, "read audit checkpoint")
	}
	return c, nil
}

// SealAudit seals the unsealed events in one transaction.
func (s *Store) SealAudit(ctx context.Context, seal latchkey.AuditSeal) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.pool.Pool, func(tx pgx.Tx) error {
		n = 0
		prev, err := scanCheckpoint(tx.QueryRow(ctx, latestCheckpoint))
		if errors.Is(err, pgx.ErrNoRows) {
			prev, err = nil, nil
		}
		if err != nil {
			return storeError(err, "read audit checkpoint")
		}
		pending, err := collectAuditEvents(tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL
			ORDER BY time, id COLLATE "C" LIMIT $1 FOR UPDATE`, latchkey.AuditSealBatch))
		if err != nil {
			return storeError(err, "list unsealed audit events")
		}
		if len(pending) == 0 {
			return nil
		}
		next, err := seal(prev, pending)
		if err != nil {
			return err
		}
		for _, e := range pending {
			if _, err := tx.Exec(ctx, `UPDATE audit_events SET seq = $2, leaf_hash = $3 WHERE id = $1 AND seq IS NULL`,
				e.ID, *e.Seq, e.LeafHash); err != nil {
				return storeError(err, "seal audit event")
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (size, root, range_hashes, note, sealed_at) VALUES ($1, $2, $3, $4, $5)`,
			next.Size, next.Root, bytes.Join(next.Range, nil), next.Note, dbTime(next.SealedAt)); err != nil {
			return storeError(err, "store audit checkpoint")
		}
		n = len(pending)
		return nil
	})
	return n, err
}

// AuditKey returns the audit signing key, storing the one generate makes on first use.
func (s *Store) AuditKey(ctx context.Context, generate func() (*latchkey.AuditKey, error)) (*latchkey.AuditKey, error) {
	var k latchkey.AuditKey
	const read = `SELECT signer, verifier FROM audit_key WHERE id = 1`
	err := s.pool.QueryRow(ctx, read).Scan(&k.Signer, &k.Verifier)
	if err == nil {
		return &k, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, storeError(err, "read audit key")
	}
	g, err := generate()
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO audit_key (id, signer, verifier) VALUES (1, $1, $2) ON CONFLICT DO NOTHING`,
		g.Signer, g.Verifier); err != nil {
		return nil, storeError(err, "store audit key")
	}
	if err := s.pool.QueryRow(ctx, read).Scan(&k.Signer, &k.Verifier); err != nil {
		return nil, storeError(err, "read audit key")
	}
	return &k, nil
}

// AuditLease tries to take the session-level advisory lock that makes this node the one
// sealer, on a connection of its own that it keeps until release.
func (s *Store) AuditLease(ctx context.Context) (func(), bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, storeError(err, "acquire audit lease connection")
	}
	var held bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, auditLockKey).Scan(&held); err != nil {
		conn.Release()
		return nil, false, storeError(err, "take audit lease")
	}
	if !held {
		conn.Release()
		return func() {}, false, nil
	}
	return func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, auditLockKey); err != nil {
			conn.Conn().Close(context.Background()) // closing the session releases the lock too
		}
		conn.Release()
	}, true, nil
}
