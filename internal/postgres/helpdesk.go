package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

var _ latchkey.HelpdeskStore = (*Store)(nil)

const helpdeskColumns = `id, target_id, requester_id, reason, ticket, identity_check, identity_note, created_at,
	expires_at, state, approver_id, decided_at, executed_at, pass_id`

func scanHelpdeskRequest(row pgx.Row) (*latchkey.HelpdeskRequest, error) {
	r := &latchkey.HelpdeskRequest{}
	var decided, executed *time.Time
	if err := row.Scan(&r.ID, &r.TargetID, &r.RequesterID, &r.Reason, &r.Ticket, &r.IdentityCheck, &r.IdentityNote,
		&r.CreatedAt, &r.ExpiresAt, &r.State, &r.ApproverID, &decided, &executed, &r.PassID); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	if decided != nil {
		r.DecidedAt = decided.UTC()
	}
	if executed != nil {
		r.ExecutedAt = executed.UTC()
	}
	return r, nil
}

// CreateHelpdeskRequest stores r, assigning ID when empty.
func (s *Store) CreateHelpdeskRequest(ctx context.Context, r *latchkey.HelpdeskRequest) error {
	if r.ID == "" {
		r.ID = latchkey.NewTimeOrderedID()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = sqlstore.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO helpdesk_requests (`+helpdeskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.TargetID, r.RequesterID, r.Reason, r.Ticket, r.IdentityCheck, r.IdentityNote, dbTime(r.CreatedAt),
		dbTime(r.ExpiresAt), string(r.State), r.ApproverID, optTime(r.DecidedAt), optTime(r.ExecutedAt), r.PassID)
	return storeError(err, "create helpdesk request")
}

// FindHelpdeskRequest returns the request id; latchkey.ErrNotFound when there is none.
func (s *Store) FindHelpdeskRequest(ctx context.Context, id string) (*latchkey.HelpdeskRequest, error) {
	if !canName(id) {
		return nil, latchkey.ErrNotFound
	}
	r, err := scanHelpdeskRequest(s.pool.QueryRow(ctx, `SELECT `+helpdeskColumns+` FROM helpdesk_requests WHERE id = $1`, id))
	if err != nil {
		return nil, storeError(err, "find helpdesk request")
	}
	return r, nil
}

// ListHelpdeskRequests returns the requests created at or after since, newest first.
func (s *Store) ListHelpdeskRequests(ctx context.Context, since time.Time) ([]*latchkey.HelpdeskRequest, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+helpdeskColumns+` FROM helpdesk_requests WHERE created_at >= $1
		ORDER BY created_at DESC, id COLLATE "C" DESC`, dbTime(since))
	if err != nil {
		return nil, storeError(err, "list helpdesk requests")
	}
	reqs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.HelpdeskRequest, error) {
		return scanHelpdeskRequest(row)
	})
	return sqlstore.NonNil(reqs), storeError(err, "list helpdesk requests")
}

// UpdateHelpdeskRequest writes r's changing fields when the stored request is in state from
// and, unless before is zero, expires after before; latchkey.ErrConflict otherwise. The row
// lock makes of racing updates from one state exactly one win.
func (s *Store) UpdateHelpdeskRequest(ctx context.Context, r *latchkey.HelpdeskRequest, from latchkey.HelpdeskState, before time.Time) error {
	if !canName(r.ID) {
		return latchkey.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, `UPDATE helpdesk_requests SET state = $1, approver_id = $2, decided_at = $3,
		executed_at = $4, pass_id = $5 WHERE id = $6 AND state = $7 AND ($8::timestamptz IS NULL OR expires_at > $8)`,
		string(r.State), r.ApproverID, optTime(r.DecidedAt), optTime(r.ExecutedAt), r.PassID, r.ID, string(from), optTime(before))
	if err != nil {
		return storeError(err, "update helpdesk request")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	ok, err := s.exists(ctx, `SELECT EXISTS (SELECT 1 FROM helpdesk_requests WHERE id = $1)`, r.ID)
	if err != nil {
		return storeError(err, "update helpdesk request")
	}
	if !ok {
		return latchkey.ErrNotFound
	}
	return latchkey.ErrConflict
}
