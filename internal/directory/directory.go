// Package directory keeps the people and groups Latchkey knows: creating users (one way, with one
// validation, for the first administrator, the CLI, the API and the pages), groups and their
// members, and issuing a temporary access pass to a user.
package directory

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Service manages users and groups in a store.
type Service struct {
	Store latchkey.Store
	// Signin hashes and bounds temporary access passes by the methods policy in force.
	Signin *signin.Service
	// CreateClient registers applications (see CreateClientFunc); CreateApp refuses without it.
	CreateClient CreateClientFunc
}

// New returns the directory service over the sign-in service sig and its store.
func New(sig *signin.Service) *Service {
	return &Service{Store: sig.Store, Signin: sig}
}

// CreateUser validates u and stores it as a new user; the store assigns its id and creation
// time (any given are ignored). A taken UPN is refused with user_exists.
func (s *Service) CreateUser(ctx context.Context, u *latchkey.User) error {
	u.ID, u.CreatedAt = "", time.Time{}
	if err := u.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateUser(ctx, u); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return latchkey.Errorf(latchkey.ECONFLICT, "user_exists", "A user with that name already exists.", "userPrincipalName %q is taken", u.UserPrincipalName)
	} else if err != nil {
		return err
	}
	return nil
}

// CreateGroup validates g and stores it as a new group. A taken name is refused with
// group_exists.
func (s *Service) CreateGroup(ctx context.Context, g *latchkey.Group) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateGroup(ctx, g); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return latchkey.Errorf(latchkey.ECONFLICT, "group_exists", "A group with that name already exists.", "group %q exists", g.DisplayName)
	} else if err != nil {
		return err
	}
	return nil
}

// AddGroupMember adds the user userID to the group groupID; adding a member twice is not an
// error.
func (s *Service) AddGroupMember(ctx context.Context, groupID, userID string) error {
	return s.Store.AddGroupMember(ctx, groupID, userID)
}

// IssueAccessPass creates a new temporary access pass for the user userID, replacing any earlier
// one, within the bounds of the methods policy, and returns the pass (shown only this once) with
// its record.
func (s *Service) IssueAccessPass(ctx context.Context, userID string, o signin.IssueOptions) (string, *latchkey.AccessPass, error) {
	return s.Signin.IssueAccessPass(ctx, userID, o)
}

// FindUser finds the user that ref names: an id or a UPN.
func (s *Service) FindUser(ctx context.Context, ref string) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUserByUPN(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist.", "no user with id or UPN %q", ref)
	}
	return u, err
}

// IssueAccessPassFor issues a pass to target on behalf of the signed-in admin issuer, who may not
// issue one for themself (the break-glass path is `latchkey tap issue` on the server, which
// calls IssueAccessPass).
func (s *Service) IssueAccessPassFor(ctx context.Context, issuer, target *latchkey.User, o signin.IssueOptions) (string, *latchkey.AccessPass, error) {
	if issuer.ID == target.ID {
		return "", nil, latchkey.Errorf(latchkey.EFORBIDDEN, "tap_for_self",
			"You can't issue a pass for yourself. Ask another administrator, or run `latchkey tap issue` on the server.",
			"admins may not issue a temporary access pass for their own account")
	}
	o.CreatedBy = issuer.UserPrincipalName
	return s.IssueAccessPass(ctx, target.ID, o)
}
