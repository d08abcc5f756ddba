package signin

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// SignInEvents returns the sign-in log events that f selects, newest first, when a may read the
// sign-in log. f.UserID may name the user by id or by user principal name; a name that matches
// nobody selects no events.
func (s *Service) SignInEvents(ctx context.Context, a latchkey.Actor, f latchkey.SignInFilter) ([]*latchkey.SignInEvent, error) {
	if err := authz.Decide(a, authz.ActionReadSignInLog, authz.Target{Kind: authz.TargetLog}); err != nil {
		return nil, err
	}
	if f.UserID != "" {
		u, err := s.Store.FindUserByUPN(ctx, f.UserID)
		switch {
		case err == nil:
			f.UserID = u.ID
		case !latchkey.IsKind(err, latchkey.ENOTFOUND):
			return nil, fmt.Errorf("find user by upn: %w", err)
		}
	}
	events, err := s.Store.ListSignInsFiltered(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list sign-ins: %w", err)
	}
	return events, nil
}
