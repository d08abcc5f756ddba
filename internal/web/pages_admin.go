package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func (s *Web) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	s.adminUsers(w, r, nil, 0, nil)
}

func (s *Web) adminUsers(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	users, err := s.dir.ListUsers(r.Context(), a)
	show := r.URL.Query().Get("show")
	if err == nil {
		users, err = s.filterUsers(r, users, show)
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-users", "Users", View{Error: refusal, Status: status, Data: map[string]any{"Users": users, "Form": form,
		"Showing":   userFilters[show],
		"CanCreate": authz.Can(a, authz.ActionCreateUser), "CanAssignRoles": authz.Can(a, authz.ActionManageRoles)}})
}

func (s *Web) handleAdminCreateUser(w http.ResponseWriter, r *http.Request) {
	u := &latchkey.User{
		UserPrincipalName: r.PostFormValue("upn"),
		DisplayName:       r.PostFormValue("displayName"),
		GivenName:         r.PostFormValue("givenName"),
		Surname:           r.PostFormValue("surname"),
		EmployeeID:        r.PostFormValue("employeeId"),
		StartDate:         strings.TrimSpace(r.PostFormValue("startDate")),
		Mail:              strings.TrimSpace(r.PostFormValue("mail")),
		PersonalMail:      strings.TrimSpace(r.PostFormValue("personalMail")),
		UserType:          r.PostFormValue("userType"),
		Enabled:           true,
	}
	manager := strings.TrimSpace(r.PostFormValue("manager"))
	if r.PostFormValue("globalAdmin") == "yes" {
		u.Roles = []string{latchkey.RoleGlobalAdmin}
	}
	a, err := s.Actor(r)
	if err == nil {
		err = CheckOffered(r, Offered{Field: "userType", Values: []string{latchkey.UserTypeMember, latchkey.UserTypeGuest}}, Offered{Field: "globalAdmin", Values: Yes})
	}
	if err == nil && manager != "" {
		var m *latchkey.User
		if m, err = s.dir.FindUser(r.Context(), a, manager); err == nil {
			u.ManagerID = m.ID
		}
	}
	if err == nil {
		err = s.dir.CreateUser(r.Context(), a, u)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUsers(w, r, &body, status, map[string]string{"upn": u.UserPrincipalName, "displayName": u.DisplayName,
			"givenName": u.GivenName, "surname": u.Surname, "employeeId": u.EmployeeID, "startDate": u.StartDate,
			"mail": u.Mail, "personalMail": u.PersonalMail, "manager": manager})
		return
	}
	http.Redirect(w, r, "/admin/users/"+u.ID, http.StatusSeeOther)
}

func (s *Web) handleAdminUser(w http.ResponseWriter, r *http.Request) {
	s.adminUser(w, r, nil, 0, takeNewPass(w, r, r.PathValue("id")))
}

func (s *Web) adminUser(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, newPass string) {
	ctx := r.Context()
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	p, err := s.dir.UserProfile(ctx, a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	u := p.User
	data := map[string]any{"Target": u, "Profile": p, "Groups": p.Groups, "NewPass": newPass,
		"CanSetManager": authz.Can(a, authz.ActionUpdateUser), "CanManageRoles": authz.Can(a, authz.ActionManageRoles)}
	if newPass != "" {
		data["SignInAddress"] = s.signInAddress(u)
	}
	if data["Actions"], err = s.personActions(r, a, u); err != nil {
		s.errorPage(w, r, err)
		return
	}
	if authz.Can(a, authz.ActionManageGroups) {
		all, err := s.dir.ListGroups(ctx, a)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		// Offer only the groups the person is not in yet.
		in := make(map[string]bool, len(p.Groups))
		for _, g := range p.Groups {
			in[g.ID] = true
		}
		var others []*latchkey.Group
		for _, g := range all {
			if !in[g.ID] {
				others = append(others, g)
			}
		}
		data["AllGroups"] = others
	}
	// What the viewer may not see is left out, with the reason in plain words.
	if m, err := s.dir.UserMethods(ctx, a, u.ID); err == nil {
		data["Passkeys"], data["Legacy"] = m.Passkeys, m.Legacy
		if ap := m.AccessPass; ap != nil {
			data["TAP"] = map[string]any{"Pass": ap, "State": ap.State(s.auth.Now()), "Expires": ap.ExpiresAt()}
		}
	} else if refusal, ok := hidden(err); ok {
		data["MethodsHidden"] = refusal
	} else {
		s.errorPage(w, r, err)
		return
	}
	if t, err := s.dir.UserTarget(ctx, u); err != nil {
		s.errorPage(w, r, err)
		return
	} else if err := authz.Decide(a, authz.ActionIssueTAP, t); err == nil {
		policy, err := s.auth.TAPPolicy(ctx)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		data["Policy"] = policy
	} else if latchkey.ErrorCode(err) == authz.CodeApprovalRequired {
		data["NeedsApproval"] = true // m4: a helpdesk request instead
	}
	if st, err := s.dir.OnboardingState(ctx, a, u.ID); err != nil {
		s.errorPage(w, r, err)
		return
	} else if st.Stage != directory.OnboardingNone {
		data["Onboarding"] = st
	}
	if err := s.addMethodActions(ctx, r, a, u, data); err != nil {
		s.errorPage(w, r, err)
		return
	}
	if signIns, err := s.dir.UserSignIns(ctx, a, u, 20); err == nil {
		data["SignIns"], data["ShowSignIns"] = signIns, true
	} else if _, ok := hidden(err); !ok {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-user", u.DisplayName, View{Error: refusal, Status: status, Data: data})
}

// hidden reports whether err is a refusal, which a page shows as a part left out (with its
// plain sentence) rather than as an error page.
func hidden(err error) (string, bool) {
	var e *latchkey.Error
	if errors.As(err, &e) && e.Kind == latchkey.EFORBIDDEN {
		return e.Message, true
	}
	return "", false
}

func (s *Web) handleAdminIssueTAP(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	u, err := s.dir.FindUser(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err := CheckOffered(r, Offered{Field: "oneTime", Values: Yes}); err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	o := signin.IssueOptions{OneTime: r.PostFormValue("oneTime") == "yes"}
	if v := strings.TrimSpace(r.PostFormValue("lifetime")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			status, body := s.PublicError(r, latchkey.Errorf(latchkey.EINVALID, "invalid_lifetime", "Enter the lifetime as a whole number of minutes.", "lifetime %q is not a positive integer", v))
			s.adminUser(w, r, &body, status, "")
			return
		}
		o.LifetimeMinutes = n
	}
	if v := strings.TrimSpace(r.PostFormValue("start")); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, time.Local)
		if err != nil {
			status, body := s.PublicError(r, latchkey.Errorf(latchkey.EINVALID, "invalid_start", "Enter the start as a date and time.", "start %q is not YYYY-MM-DDTHH:MM", v))
			s.adminUser(w, r, &body, status, "")
			return
		}
		o.StartAt = t
	}
	pass, _, err := s.dir.IssueAccessPass(r.Context(), a, u.ID, o)
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	// The pass goes to the next GET of the page only (a reload issues nothing and shows nothing);
	// it is never stored or logged.
	setNewPass(w, u.ID, pass)
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(u.ID), http.StatusSeeOther)
}
