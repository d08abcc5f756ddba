package directory

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// GraphUser is a user as Microsoft Graph names its properties, with the manager and the
// groups the person is a member of: what `user show --json`, `user list --json` and the API's
// PATCH answer print.
type GraphUser struct {
	ID                string     `json:"id"`
	UserPrincipalName string     `json:"userPrincipalName"`
	DisplayName       string     `json:"displayName"`
	GivenName         string     `json:"givenName"`
	Surname           string     `json:"surname"`
	Mail              string     `json:"mail"`
	OtherMails        []string   `json:"otherMails"`
	AccountEnabled    bool       `json:"accountEnabled"`
	EmployeeID        string     `json:"employeeId"`
	Department        string     `json:"department"`
	EmployeeHireDate  *time.Time `json:"employeeHireDate"`
	UserType          string     `json:"userType"`
	CreatedDateTime   time.Time  `json:"createdDateTime"`
	Manager           *UserRef   `json:"manager"`
	MemberOf          []GroupRef `json:"memberOf"`
	// Roles are the global roles the person holds (Latchkey's, not Graph's).
	Roles []string `json:"roles"`
}

// UserRef names a user by id and UPN.
type UserRef struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// GroupRef names a group by id and name.
type GroupRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// Graph returns u in Graph's shape with their manager and groups. The caller has already
// been allowed to see u.
func (s *Service) Graph(ctx context.Context, u *latchkey.User) (*GraphUser, error) {
	g := &GraphUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName,
		GivenName: u.GivenName, Surname: u.Surname, Mail: u.Mail, OtherMails: []string{},
		AccountEnabled: u.Enabled, EmployeeID: u.EmployeeID, Department: u.Department,
		UserType: u.UserType, CreatedDateTime: u.CreatedAt, MemberOf: []GroupRef{}, Roles: u.Roles}
	if u.PersonalMail != "" {
		g.OtherMails = append(g.OtherMails, u.PersonalMail)
	}
	if d, err := time.Parse(time.DateOnly, u.StartDate); err == nil {
		g.EmployeeHireDate = &d
	}
	if u.ManagerID != "" {
		m, err := s.Store.FindUserByID(ctx, u.ManagerID)
		if err != nil && !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			return nil, err
		}
		if m != nil {
			g.Manager = &UserRef{ID: m.ID, UserPrincipalName: m.UserPrincipalName}
		}
	}
	groups, err := s.Store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, gr := range groups {
		g.MemberOf = append(g.MemberOf, GroupRef{ID: gr.ID, DisplayName: gr.DisplayName})
	}
	return g, nil
}

// HireDate reads a start date as Graph's employeeHireDate gives it (2027-01-04T00:00:00Z) or as
// people write it (2027-01-04), and returns it as the store keeps it; "" stays "". A date-time
// is taken by the date as written, whatever its offset: a start date is a calendar day.
func HireDate(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	y, m, d, err := policy.StartDay(s)
	if err != nil {
		return "", latchkey.Errorf(latchkey.EINVALID, "invalid_date", "Enter the start date as year-month-day, like 2027-01-04.", "start date %q is not a date", s)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), nil
}
