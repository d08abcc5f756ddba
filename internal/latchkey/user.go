package latchkey

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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
	ID                string    `json:"id"`
	UserPrincipalName string    `json:"userPrincipalName"`
	DisplayName       string    `json:"displayName"`
	GivenName         string    `json:"givenName,omitempty"`
	Surname           string    `json:"surname,omitempty"`
	EmployeeID        string    `json:"employeeId,omitempty"`
	Enabled           bool      `json:"accountEnabled"`
	UserType          string    `json:"userType"`
	Roles             []string  `json:"roles"`
	CreatedAt         time.Time `json:"createdDateTime"`
}

// HasRole reports whether u holds role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// IsGlobalAdmin reports whether u holds the global-admin role.
func (u *User) IsGlobalAdmin() bool { return u.HasRole(RoleGlobalAdmin) }

// NormalizeUPN returns the form of a user principal name used for uniqueness and look-ups.
func NormalizeUPN(upn string) string { return strings.ToLower(strings.TrimSpace(upn)) }

// Validate checks a user before it is stored and fills defaults.
func (u *User) Validate() error {
	u.UserPrincipalName = strings.TrimSpace(u.UserPrincipalName)
	upn := u.UserPrincipalName
	if upn == "" {
		return Errorf(EINVALID, "invalid_user", "Enter a user name such as alice@example.com.", "userPrincipalName is required")
	}
	if len(upn) > 254 || strings.ContainsAny(upn, " <>\"'") || strings.IndexFunc(upn, unicode.IsControl) >= 0 || !utf8.ValidString(upn) {
		return Errorf(EINVALID, "invalid_user", "A user name may not contain spaces or quotes and must be shorter than 255 characters.", "userPrincipalName %q is not valid", upn)
	}
	for _, name := range []string{u.DisplayName, u.GivenName, u.Surname, u.EmployeeID} {
		if strings.IndexFunc(name, unicode.IsControl) >= 0 || !utf8.ValidString(name) {
			return Errorf(EINVALID, "invalid_user", "A name may not contain control characters.", "names must be valid UTF-8 without control characters")
		}
	}
	if len(u.DisplayName) > 256 || len(u.GivenName) > 256 || len(u.Surname) > 256 || len(u.EmployeeID) > 64 {
		return Errorf(EINVALID, "invalid_user", "A name is too long.", "names are limited to 256 characters and employee id to 64")
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
		if r != RoleGlobalAdmin {
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

// Validate checks a group before it is stored.
func (g *Group) Validate() error {
	g.DisplayName = strings.TrimSpace(g.DisplayName)
	if g.DisplayName == "" || len(g.DisplayName) > 256 {
		return Errorf(EINVALID, "invalid_group", "Enter a group name of at most 256 characters.", "displayName is required and at most 256 characters")
	}
	return nil
}

// UserStore persists users. UPNs are unique regardless of case.
type UserStore interface {
	// CreateUser stores u, assigning ID and CreatedAt when empty. ErrConflict when the UPN is taken.
	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByUPN finds a user by principal name, case-insensitively.
	FindUserByUPN(ctx context.Context, upn string) (*User, error)
	// ListUsers returns users ordered by UPN.
	ListUsers(ctx context.Context) ([]*User, error)
	// UpdateUser loads the user, applies fn and stores the result in one transaction.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// GroupStore persists groups and membership. Group names are unique regardless of case.
type GroupStore interface {
	CreateGroup(ctx context.Context, g *Group) error
	FindGroupByID(ctx context.Context, id string) (*Group, error)
	FindGroupByName(ctx context.Context, name string) (*Group, error)
	ListGroups(ctx context.Context) ([]*Group, error)
	// AddGroupMember is idempotent: adding a member twice is not an error.
	AddGroupMember(ctx context.Context, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	ListGroupMembers(ctx context.Context, groupID string) ([]*User, error)
	ListUserGroups(ctx context.Context, userID string) ([]*Group, error)
}
