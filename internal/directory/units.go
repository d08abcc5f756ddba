package directory

import (
	"context"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// CreateUnit stores a new administrative unit named name. The actor needs ActionManageUnits; a
// taken name is unit_exists.
func (s *Service) CreateUnit(ctx context.Context, a latchkey.Actor, name string) (*latchkey.AdministrativeUnit, error) {
	if err := authz.Decide(a, authz.ActionManageUnits, unitsTarget); err != nil {
		return nil, err
	}
	u := &latchkey.AdministrativeUnit{DisplayName: name}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if u.ID == "" {
		u.ID = latchkey.NewID()
	}
	ctx = latchkey.Audit(ctx, a, "unit.create", "administrativeUnit", u.ID, u.DisplayName, nil)
	if err := s.Store.CreateUnit(ctx, u); latchkey.IsKind(err, latchkey.ECONFLICT) {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, CodeUnitExists, "An administrative unit with that name already exists.", "unit %q exists", name)
	} else if err != nil {
		return nil, err
	}
	return u, nil
}

// AddUnitMember adds to the unit unitRef (id or name) the user or group memberRef names: a
// user's id or UPN, else a group's id or name. The actor needs ActionManageUnits; adding a
// member twice is harmless.
func (s *Service) AddUnitMember(ctx context.Context, a latchkey.Actor, unitRef, memberRef string) (*UnitMemberView, error) {
	if err := authz.Decide(a, authz.ActionManageUnits, unitsTarget); err != nil {
		return nil, err
	}
	unit, err := s.findUnit(ctx, unitRef)
	if err != nil {
		return nil, err
	}
	if unit == nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, latchkey.CodeInvalidUnitMember, "Choose the administrative unit.", "no unit given")
	}
	m, err := s.findMember(ctx, memberRef)
	if err != nil {
		return nil, err
	}
	m.UnitID = unit.ID
	if err := m.Validate(); err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "unit.addMember", "administrativeUnit", unit.ID, unit.DisplayName, map[string]any{
		"memberKind": m.Kind, "memberId": m.MemberID, "memberName": m.Name})
	if err := s.Store.AddUnitMember(ctx, m.UnitMember); err != nil {
		return nil, err
	}
	return m, nil
}

// findMember resolves ref to a user (id or UPN) or, failing that, a group (id or name).
func (s *Service) findMember(ctx context.Context, ref string) (*UnitMemberView, error) {
	u, err := s.lookupUser(ctx, ref)
	if err == nil {
		return &UnitMemberView{UnitMember: latchkey.UnitMember{Kind: latchkey.UnitMemberUser, MemberID: u.ID}, Name: u.UserPrincipalName}, nil
	} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, err
	}
	g, err := s.Store.FindGroupByID(ctx, ref)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		g, err = s.Store.FindGroupByName(ctx, ref)
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, CodeMemberNotFound, "There is no user or group of that name.", "no user (id or UPN) or group (id or name) %q", ref)
	} else if err != nil {
		return nil, err
	}
	return &UnitMemberView{UnitMember: latchkey.UnitMember{Kind: latchkey.UnitMemberGroup, MemberID: g.ID}, Name: g.DisplayName}, nil
}

// ListUnits returns every administrative unit with its direct members, ordered by name. The
// actor needs ActionReadUsers over the whole directory.
func (s *Service) ListUnits(ctx context.Context, a latchkey.Actor) ([]*UnitView, error) {
	if err := authz.Decide(a, authz.ActionReadUsers, allUsers); err != nil {
		return nil, err
	}
	units, err := s.Store.ListUnits(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]*UnitView, 0, len(units))
	for _, unit := range units {
		members, err := s.Store.ListUnitMembers(ctx, unit.ID)
		if err != nil {
			return nil, err
		}
		v := &UnitView{AdministrativeUnit: unit, Members: make([]UnitMemberView, 0, len(members))}
		for _, m := range members {
			mv := UnitMemberView{UnitMember: m}
			if m.Kind == latchkey.UnitMemberUser {
				if u, err := s.Store.FindUserByID(ctx, m.MemberID); err == nil {
					mv.Name = u.UserPrincipalName
				} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
					return nil, err
				}
			} else if g, err := s.Store.FindGroupByID(ctx, m.MemberID); err == nil {
				mv.Name = g.DisplayName
			} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
				return nil, err
			}
			v.Members = append(v.Members, mv)
		}
		views = append(views, v)
	}
	return views, nil
}

// SetManager makes managerRef (id or UPN) the manager of the user userRef, or clears the
// manager when managerRef is "". The actor needs ActionUpdateUser on the user. Nobody manages
// themself (manager_self), and a manager may not report, directly or not, to the person
// (manager_cycle).
func (s *Service) SetManager(ctx context.Context, a latchkey.Actor, userRef, managerRef string) (*latchkey.User, error) {
	u, err := s.userFor(ctx, a, authz.ActionUpdateUser, userRef)
	if err != nil {
		return nil, err
	}
	managerID, err := s.managerFor(ctx, u, managerRef)
	if err != nil {
		return nil, err
	}
	ctx = latchkey.Audit(ctx, a, "user.setManager", "user", u.ID, u.UserPrincipalName, map[string]any{
		"managerId": managerID, "managerName": s.userName(ctx, managerID), "previousManagerId": u.ManagerID})
	return s.Store.UpdateUser(ctx, u.ID, func(x *latchkey.User) error {
		x.ManagerID = managerID
		return nil
	})
}

// checkNoCycle refuses m as u's manager when u is somewhere in m's chain of managers.
func (s *Service) checkNoCycle(ctx context.Context, u, m *latchkey.User) error {
	seen := map[string]bool{m.ID: true}
	for next := m.ManagerID; next != ""; {
		if next == u.ID {
			return latchkey.Errorf(latchkey.EINVALID, CodeManagerCycle, "That manager reports to this person, directly or through others; choose someone else.",
				"user %s is in the management chain of %s", u.UserPrincipalName, m.UserPrincipalName)
		}
		if seen[next] {
			return nil // an existing loop that does not pass through u
		}
		seen[next] = true
		x, err := s.Store.FindUserByID(ctx, next)
		if latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil
		} else if err != nil {
			return err
		}
		next = x.ManagerID
	}
	return nil
}
