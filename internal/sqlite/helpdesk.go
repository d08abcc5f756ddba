package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

var _ latchkey.HelpdeskStore = (*Store)(nil)

const helpdeskColumns = `id, target_id, requester_id, reason, ticket, identity_check, identity_note, created_at,
	expires_at, state, approver_id, decided_at, executed_at, pass_id`

// fromOptMicros is the inverse of optMicros.
func fromOptMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

func scanHelpdeskRequest(row scanner) (*latchkey.HelpdeskRequest, error) {
	var r latchkey.HelpdeskRequest
	var created, expires int64
	var decided, executed sql.NullInt64
	if err := row.Scan(&r.ID, &r.TargetID, &r.RequesterID, &r.Reason, &r.Ticket, &r.IdentityCheck, &r.IdentityNote,
		&created, &expires, &r.State, &r.ApproverID, &decided, &executed, &r.PassID); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	r.DecidedAt, r.ExecutedAt = fromOptMicros(decided), fromOptMicros(executed)
	return &r, nil
}

// CreateHelpdeskRequest stores r, assigning ID when empty.
func (s *Store) CreateHelpdeskRequest(ctx context.Context, r *latchkey.HelpdeskRequest) error {
	if r.ID == "" {
		r.ID = latchkey.NewTimeOrderedID()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = sqlstore.Now()
	}
	return s.write(ctx, "create helpdesk request", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO helpdesk_requests (`+helpdeskColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.TargetID, r.RequesterID, r.Reason, r.Ticket, r.IdentityCheck, r.IdentityNote, micros(r.CreatedAt),
			micros(r.ExpiresAt), string(r.State), r.ApproverID, optMicros(r.DecidedAt), optMicros(r.ExecutedAt), r.PassID)
		return wrap("create helpdesk request", err)
	})
}

// FindHelpdeskRequest returns the request id; latchkey.ErrNotFound when there is none.
func (s *Store) FindHelpdeskRequest(ctx context.Context, id string) (*latchkey.HelpdeskRequest, error) {
	r, err := scanHelpdeskRequest(s.r.QueryRowContext(ctx, `SELECT `+helpdeskColumns+` FROM helpdesk_requests WHERE id = ?`, id))
	return r, wrap("find helpdesk request", err)
}

// ListHelpdeskRequests returns the requests created at or after since, newest first.
func (s *Store) ListHelpdeskRequests(ctx context.Context, since time.Time) ([]*latchkey.HelpdeskRequest, error) {
	return list(ctx, s.r, "list helpdesk requests", scanHelpdeskRequest,
		`SELECT `+helpdeskColumns+` FROM helpdesk_requests WHERE created_at >= ? ORDER BY created_at DESC, id DESC`, micros(since))
}

// UpdateHelpdeskRequest writes r's changing fields when the stored request is in state from
// and, unless before is zero, expires after before; latchkey.ErrConflict otherwise.
func (s *Store) UpdateHelpdeskRequest(ctx context.Context, r *latchkey.HelpdeskRequest, from latchkey.HelpdeskState, before time.Time) error {
	return s.write(ctx, "update helpdesk request", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, `UPDATE helpdesk_requests SET state = ?, approver_id = ?, decided_at = ?,
			executed_at = ?, pass_id = ? WHERE id = ? AND state = ? AND (? IS NULL OR expires_at > ?)`,
			string(r.State), r.ApproverID, optMicros(r.DecidedAt), optMicros(r.ExecutedAt), r.PassID, r.ID, string(from),
			optMicros(before), optMicros(before))
		if err := affected("update helpdesk request", res, err); !errors.Is(err, latchkey.ErrNotFound) {
			return err
		}
		return conflictIfExists(ctx, tx, "helpdesk_requests", r.ID)
	})
}
