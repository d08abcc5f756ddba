package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var _ latchkey.ProvisioningStore = (*Store)(nil)

const provisioningColumns = `id, time, token_id, method, path, status, correlation_id, body, error_detail`

func scanProvisioningRequest(row scanner) (*latchkey.ProvisioningRequest, error) {
	var r latchkey.ProvisioningRequest
	var t int64
	if err := row.Scan(&r.ID, &t, &r.TokenID, &r.Method, &r.Path, &r.Status, &r.CorrelationID, &r.Body, &r.ErrorDetail); err != nil {
		return nil, err
	}
	r.Time = fromMicros(t)
	return &r, nil
}

// AddProvisioningRequest stores r and deletes, in the same transaction, the requests keep no
// longer covers.
func (s *Store) AddProvisioningRequest(ctx context.Context, r *latchkey.ProvisioningRequest, keep latchkey.ProvisioningRetention) error {
	if r.ID == "" {
		r.ID = latchkey.NewTimeOrderedID()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("add provisioning request", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO provisioning_requests (`+provisioningColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, micros(r.Time), r.TokenID, r.Method, r.Path, r.Status, r.CorrelationID, r.Body, r.ErrorDetail); err != nil {
		return wrap("add provisioning request", err)
	}
	if keep.For > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM provisioning_requests WHERE time < ?`, micros(r.Time.Add(-keep.For))); err != nil {
			return wrap("prune provisioning requests", err)
		}
	}
	if keep.Rows > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM provisioning_requests WHERE id IN (SELECT id FROM provisioning_requests
			ORDER BY time DESC, id DESC LIMIT -1 OFFSET ?)`, keep.Rows); err != nil {
			return wrap("prune provisioning requests", err)
		}
	}
	return wrap("add provisioning request", tx.Commit())
}

// ListProvisioningRequests returns the requests f selects, newest first.
func (s *Store) ListProvisioningRequests(ctx context.Context, f latchkey.ProvisioningFilter) ([]*latchkey.ProvisioningRequest, error) {
	var where []string
	var args []any
	if f.TokenID != "" {
		where, args = append(where, "token_id = ?"), append(args, f.TokenID)
	}
	if f.Failed {
		where = append(where, "status >= 400")
	}
	q := `SELECT ` + provisioningColumns + ` FROM provisioning_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY time DESC, id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return list(ctx, s.r, "list provisioning requests", scanProvisioningRequest, q, args...)
}
