package latchkey

import (
	"context"
	"strings"
	"time"
)

// User types.
const (
	UserTypeMember = "member"
	UserTypeGuest  = "guest"
)

// Roles a user may hold.
const (
	RoleGlobalAdmin = "globalAdmin"
)

// User is a person who signs in: a member (employee) or a guest.
type User struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName,omitempty"`
	Surname           string   `json:"surname,omitempty"`
	EmployeeID        string   `json:"employeeId,omitempty"`
	Enabled           bool     `json:"accountEnabled"`
	UserType          string   `json:"userType"`
	Roles             []string `json:"roles"`
	// ManagerID is the id of the person's manager ("" when none): the manager may help them on
	// My Staff (DESIGN §5).
	ManagerID string    `json:"managerId,omitempty"`
	CreatedAt time.Time `json:"createdDateTime"`
}

// NormalizeUPN returns the form of a user principal name used for uniqueness and look-ups.
func NormalizeUPN(upn string) string { return strings.ToLower(strings.TrimSpace(upn)) }

// Validate checks a user before it is stored and fills defaults (display name, user type,
// roles). It refuses what ValidateUserPrincipalName and ValidateName refuse and never changes
// what was given.
func (u *User) Validate() error {
	if err := ValidateUserPrincipalName(u.UserPrincipalName); err != nil {
		return err
	}
	upn := u.UserPrincipalName
	for _, f := range []struct{ kind, value string }{{"display name", u.DisplayName}, {"given name", u.GivenName}, {"surname", u.Surname}} {
		if f.value == "" {
			continue
		}
		if err := ValidateName(f.kind, f.value); err != nil {
			return err
		}
	}
	if u.EmployeeID != "" {
		if err := validateText("invalid_name", "employee id", u.EmployeeID, 64); err != nil {
			return err
		}
	}
	if u.DisplayName == "" {
		u.DisplayName = strings.TrimSpace(u.GivenName + " " + u.Surname)
		if u.DisplayName == "" {
			u.DisplayName = upn
		}
	}
	switch u.UserType {
	case "":
		u.UserType = UserTypeMember
	case UserTypeMember, UserTypeGuest:
	default:
		return Errorf(EINVALID, "invalid_user", "A user is either a member or a guest.", "userType %q is not member or guest", u.UserType)
	}
	for _, r := range u.Roles {
		if !IsRole(r) {
			return Errorf(EINVALID, "invalid_user", "That role does not exist.", "unknown role %q", r)
		}
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	return nil
}

// Group is a named set of users that policies target.
type Group struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdDateTime"`
}

// Validate checks a group's name and description before it is stored.
func (g *Group) Validate() error {
	if err := ValidateName("group name", g.DisplayName); err != nil {
		return err
	}
	return ValidateDescription("group description", g.Description)
}

// UserStore persists users. UPNs are unique regardless of case.
type UserStore interface {
	// CreateUser stores u, assigning ID and CreatedAt when empty. ErrConflict when the UPN is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns the user with the given ID; ErrNotFound when there is none.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByUPN finds a user by principal name, case-insensitively.
	FindUserByUPN(ctx context.Context, upn string) (*User, error)
	// ListUsers returns users ordered by UPN.
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser loads the user, applies fn and stores the result in one transaction; ID and
	// CreatedAt stay as they were, whatever fn does to them.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// GroupStore persists groups and membership. Group names are unique regardless of case.
type GroupStore interface {
	// CreateGroup stores g, assigning ID and CreatedAt when empty; ErrConflict when the name is
	// taken, in any case.
	CreateGroup(ctx context.Context, g *Group) error
	// FindGroupByID returns the group with the given ID; ErrNotFound when there is none.
	FindGroupByID(ctx context.Context, id string) (*Group, error)
	// FindGroupByName returns the group with the given name, in any case; ErrNotFound when
	// there is none.
	FindGroupByName(ctx context.Context, name string) (*Group, error)
	// ListGroups returns every group, ordered by name regardless of case.
	ListGroups(ctx context.Context) ([]*Group, error)
	// AddGroupMember is idempotent: adding a member twice is not an error.
	AddGroupMember(ctx context.Context, groupID, userID string) error
	// RemoveGroupMember ends the user's membership of the group, if any.
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	// ListGroupMembers returns the group's members, ordered by UPN regardless of case.
	ListGroupMembers(ctx context.Context, groupID string) ([]*User, error)
	// ListUserGroups returns the groups the user belongs to, ordered by name regardless of case.
	ListUserGroups(ctx context.Context, userID string) ([]*Group, error)
}
