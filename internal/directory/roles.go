package directory

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// Refusal codes of role assignments, units and managers.
const (
	CodeRoleAssigned    = "role_assigned"
	CodeRoleNotAssigned = "role_not_assigned"
	CodeUnitExists      = "unit_exists"
	CodeUnitNotFound    = "unit_not_found"
	CodeMemberNotFound  = "member_not_found"
	CodeManagerSelf     = "manager_self"
	CodeManagerCycle    = "manager_cycle"
)

var (
	rolesTarget = authz.Target{Kind: authz.TargetRole}
	unitsTarget = authz.Target{Kind: authz.TargetUnit}
)

// RoleAssignmentView is a role assignment with the names a person reads: the user's UPN and the
// unit's name ("" for the whole directory).
type RoleAssignmentView struct {
	*latchkey.RoleAssignment
	UserPrincipalName string `json:"userPrincipalName"`
	UnitName          string `json:"unitName,omitempty"`
}

// UnitView is an administrative unit with its direct members, named.
type UnitView struct {
	*latchkey.AdministrativeUnit
	Members []UnitMemberView `json:"members"`
}

// UnitMemberView is one member of a unit: a user (named by UPN) or a group (by name).
type UnitMemberView struct {
	latchkey.UnitMember
	Name string `json:"name"`
}

// checkRole refuses a role name that is not one of latchkey.Roles, naming the valid ones.
func checkRole(role string) error {
	if latchkey.IsRole(role) {
		return nil
	}
	valid := strings.Join(latchkey.Roles, ", ")
	return latchkey.Errorf(latchkey.EINVALID, latchkey.CodeInvalidRole, "That role does not exist. The roles are: "+valid+".",
		"unknown role %q (roles: %s)", role, valid)
}

// findUnit finds the unit that ref names: an id or a name; "" names no unit (the whole
// directory) and returns nil.
func (s *Service) findUnit(ctx context.Context, ref string) (*latchkey.AdministrativeUnit, error) {
	if ref == "" {
		return nil, nil
	}
	u, err := s.Store.FindUnitByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		u, err = s.Store.FindUnitByName(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, CodeUnitNotFound, "That administrative unit does not exist.", "no unit with id or name %q", ref)
	}
	return u, err
}

// AssignRole gives the user userRef (id or UPN) role, over the unit unitRef (id or name) or,
// when unitRef is "", over the whole directory. The actor needs ActionManageRoles. An unknown
// role is refused with the list of valid ones; holding the role at that scope already is
// role_assigned.
func (s *Service) AssignRole(ctx context.Context, a latchkey.Actor, userRef, role, unitRef string) (*RoleAssignmentView, error) {
	if err := authz.Decide(a, authz.ActionManageRoles, rolesTarget); err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	u, err := s.lookupUser(ctx, userRef)
	if err != nil {
		return nil, err
	}
	unit, err := s.findUnit(ctx, unitRef)
	if err != nil {
		return nil, err
	}
	asg := &latchkey.RoleAssignment{UserID: u.ID, Role: role}
	v := &RoleAssignmentView{RoleAssignment: asg, UserPrincipalName: u.UserPrincipalName}
	if unit != nil {
		asg.UnitID, v.UnitName = unit.ID, unit.DisplayName
	}
	if err := asg.Validate(); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "role.assign", "user", u.ID, u.UserPrincipalName, map[string]any{
		"role": role, "unitId": asg.UnitID, "unitName": v.UnitName})
	if err := s.Store.AssignRole(ctx, asg); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, CodeRoleAssigned, "This person already holds that role there.",
			"user %s already holds %s at scope %q", u.UserPrincipalName, role, asg.UnitID)
	} else if err != nil {
		return nil, err
	}
	return v, nil
}

// RemoveRole takes role at the unit unitRef ("" for the whole directory) away from the user
// userRef. The actor needs ActionManageRoles; an assignment that does not exist is
// role_not_assigned.
func (s *Service) RemoveRole(ctx context.Context, a latchkey.Actor, userRef, role, unitRef string) error {
	if err := authz.Decide(a, authz.ActionManageRoles, rolesTarget); err != nil {
		return err
	}
	if err := checkRole(role); err != nil {
		return err
	}
	u, err := s.lookupUser(ctx, userRef)
	if err != nil {
		return err
	}
	unit, err := s.findUnit(ctx, unitRef)
	if err != nil {
		return err
	}
	unitID, unitName := "", ""
	if unit != nil {
		unitID, unitName = unit.ID, unit.DisplayName
	}
	ctx = latchkey.Audit(ctx, a, "role.remove", "user", u.ID, u.UserPrincipalName, map[string]any{
		"role": role, "unitId": unitID, "unitName": unitName})
	if err := s.Store.RemoveRole(ctx, u.ID, role, unitID); latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return latchkey.Errorf(latchkey.ENOTFOUND, CodeRoleNotAssigned, "This person does not hold that role there.",
			"user %s holds no %s at scope %q", u.UserPrincipalName, role, unitID)
	} else if err != nil {
		return lastAdmin(err, u)
	}
	return nil
}

// ListRoleAssignments returns the role assignments of the user userRef, or of everyone when
// userRef is "". Seeing everyone's needs ActionReadUsers over the whole directory; one person's,
// ActionReadUsers on them.
func (s *Service) ListRoleAssignments(ctx context.Context, a latchkey.Actor, userRef string) ([]*RoleAssignmentView, error) {
	userID := ""
	if userRef == "" {
		if err := authz.Decide(a, authz.ActionReadUsers, allUsers); err != nil {
			return nil, err
		}
	} else {
		u, err := s.FindUser(ctx, a, userRef)
		if err != nil {
			return nil, err
		}
		userID = u.ID
	}
	asgs, err := s.Store.ListRoleAssignments(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.describeAssignments(ctx, asgs)
}

// describeAssignments names the users and units of asgs.
func (s *Service) describeAssignments(ctx context.Context, asgs []*latchkey.RoleAssignment) ([]*RoleAssignmentView, error) {
	upns := map[string]string{}
	units := map[string]string{}
	views := make([]*RoleAssignmentView, 0, len(asgs))
	for _, asg := range asgs {
		v := &RoleAssignmentView{RoleAssignment: asg}
		upn, ok := upns[asg.UserID]
		if !ok {
			u, err := s.Store.FindUserByID(ctx, asg.UserID)
			if err != nil {
				return nil, err
			}
			upn, upns[asg.UserID] = u.UserPrincipalName, u.UserPrincipalName
		}
		v.UserPrincipalName = upn
		if asg.UnitID != "" {
			name, ok := units[asg.UnitID]
			if !ok {
				unit, err := s.Store.FindUnitByID(ctx, asg.UnitID)
				if err != nil {
					return nil, err
				}
				name, units[asg.UnitID] = unit.DisplayName, unit.DisplayName
			}
			v.UnitName = name
		}
		views = append(views, v)
	}
	return views, nil
}
