package latchkey

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Roles (DESIGN §5), named as the CLI and the audit log name them: Entra's built-in roles of
// the same names. RoleGlobalAdmin is declared in user.go.
const (
	RolePrivilegedAuthenticationAdmin = "privilegedAuthenticationAdmin"
	RoleAuthenticationPolicyAdmin     = "authenticationPolicyAdmin"
	RoleAuthenticationAdmin           = "authenticationAdmin"
	RoleReportsReader                 = "reportsReader"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleGlobalAdmin, RolePrivilegedAuthenticationAdmin, RoleAuthenticationPolicyAdmin,
	RoleAuthenticationAdmin, RoleReportsReader}

// roleWords are the roles as the pages show them to people.
var roleWords = map[string]string{
	RoleGlobalAdmin:                   "Global admin",
	RolePrivilegedAuthenticationAdmin: "Privileged authentication admin",
	RoleAuthenticationPolicyAdmin:     "Authentication policy admin",
	RoleAuthenticationAdmin:           "Authentication admin (helpdesk)",
	RoleReportsReader:                 "Reports reader",
}

// RoleWords returns how the pages name role ("Reports reader"); a name that is not a role is
// returned as it is.
func RoleWords(role string) string {
	if w, ok := roleWords[role]; ok {
		return w
	}
	return role
}

// IsRole reports whether name is one of Roles.
func IsRole(name string) bool {
	for _, r := range Roles {
		if r == name {
			return true
		}
	}
	return false
}

// RoleAssignment gives a person a role, over the whole directory (UnitID "") or over the members
// of one administrative unit. A global admin is always assigned globally.
type RoleAssignment struct {
	ID     string `json:"id"`
	UserID string `json:"principalId"`
	Role   string `json:"roleDefinitionId"`
	// UnitID is the administrative unit the role is scoped to; "" for the whole directory.
	UnitID    string    `json:"directoryScopeId,omitempty"`
	CreatedAt time.Time `json:"createdDateTime"`
}

// AdministrativeUnit is a set of users and groups that roles can be scoped to. A user is in the
// unit when they are a member directly or through a group that is a member.
type AdministrativeUnit struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdDateTime"`
}

// Member kinds of an administrative unit.
const (
	UnitMemberUser  = "user"
	UnitMemberGroup = "group"
)

// UnitMember is one member of an administrative unit: a user or a group.
type UnitMember struct {
	UnitID string `json:"unitId"`
	// Kind is UnitMemberUser or UnitMemberGroup.
	Kind     string `json:"kind"`
	MemberID string `json:"id"`
}

// RoleStore persists role assignments and administrative units.
//
// The store keeps User.Roles (the distinct role names a person holds, at any scope) in step with
// the assignments, in the same transaction, so that readers of a user (conditional access, lint)
// see the roles without another query. CreateUser and UpdateUser, which write Roles as a whole, keep the
// assignments in step the other way: a role added there is assigned globally (unless the user
// holds it at some scope already), and a role dropped there loses its assignments at every scope.
type RoleStore interface {
	// AssignRole stores a, assigning ID and CreatedAt when empty, and adds a.Role to the user's
	// Roles. ErrConflict when the user already holds that role at that scope; ErrNotFound when
	// the user or the unit does not exist.
	AssignRole(ctx context.Context, a *RoleAssignment) error
	// RemoveRole removes the user's assignment of role at unitID ("" for global) and recomputes
	// the user's Roles; ErrNotFound when there is no such assignment, ErrLastGlobalAdmin when it
	// would take globalAdmin from the last enabled global administrator.
	RemoveRole(ctx context.Context, userID, role, unitID string) error
	// ListRoleAssignments returns the assignments of one user, or of everyone when userID is "",
	// ordered by user, role and unit.
	ListRoleAssignments(ctx context.Context, userID string) ([]*RoleAssignment, error)

	// CreateUnit stores u, assigning ID and CreatedAt when empty; ErrConflict when the name is
	// taken (case-insensitively).
	CreateUnit(ctx context.Context, u *AdministrativeUnit) error
	// FindUnitByID and FindUnitByName return a unit; ErrNotFound when there is none.
	FindUnitByID(ctx context.Context, id string) (*AdministrativeUnit, error)
	FindUnitByName(ctx context.Context, name string) (*AdministrativeUnit, error)
	// ListUnits returns every unit ordered by name.
	ListUnits(ctx context.Context) ([]*AdministrativeUnit, error)
	// AddUnitMember adds a user or group to a unit (adding one twice is harmless); ErrNotFound
	// when the unit or the member does not exist.
	AddUnitMember(ctx context.Context, m UnitMember) error
	// RemoveUnitMember removes a member; ErrNotFound when it was not a member.
	RemoveUnitMember(ctx context.Context, m UnitMember) error
	// ListUnitMembers returns a unit's direct members (users and groups).
	ListUnitMembers(ctx context.Context, unitID string) ([]UnitMember, error)
	// ListUserUnits returns the ids of the units the user is in, directly or through a group.
	ListUserUnits(ctx context.Context, userID string) ([]string, error)
}

// Refusal codes of role assignments and administrative units.
const (
	// CodeInvalidRole refuses a role that does not exist, or a global admin scoped to a unit.
	CodeInvalidRole = "invalid_role"
	// CodeInvalidUnitMember refuses a unit member that is neither a user nor a group.
	CodeInvalidUnitMember = "invalid_unit_member"
)

// Validate checks an assignment before it is stored: a person, one of Roles, and a global admin
// over the whole directory only. Refusals are EINVALID with code CodeInvalidRole (invalid_user
// for a missing person).
func (a *RoleAssignment) Validate() error {
	if a.UserID == "" {
		return Errorf(EINVALID, "invalid_user", "Choose the person to give the role to.", "the assignment has no principalId")
	}
	if !IsRole(a.Role) {
		return Errorf(EINVALID, CodeInvalidRole, "That role does not exist.", "unknown role %s (roles: %v)", shorten(a.Role), Roles)
	}
	if a.Role == RoleGlobalAdmin && a.UnitID != "" {
		return Errorf(EINVALID, CodeInvalidRole, "A global administrator is assigned over the whole directory, not over an administrative unit.",
			"role %s may not be scoped to unit %s", RoleGlobalAdmin, shorten(a.UnitID))
	}
	return nil
}

// Validate checks a unit's name and description before it is stored, as Group.Validate does a
// group's.
func (u *AdministrativeUnit) Validate() error {
	if err := ValidateName("administrative unit name", u.DisplayName); err != nil {
		return err
	}
	return ValidateDescription("administrative unit description", u.Description)
}

// Validate checks a unit member: a unit, a kind that is UnitMemberUser or UnitMemberGroup, and a
// member id. Refusals are EINVALID with code CodeInvalidUnitMember.
func (m UnitMember) Validate() error {
	if err := m.ValidateKind(); err != nil {
		return err
	}
	switch {
	case m.UnitID == "":
		return Errorf(EINVALID, CodeInvalidUnitMember, "Choose the administrative unit.", "the unit member has no unitId")
	case m.MemberID == "":
		return Errorf(EINVALID, CodeInvalidUnitMember, "Choose the user or group to add.", "the unit member has no id")
	}
	return nil
}

// ValidateKind checks that m.Kind is UnitMemberUser or UnitMemberGroup; the stores, which keep
// the two kinds apart, refuse any other so.
func (m UnitMember) ValidateKind() error {
	if m.Kind != UnitMemberUser && m.Kind != UnitMemberGroup {
		return Errorf(EINVALID, CodeInvalidUnitMember, "A member of an administrative unit is a user or a group.",
			"kind %s is not %q or %q", shorten(m.Kind), UnitMemberUser, UnitMemberGroup)
	}
	return nil
}

// SortRoles orders role names as Roles lists them, most powerful first, and any name not in
// Roles after them in byte order: the order in which the stores keep User.Roles.
func SortRoles(roles []string) {
	rank := func(r string) int {
		if i := slices.Index(Roles, r); i >= 0 {
			return i
		}
		return len(Roles)
	}
	slices.SortFunc(roles, func(a, b string) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
