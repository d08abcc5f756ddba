package directory

import (
	"context"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// IssueAccessPass creates a new temporary access pass for the user userID on behalf of the
// actor (ActionIssueTAP on the user: nobody issues themself a pass here, except the server's
// CLI), replacing any earlier one, within the bounds of the methods policy, and returns the pass
// (shown only this once) with its record. The pass records the actor's name as its creator.
func (s *Service) IssueAccessPass(ctx context.Context, a latchkey.Actor, userID string, o signin.IssueOptions) (string, *latchkey.AccessPass, error) {
	u, err := s.userFor(ctx, a, authz.ActionIssueTAP, userID)
	if err != nil {
		return "", nil, err
	}
	o.CreatedBy = a.Name()
	ctx = latchkey.Audit(ctx, a, "accessPass.issue", "user", u.ID, u.UserPrincipalName, map[string]any{
		"lifetimeInMinutes": o.LifetimeMinutes, "isUsableOnce": o.OneTime, "startDateTime": o.StartAt, "recovery": o.Recovery})
	return s.Signin.IssueAccessPass(ctx, u.ID, o)
}

// Methods are a person's authentication methods as an administrator sees them.
type Methods struct {
	// User is the person whose methods these are.
	User     *latchkey.User
	Passkeys []*latchkey.Passkey
	// AccessPass is the person's temporary access pass; nil when they have none.
	AccessPass *latchkey.AccessPass
	// Legacy are the person's password and TOTP (the zero value when they have none).
	Legacy *latchkey.LegacyCredentials
}

// UserMethods returns the authentication methods of the user userRef (id or UPN) when the actor
// may see them (ActionReadMethods).
func (s *Service) UserMethods(ctx context.Context, a latchkey.Actor, userRef string) (*Methods, error) {
	u, err := s.userFor(ctx, a, authz.ActionReadMethods, userRef)
	if err != nil {
		return nil, err
	}
	m := &Methods{User: u}
	if m.Passkeys, err = s.Store.ListPasskeysByUser(ctx, u.ID); err != nil {
		return nil, err
	}
	if m.AccessPass, err = s.Store.FindAccessPassByUser(ctx, u.ID); latchkey.IsKind(err, latchkey.ENOTFOUND) {
		m.AccessPass = nil
	} else if err != nil {
		return nil, err
	}
	if m.Legacy, err = s.Store.FindLegacyCredentials(ctx, u.ID); err != nil {
		return nil, err
	}
	return m, nil
}

// Profile is what an administrator sees about a person besides their methods: groups, units,
// role assignments and manager.
type Profile struct {
	User   *latchkey.User
	Groups []*latchkey.Group
	Units  []*latchkey.AdministrativeUnit
	Roles  []*RoleAssignmentView
	// Manager is the person's manager; nil when none.
	Manager *latchkey.User
}

// UserProfile returns the profile of the user ref names (an id or a UPN) when the actor may see
// them (ActionReadUsers).
func (s *Service) UserProfile(ctx context.Context, a latchkey.Actor, ref string) (*Profile, error) {
	u, err := s.FindUser(ctx, a, ref)
	if err != nil {
		return nil, err
	}
	p := &Profile{User: u}
	if p.Groups, err = s.Store.ListUserGroups(ctx, u.ID); err != nil {
		return nil, err
	}
	unitIDs, err := s.Store.ListUserUnits(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, id := range unitIDs {
		unit, err := s.Store.FindUnitByID(ctx, id)
		if err != nil {
			return nil, err
		}
		p.Units = append(p.Units, unit)
	}
	asgs, err := s.Store.ListRoleAssignments(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if p.Roles, err = s.describeAssignments(ctx, asgs); err != nil {
		return nil, err
	}
	if u.ManagerID != "" {
		if p.Manager, err = s.Store.FindUserByID(ctx, u.ManagerID); err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, err
		}
	}
	return p, nil
}

// UserSignIns returns u's latest sign-ins, at most limit, when the actor may read the sign-in
// log (ActionReadSignInLog).
func (s *Service) UserSignIns(ctx context.Context, a latchkey.Actor, u *latchkey.User, limit int) ([]*latchkey.SignInEvent, error) {
	if err := authz.Decide(a, authz.ActionReadSignInLog, authz.Target{Kind: authz.TargetLog}); err != nil {
		return nil, err
	}
	return s.Store.ListSignIns(ctx, u.ID, limit)
}
