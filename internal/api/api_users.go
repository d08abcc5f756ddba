package api

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// userPatch is the body of PATCH /api/v1/users/{id}, with Graph's property names. A property
// left out stays as it is; "" clears an optional one.
type userPatch struct {
	DisplayName      *string   `json:"displayName"`
	GivenName        *string   `json:"givenName"`
	Surname          *string   `json:"surname"`
	EmployeeID       *string   `json:"employeeId"`
	Department       *string   `json:"department"`
	EmployeeHireDate *string   `json:"employeeHireDate"`
	Mail             *string   `json:"mail"`
	OtherMails       *[]string `json:"otherMails"`
	AccountEnabled   *bool     `json:"accountEnabled"`
}

// changes returns the profile changes of p, with the hire date as the store keeps it.
func (p *userPatch) changes() (directory.UserChanges, error) {
	ch := directory.UserChanges{DisplayName: p.DisplayName, GivenName: p.GivenName, Surname: p.Surname,
		EmployeeID: p.EmployeeID, Department: p.Department, Mail: p.Mail}
	if p.EmployeeHireDate != nil {
		d, err := directory.HireDate(*p.EmployeeHireDate)
		if err != nil {
			return ch, err
		}
		ch.StartDate = &d
	}
	if p.OtherMails != nil {
		switch len(*p.OtherMails) {
		case 0:
			ch.PersonalMail = new(string)
		case 1:
			ch.PersonalMail = &(*p.OtherMails)[0]
		default:
			return ch, latchkey.Errorf(latchkey.EINVALID, "invalid_mail", "Give at most one other mail address.", "otherMails has %d addresses", len(*p.OtherMails))
		}
	}
	return ch, nil
}

// handleAPIPatchUser changes a user's profile and turns the account off or on
// (accountEnabled), and answers the user as `user show --json` prints them.
func (s *API) handleAPIPatchUser(w http.ResponseWriter, r *http.Request) {
	var p userPatch
	if err := httpedge.DecodeJSON(w, r, &p); err != nil {
		s.WriteError(w, r, err)
		return
	}
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	ch, err := p.changes()
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	ctx, ref := r.Context(), r.PathValue("id")
	// Turning off first: its refusals (yourself, the last global admin) leave the profile as it was.
	if p.AccountEnabled != nil && !*p.AccountEnabled {
		if _, err := s.dir.DisableUser(ctx, a, ref); err != nil {
			s.WriteError(w, r, err)
			return
		}
	}
	var u *latchkey.User
	if ch != (directory.UserChanges{}) {
		u, err = s.dir.UpdateUser(ctx, a, ref, ch)
	}
	if err == nil && p.AccountEnabled != nil && *p.AccountEnabled {
		u, err = s.dir.EnableUser(ctx, a, ref)
	}
	if err == nil && u == nil {
		u, err = s.dir.FindUser(ctx, a, ref)
	}
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	g, err := s.dir.Graph(ctx, u)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	httpedge.WriteJSON(w, http.StatusOK, g)
}

// handleAPIDeleteUser deletes a user for good and answers 204.
func (s *API) handleAPIDeleteUser(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	if _, err := s.dir.DeleteUser(r.Context(), a, r.PathValue("id")); err != nil {
		s.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
