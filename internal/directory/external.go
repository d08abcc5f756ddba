package directory

import (
	"context"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// FindUsersByExternalID returns the users whose external id (a provisioning client's id for
// them) is externalID, among those the actor may see, ordered by UPN.
func (s *Service) FindUsersByExternalID(ctx context.Context, a latchkey.Actor, externalID string) ([]*latchkey.User, error) {
	if !authz.Can(a, authz.ActionReadUsers) {
		return nil, authz.Decide(a, authz.ActionReadUsers, allUsers)
	}
	users, err := s.Store.FindUsersByExternalID(ctx, externalID)
	if err != nil {
		return nil, err
	}
	kept := users[:0]
	for _, u := range users {
		if err := s.decideOnUser(ctx, a, authz.ActionReadUsers, u); err == nil {
			kept = append(kept, u)
		} else if !latchkey.IsKind(err, latchkey.EFORBIDDEN) {
			return nil, err
		}
	}
	return kept, nil
}

// SetGroupExternalID sets the external id of the group ref (its name or id). The actor needs
// ActionManageGroups. It returns the group as stored.
func (s *Service) SetGroupExternalID(ctx context.Context, a latchkey.Actor, ref, externalID string) (*latchkey.Group, error) {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: ref}); err != nil {
		return nil, err
	}
	g, err := s.lookupGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := latchkey.ValidateDescription("external id", externalID); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "group.update", "group", g.ID, g.DisplayName, map[string]any{"externalId": externalID})
	if err := s.Store.SetGroupExternalID(ctx, g.ID, externalID); err != nil {
		return nil, err
	}
	g.ExternalID = externalID
	return g, nil
}
