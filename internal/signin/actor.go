package signin

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// PersonActor returns the actor for user, signed in with sess: their role assignments as the
// store holds them now, so that a role assigned or removed takes effect on the person's next
// request, and how and when they signed in. A session made with a passkey is
// phishing-resistant; one made with a pass or a password is not, though it is strong enough for
// everything but approving a helpdesk request (DESIGN §5).
func (s *Service) PersonActor(ctx context.Context, sess *latchkey.Session, user *latchkey.User) (latchkey.Actor, error) {
	asgs, err := s.Store.ListRoleAssignments(ctx, user.ID)
	if err != nil {
		return latchkey.Actor{}, fmt.Errorf("list role assignments: %w", err)
	}
	a := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: user.ID, UPN: user.UserPrincipalName,
		Roles: make([]latchkey.RoleAssignment, 0, len(asgs))}
	for _, r := range asgs {
		a.Roles = append(a.Roles, *r)
	}
	if sess != nil {
		a.AuthenticatedAt = sess.AuthenticatedAt
		a.PhishingResistant = sess.HasMethod(latchkey.MethodPasskey)
	}
	return a, nil
}
