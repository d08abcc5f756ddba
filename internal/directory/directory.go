// Package directory keeps the people and groups Latchkey knows: creating users (one way, with one
// validation, for the first administrator, the CLI, the API and the pages), groups and their
// members, role assignments, administrative units, managers, and issuing a temporary access pass
// to a user. Every method takes the actor and asks authz whether it may act first.
package directory

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
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

// allUsers is the target of listing users or creating one: users at large.
var allUsers = authz.Target{Kind: authz.TargetUser}

// userTarget returns the authz target for an action on u, with the units u is in.
func (s *Service) userTarget(ctx context.Context, u *latchkey.User) (authz.Target, error) {
	units, err := s.Store.ListUserUnits(ctx, u.ID)
	if err != nil {
		return authz.Target{}, fmt.Errorf("list user units: %w", err)
	}
	return authz.UserTarget(u, units), nil
}

// decideOnUser asks authz whether a may do action on u, with the units u is in.
func (s *Service) decideOnUser(ctx context.Context, a latchkey.Actor, action authz.Action, u *latchkey.User) error {
	t, err := s.userTarget(ctx, u)
	if err != nil {
		return err
	}
	return authz.Decide(a, action, t)
}

// CreateUser validates u and stores it as a new user; the store assigns its id and creation
// time (any given are ignored). A taken UPN is refused with user_exists. The actor needs
// ActionCreateUser, and ActionManageRoles when u is given roles. A person with a start date
// gets their onboarding mail queued in the same transaction (see OnboardingComposer).
func (s *Service) CreateUser(ctx context.Context, a latchkey.Actor, u *latchkey.User) error {
	if err := authz.Decide(a, authz.ActionCreateUser, allUsers); err != nil {
		return err
	}
	if len(u.Roles) > 0 {
		if err := authz.Decide(a, authz.ActionManageRoles, authz.Target{Kind: authz.TargetRole}); err != nil {
			return err
		}
	}
	u.ID, u.CreatedAt = latchkey.NewID(), time.Time{}
	if d, err := HireDate(u.StartDate); err == nil {
		u.StartDate = d // a date-time (as Graph and SCIM clients send) by its date
	}
	if err := u.Validate(); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "user.create", "user", u.ID, u.UserPrincipalName, map[string]any{
		"displayName": u.DisplayName, "userType": u.UserType, "roles": u.Roles, "employeeId": u.EmployeeID, "source": u.Source})
	if u.StartDate != "" {
		var err error
		if ctx, err = s.queueOnboarding(ctx, u); err != nil {
			return err
		}
	}
	if err := s.Store.CreateUser(ctx, u); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return latchkey.Errorf(latchkey.ECONFLICT, "user_exists", "A user with that name already exists.", "userPrincipalName %q is taken", u.UserPrincipalName)
	} else if err != nil {
		return err
	}
	return nil
}

// ListUsers returns the users the actor may see, ordered by UPN: everyone for a role over the
// whole directory, the members of its units for a role scoped to units. An actor whom no role
// lets see users is refused.
func (s *Service) ListUsers(ctx context.Context, a latchkey.Actor) ([]*latchkey.User, error) {
	err := authz.Decide(a, authz.ActionReadUsers, allUsers)
	if err == nil {
		return s.Store.ListUsers(ctx)
	}
	if !latchkey.IsKind(err, latchkey.EFORBIDDEN) || !authz.Can(a, authz.ActionReadUsers) {
		return nil, err
	}
	users, err := s.Store.ListUsers(ctx)
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

// FindUser returns the user that ref names (an id or a UPN) when the actor may see them.
func (s *Service) FindUser(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.User, error) {
	return s.userFor(ctx, a, authz.ActionReadUsers, ref)
}

// userFor finds the user that ref names (an id or a UPN) for action by a. An actor whom no
// assignment or scope lets do action at all is refused before the lookup, so that a 404 tells
// nobody who exists; then authz decides on the user found.
func (s *Service) userFor(ctx context.Context, a latchkey.Actor, action authz.Action, ref string) (*latchkey.User, error) {
	if !authz.Can(a, action) {
		return nil, authz.Decide(a, action, authz.Target{Kind: authz.TargetUser, ID: ref})
	}
	u, err := s.lookupUser(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := s.decideOnUser(ctx, a, action, u); err != nil {
		return nil, err
	}
	return u, nil
}

// lookupUser finds the user that ref names: an id or a UPN.
func (s *Service) lookupUser(ctx context.Context, ref string) (*latchkey.User, error) {
	u, err := s.Store.FindUserByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUserByUPN(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "user_not_found", "That user does not exist.", "no user with id or UPN %q", ref)
	}
	return u, err
}

// CreateGroup validates g and stores it as a new group. A taken name is refused with
// group_exists. The actor needs ActionManageGroups.
func (s *Service) CreateGroup(ctx context.Context, a latchkey.Actor, g *latchkey.Group) error {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup}); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	if g.ID == "" {
		g.ID = latchkey.NewID()
	}
	ctx = latchkey.Audit(ctx, a, "group.create", "group", g.ID, g.DisplayName, map[string]any{"description": g.Description})
	if err := s.Store.CreateGroup(ctx, g); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return latchkey.Errorf(latchkey.ECONFLICT, "group_exists", "A group with that name already exists.", "group %q exists", g.DisplayName)
	} else if err != nil {
		return err
	}
	return nil
}

// AddGroupMember adds the user userID to the group groupID and says whether it did: adding a
// member twice is not an error, and added is false when the person was already a member. The
// actor needs ActionManageGroups.
func (s *Service) AddGroupMember(ctx context.Context, a latchkey.Actor, groupID, userID string) (added bool, err error) {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: groupID}); err != nil {
		return false, err
	}
	groups, err := s.Store.ListUserGroups(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("list user groups: %w", err)
	}
	for _, g := range groups {
		if g.ID == groupID {
			return false, nil
		}
	}
	ctx = latchkey.Audit(ctx, a, "group.addMember", "group", groupID, s.groupName(ctx, groupID),
		map[string]any{"userId": userID, "userPrincipalName": s.userName(ctx, userID)})
	if err := s.Store.AddGroupMember(ctx, groupID, userID); err != nil {
		return false, err
	}
	return true, nil
}

// userName returns the UPN of the user id, for an audit event; "" when there is none.
func (s *Service) userName(ctx context.Context, id string) string {
	if u, err := s.Store.FindUserByID(ctx, id); err == nil {
		return u.UserPrincipalName
	}
	return ""
}

// groupName returns the name of the group id, for an audit event; "" when there is none.
func (s *Service) groupName(ctx context.Context, id string) string {
	if g, err := s.Store.FindGroupByID(ctx, id); err == nil {
		return g.DisplayName
	}
	return ""
}

// UserTarget returns the authz target for an action on u (its roles, units and manager), for
// pages that hide what the viewer could not use; the service methods decide themselves.
func (s *Service) UserTarget(ctx context.Context, u *latchkey.User) (authz.Target, error) {
	return s.userTarget(ctx, u)
}
