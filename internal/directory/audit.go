package directory

import (
	"context"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// ListAuditEvents returns the audit events f selects, oldest first, to an actor allowed to read
// the audit log (ActionReadAuditLog).
func (s *Service) ListAuditEvents(ctx context.Context, a latchkey.Actor, f latchkey.AuditFilter) ([]*latchkey.AuditEvent, error) {
	if err := authz.Decide(a, authz.ActionReadAuditLog, authz.Target{Kind: authz.TargetLog}); err != nil {
		return nil, err
	}
	return s.Store.ListAuditEvents(ctx, f)
}
