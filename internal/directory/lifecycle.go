package directory

import (
	"context"
	"errors"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refusal codes of the user lifecycle.
const (
	// CodeNotYourself: nobody disables or deletes their own account.
	CodeNotYourself = "not_yourself"
	// CodeGroupNotFound: no group has that id or name.
	CodeGroupNotFound = "group_not_found"
)

// UserChanges are the profile fields an edit sets; a nil field stays as it is, and an empty
// string clears an optional one. Manager names the manager by id or UPN. UserPrincipalName
// renames the person (a name another person has is refused with user_exists); ExternalID is
// the id a provisioning client gives them.
type UserChanges struct {
	DisplayName, GivenName, Surname, EmployeeID, Department *string
	Manager, StartDate, Mail, PersonalMail                  *string
	UserPrincipalName, ExternalID                           *string
}

// summary is what the audit event of an update records: each field given, with its new value
// (managerID for the manager).
func (ch UserChanges) summary(managerID string) map[string]any {
	out := map[string]any{}
	for name, v := range map[string]*string{"displayName": ch.DisplayName, "givenName": ch.GivenName, "surname": ch.Surname,
		"employeeId": ch.EmployeeID, "department": ch.Department, "employeeHireDate": ch.StartDate, "mail": ch.Mail,
		"otherMails": ch.PersonalMail, "userPrincipalName": ch.UserPrincipalName, "externalId": ch.ExternalID} {
		if v != nil {
			out[name] = *v
		}
	}
	if ch.Manager != nil {
		out["managerId"] = managerID
	}
	return out
}

// UpdateUser applies ch to the user ref (an id or a UPN) and returns the user as stored. The
// actor needs ActionUpdateUser on the user; the result is validated as CreateUser validates,
// and a manager change is refused as SetManager refuses it. A change of the start date, the
// manager or the addresses before the onboarding mail is sent moves the mail (or cancels it,
// when the start date goes); see followOnboarding.
func (s *Service) UpdateUser(ctx context.Context, a latchkey.Actor, ref string, ch UserChanges) (*latchkey.User, error) {
	u, err := s.userFor(ctx, a, authz.ActionUpdateUser, ref)
	if err != nil {
		return nil, err
	}
	managerID := u.ManagerID
	if ch.Manager != nil {
		if managerID, err = s.managerFor(ctx, u, *ch.Manager); err != nil {
			return nil, err
		}
	}
	after := *u
	ch.apply(&after, managerID)
	if err := after.Validate(); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "user.update", "user", u.ID, u.UserPrincipalName, ch.summary(managerID))
	if ctx, err = s.followOnboarding(ctx, u, &after); err != nil {
		return nil, err
	}
	updated, err := s.Store.UpdateUser(ctx, u.ID, func(x *latchkey.User) error {
		ch.apply(x, managerID)
		if ch.DisplayName != nil && *ch.DisplayName == "" {
			return latchkey.Errorf(latchkey.EINVALID, "invalid_name", "Enter a display name.", "the display name is empty")
		}
		return x.Validate()
	})
	if latchkey.IsKind(err, latchkey.ECONFLICT) && ch.UserPrincipalName != nil {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "user_exists", "A user with that name already exists.", "userPrincipalName %q is taken", *ch.UserPrincipalName)
	}
	return updated, err
}

// apply sets the fields ch gives on x, and managerID as x's manager.
func (ch UserChanges) apply(x *latchkey.User, managerID string) {
	for _, f := range []struct {
		to   *string
		from *string
	}{{&x.DisplayName, ch.DisplayName}, {&x.GivenName, ch.GivenName}, {&x.Surname, ch.Surname},
		{&x.EmployeeID, ch.EmployeeID}, {&x.Department, ch.Department}, {&x.StartDate, ch.StartDate},
		{&x.Mail, ch.Mail}, {&x.PersonalMail, ch.PersonalMail}, {&x.UserPrincipalName, ch.UserPrincipalName},
		{&x.ExternalID, ch.ExternalID}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	x.ManagerID = managerID
}

// managerFor resolves ref as u's new manager ("" for none), refusing u themself and anyone who
// reports to u.
func (s *Service) managerFor(ctx context.Context, u *latchkey.User, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	m, err := s.lookupUser(ctx, ref)
	if err != nil {
		return "", err
	}
	if m.ID == u.ID {
		return "", latchkey.Errorf(latchkey.EINVALID, CodeManagerSelf, "A person cannot be their own manager.", "user %s as their own manager", u.UserPrincipalName)
	}
	if err := s.checkNoCycle(ctx, u, m); err != nil {
		return "", err
	}
	return m.ID, nil
}

// notYourself refuses the actor's own account for action ("turn off" or "delete").
func notYourself(a latchkey.Actor, u *latchkey.User, verb string) error {
	if a.Kind == latchkey.ActorPerson && a.UserID == u.ID {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeNotYourself, "You can't "+verb+" your own account. Ask another administrator.",
			"%s tried to %s their own account", u.UserPrincipalName, verb)
	}
	return nil
}

// lastAdmin words the store's ErrLastGlobalAdmin for u; other errors pass unchanged.
func lastAdmin(err error, u *latchkey.User) error {
	if errors.Is(err, latchkey.ErrLastGlobalAdmin) {
		return latchkey.Errorf(latchkey.ECONFLICT, latchkey.ErrLastGlobalAdmin.Code,
			latchkey.ErrLastGlobalAdmin.Message, "%s is the last enabled globalAdmin", u.UserPrincipalName)
	}
	return err
}

// DisableUser turns the account ref off: every session and refresh token of the person ends
// at once (on every node: they live in the store), their pass is revoked, their onboarding
// mail, if still waiting, is cancelled, and their passkeys and data stay. The actor needs
// ActionDisableUser; nobody disables themself (not_yourself), and the last enabled global
// administrator stays (last_global_admin).
func (s *Service) DisableUser(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.User, error) {
	u, err := s.userFor(ctx, a, authz.ActionDisableUser, ref)
	if err != nil {
		return nil, err
	}
	if err := notYourself(a, u, "turn off"); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "user.disable", "user", u.ID, u.UserPrincipalName, nil)
	ctx = latchkey.CancelMail(ctx, OnboardingMailKey(u.ID))
	d, err := s.Store.DisableUser(ctx, u.ID)
	return d, lastAdmin(err, u)
}

// EnableUser turns the account ref on again. Sessions and tokens ended when it was turned off
// stay ended; an onboarding mail not yet sent is queued again. The actor needs ActionDisableUser.
func (s *Service) EnableUser(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.User, error) {
	u, err := s.userFor(ctx, a, authz.ActionDisableUser, ref)
	if err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "user.enable", "user", u.ID, u.UserPrincipalName, nil)
	after := *u
	after.Enabled = true
	if ctx, err = s.followOnboarding(ctx, u, &after); err != nil {
		return nil, err
	}
	return s.Store.UpdateUser(ctx, u.ID, func(x *latchkey.User) error { x.Enabled = true; return nil })
}

// DeleteUser removes the person ref for good: passkeys, pass, sessions, refresh tokens,
// memberships, roles and unit memberships go; their reports lose their manager; sign-in events
// keep the old id and UPN; a waiting onboarding mail is cancelled. The actor needs
// ActionDeleteUser; refusals as DisableUser. It returns the user as they were.
func (s *Service) DeleteUser(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.User, error) {
	u, err := s.userFor(ctx, a, authz.ActionDeleteUser, ref)
	if err != nil {
		return nil, err
	}
	if err := notYourself(a, u, "delete"); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "user.delete", "user", u.ID, u.UserPrincipalName, map[string]any{"displayName": u.DisplayName})
	ctx = latchkey.CancelMail(ctx, OnboardingMailKey(u.ID))
	return u, lastAdmin(s.Store.DeleteUser(ctx, u.ID), u)
}

// FindGroup returns the group ref names (its name, in any case, or its id). The actor needs
// ActionReadGroups.
func (s *Service) FindGroup(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.Group, error) {
	if err := authz.Decide(a, authz.ActionReadGroups, authz.Target{Kind: authz.TargetGroup, ID: ref}); err != nil {
		return nil, err
	}
	return s.lookupGroup(ctx, ref)
}

// lookupGroup finds the group that ref names: a name, in any case, or an id.
func (s *Service) lookupGroup(ctx context.Context, ref string) (*latchkey.Group, error) {
	g, err := s.Store.FindGroupByName(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		g, err = s.Store.FindGroupByID(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, CodeGroupNotFound, "That group does not exist.", "no group with name or id %q", ref)
	}
	return g, err
}

// RemoveGroupMember ends the membership of the user userID in the group groupID, if any. The
// actor needs ActionManageGroups.
func (s *Service) RemoveGroupMember(ctx context.Context, a latchkey.Actor, groupID, userID string) error {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: groupID}); err != nil {
		return err
	}
	ctx = latchkey.Audit(ctx, a, "group.removeMember", "group", groupID, s.groupName(ctx, groupID),
		map[string]any{"userId": userID, "userPrincipalName": s.userName(ctx, userID)})
	return s.Store.RemoveGroupMember(ctx, groupID, userID)
}

// RenameGroup gives the group ref a new name; a name another group has is refused with
// group_exists. The actor needs ActionManageGroups.
func (s *Service) RenameGroup(ctx context.Context, a latchkey.Actor, ref, name string) (*latchkey.Group, error) {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: ref}); err != nil {
		return nil, err
	}
	g, err := s.lookupGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := latchkey.ValidateName("group name", name); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "group.rename", "group", g.ID, name, map[string]any{"from": g.DisplayName, "to": name})
	if err := s.Store.RenameGroup(ctx, g.ID, name); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "group_exists", "A group with that name already exists.", "group %q exists", name)
	} else if err != nil {
		return nil, err
	}
	g.DisplayName = name
	return g, nil
}

// DeleteGroup removes the group ref and its memberships; the people stay. The actor needs
// ActionManageGroups. It returns the group as it was.
func (s *Service) DeleteGroup(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.Group, error) {
	if err := authz.Decide(a, authz.ActionManageGroups, authz.Target{Kind: authz.TargetGroup, ID: ref}); err != nil {
		return nil, err
	}
	g, err := s.lookupGroup(ctx, ref)
	if err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "group.delete", "group", g.ID, g.DisplayName, nil)
	return g, s.Store.DeleteGroup(ctx, g.ID)
}

// ListGroups returns every group, ordered by name. The actor needs ActionReadGroups.
func (s *Service) ListGroups(ctx context.Context, a latchkey.Actor) ([]*latchkey.Group, error) {
	if err := authz.Decide(a, authz.ActionReadGroups, authz.Target{Kind: authz.TargetGroup}); err != nil {
		return nil, err
	}
	return s.Store.ListGroups(ctx)
}

// GroupMembers returns the group ref and its members, ordered by UPN. The actor needs
// ActionReadGroups.
func (s *Service) GroupMembers(ctx context.Context, a latchkey.Actor, ref string) (*latchkey.Group, []*latchkey.User, error) {
	g, err := s.FindGroup(ctx, a, ref)
	if err != nil {
		return nil, nil, err
	}
	members, err := s.Store.ListGroupMembers(ctx, g.ID)
	return g, members, err
}
