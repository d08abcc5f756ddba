package latchkey

import (
	"context"
	"net/mail"
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
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	DisplayName       string `json:"displayName"`
	GivenName         string `json:"givenName,omitempty"`
	Surname           string `json:"surname,omitempty"`
	EmployeeID        string `json:"employeeId,omitempty"`
	Department        string `json:"department,omitempty"`
	// StartDate is the day the person starts (YYYY-MM-DD), "" when not known.
	StartDate string `json:"employeeHireDate,omitempty"`
	// Mail is the person's work mail address; PersonalMail one outside the organization, to
	// reach them before their first sign-in.
	Mail         string   `json:"mail,omitempty"`
	PersonalMail string   `json:"personalMail,omitempty"`
	Enabled      bool     `json:"accountEnabled"`
	UserType     string   `json:"userType"`
	Roles        []string `json:"roles"`
	// ManagerID is the id of the person's manager ("" when none): the manager may help them on
	// My Staff (DESIGN §5).
	ManagerID string    `json:"managerId,omitempty"`
	CreatedAt time.Time `json:"createdDateTime"`
	// ExternalID is the id a provisioning client (SCIM's externalId) gives the person, kept as
	// sent; "" when none.
	ExternalID string `json:"-"`
	// Source says where the person came from: UserSourceSCIM, or "" (an administrator, the API
	// or the command line).
	Source string `json:"-"`
}

// UserSourceSCIM is the Source of a person or group created by SCIM provisioning.
const UserSourceSCIM = "scim"

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
	if err := ValidateDescription("external id", u.ExternalID); err != nil {
		return err
	}
	if u.Department != "" {
		if err := validateText("invalid_name", "department", u.Department, MaxNameLength); err != nil {
			return err
		}
	}
	if u.StartDate != "" {
		if _, err := time.Parse(time.DateOnly, u.StartDate); err != nil {
			return Errorf(EINVALID, "invalid_date", "Enter the start date as year-month-day, like 2027-01-04.", "start date %q is not YYYY-MM-DD", u.StartDate)
		}
	}
	for _, m := range []struct{ kind, value string }{{"mail address", u.Mail}, {"personal mail address", u.PersonalMail}} {
		if m.value == "" {
			continue
		}
		if _, err := mail.ParseAddress(m.value); err != nil || strings.ContainsAny(m.value, "<> ") {
			return Errorf(EINVALID, "invalid_mail", "Enter the "+m.kind+" as name@example.com.", "%s %q is not an address", m.kind, m.value)
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
	// ExternalID is the id a provisioning client gives the group, kept as sent; "" when none.
	ExternalID string `json:"-"`
	// Source is UserSourceSCIM for a group created by SCIM, "" otherwise.
	Source string `json:"-"`
}

// Validate checks a group's name and description before it is stored.
func (g *Group) Validate() error {
	if err := ValidateName("group name", g.DisplayName); err != nil {
		return err
	}
	if err := ValidateDescription("external id", g.ExternalID); err != nil {
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
	// ListDirectReports returns the users whose manager is managerID, ordered by UPN (none for
	// an id that names nobody).
	ListDirectReports(ctx context.Context, managerID string) ([]*User, error)
	// UpdateUser loads the user, applies fn and stores the result in one transaction; ID and
	// CreatedAt stay as they were, whatever fn does to them.
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
	// FindUsersByExternalID returns the users whose ExternalID is externalID exactly, ordered
	// by UPN regardless of case; none for "".
	FindUsersByExternalID(ctx context.Context, externalID string) ([]*User, error)
	// DisableUser turns the user off and, in the same transaction, ends every session and
	// refresh token they hold and deletes their access pass; passkeys and data stay.
	// ErrLastGlobalAdmin when they are the last enabled global administrator (decided inside
	// the transaction, so two concurrent calls cannot both pass); ErrNotFound when there is
	// no such user.
	DisableUser(ctx context.Context, id string) (*User, error)
	// DeleteUser removes the user with their passkeys, access pass, sessions, refresh tokens,
	// memberships, role assignments and unit memberships; their reports lose their manager;
	// sign-in events keep the old id and UPN. ErrLastGlobalAdmin and ErrNotFound as DisableUser.
	DeleteUser(ctx context.Context, id string) error
}

// ErrLastGlobalAdmin is returned by DisableUser and DeleteUser for the last enabled global
// administrator: without one, nobody could administer the directory.
var ErrLastGlobalAdmin = &Error{Kind: ECONFLICT, Code: "last_global_admin",
	Message: "This person is the last global administrator who can sign in. Make someone else a global administrator first.",
	Detail:  "the user is the last enabled globalAdmin"}

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
	// RenameGroup changes the group's name; ErrConflict when another group has it, in any case;
	// ErrNotFound when there is no such group.
	RenameGroup(ctx context.Context, id, name string) error
	// DeleteGroup removes the group and its memberships; ErrNotFound when there is none.
	DeleteGroup(ctx context.Context, id string) error
	// SetGroupExternalID sets the group's ExternalID; ErrNotFound when there is no such group.
	SetGroupExternalID(ctx context.Context, id, externalID string) error
}
