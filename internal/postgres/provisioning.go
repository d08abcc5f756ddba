package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

var _ latchkey.ProvisioningStore = (*Store)(nil)

const provisioningColumns = `id, time, token_id, method, path, status, correlation_id, body, error_detail`

func scanProvisioningRequest(row pgx.CollectableRow) (*latchkey.ProvisioningRequest, error) {
	r := &latchkey.ProvisioningRequest{}
	if err := row.Scan(&r.ID, &r.Time, &r.TokenID, &r.Method, &r.Path, &r.Status, &r.CorrelationID, &r.Body, &r.ErrorDetail); err != nil {
		return nil, err
	}
	r.Time = r.Time.UTC()
	return r, nil
}

// AddProvisioningRequest stores r and deletes, in the same transaction, the requests keep no
// longer covers.
func (s *Store) AddProvisioningRequest(ctx context.Context, r *latchkey.ProvisioningRequest, keep latchkey.ProvisioningRetention) error {
	if r.ID == "" {
		r.ID = latchkey.NewTimeOrderedID()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO provisioning_requests (`+provisioningColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, dbTime(r.Time), r.TokenID, r.Method, r.Path, r.Status, r.CorrelationID, r.Body, r.ErrorDetail); err != nil {
			return err
		}
		if keep.For > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM provisioning_requests WHERE time < $1`, dbTime(r.Time.Add(-keep.For))); err != nil {
				return err
			}
		}
		if keep.Rows > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM provisioning_requests WHERE id IN (SELECT id FROM provisioning_requests
				ORDER BY time DESC, id COLLATE "C" DESC OFFSET $1)`, keep.Rows); err != nil {
				return err
			}
		}
		return nil
	})
	return storeError(err, "add provisioning request")
}

// ListProvisioningRequests returns the requests f selects, newest first.
func (s *Store) ListProvisioningRequests(ctx context.Context, f latchkey.ProvisioningFilter) ([]*latchkey.ProvisioningRequest, error) {
	var where []string
	var args []any
	if f.TokenID != "" {
		if !canName(f.TokenID) {
			return []*latchkey.ProvisioningRequest{}, nil
		}
		args = append(args, f.TokenID)
		where = append(where, fmt.Sprintf("token_id = $%d", len(args)))
	}
	if f.Failed {
		where = append(where, "status >= 400")
	}
	q := `SELECT ` + provisioningColumns + ` FROM provisioning_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY time DESC, id COLLATE "C" DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, storeError(err, "list provisioning requests")
	}
	reqs, err := pgx.CollectRows(rows, scanProvisioningRequest)
	return sqlstore.NonNil(reqs), storeError(err, "list provisioning requests")
}
