package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

func (s *Web) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	s.adminUsers(w, r, nil, 0, nil)
}

func (s *Web) adminUsers(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, form map[string]string) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, "admin-users", "Users", view{Error: refusal, Status: status, Data: map[string]any{"Users": users, "Form": form}})
}

func (s *Web) handleAdminCreateUser(w http.ResponseWriter, r *http.Request) {
	u := &latchkey.User{
		UserPrincipalName: r.PostFormValue("upn"),
		DisplayName:       r.PostFormValue("displayName"),
		GivenName:         r.PostFormValue("givenName"),
		Surname:           r.PostFormValue("surname"),
		EmployeeID:        r.PostFormValue("employeeId"),
		UserType:          r.PostFormValue("userType"),
		Enabled:           true,
	}
	if r.PostFormValue("globalAdmin") == "yes" {
		u.Roles = []string{latchkey.RoleGlobalAdmin}
	}
	err := checkOffered(r, offered{field: "userType", values: []string{latchkey.UserTypeMember, latchkey.UserTypeGuest}}, offered{field: "globalAdmin", values: yes})
	if err == nil {
		err = s.dir.CreateUser(r.Context(), u)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUsers(w, r, &body, status, map[string]string{"upn": u.UserPrincipalName, "displayName": u.DisplayName,
			"givenName": u.GivenName, "surname": u.Surname, "employeeId": u.EmployeeID})
		return
	}
	http.Redirect(w, r, "/admin/users/"+u.ID, http.StatusSeeOther)
}

func (s *Web) handleAdminUser(w http.ResponseWriter, r *http.Request) {
	s.adminUser(w, r, nil, 0, "")
}

func (s *Web) adminUser(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int, newPass string) {
	u, err := s.dir.FindUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ctx := r.Context()
	pks, err := s.store.ListPasskeysByUser(ctx, u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	groups, err := s.store.ListUserGroups(ctx, u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	var tap map[string]any
	if ap, err := s.store.FindAccessPassByUser(ctx, u.ID); err == nil {
		tap = map[string]any{"Pass": ap, "State": ap.State(s.auth.Now()), "Expires": ap.ExpiresAt()}
	} else if !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.errorPage(w, r, err)
		return
	}
	signIns, err := s.store.ListSignIns(ctx, u.ID, 20)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	policy, err := s.auth.TAPPolicy(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	legacy, err := s.store.FindLegacyCredentials(ctx, u.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, "admin-user", u.DisplayName, view{Error: refusal, Status: status, Data: map[string]any{
		"Target": u, "Passkeys": pks, "Groups": groups, "TAP": tap, "NewPass": newPass, "SignIns": signIns, "Policy": policy,
		"Legacy": legacy,
	}})
}

func (s *Web) handleAdminIssueTAP(w http.ResponseWriter, r *http.Request) {
	u, err := s.dir.FindUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err := checkOffered(r, offered{field: "oneTime", values: yes}); err != nil {
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
	pass, _, err := s.dir.IssueAccessPassFor(r.Context(), httpedge.SignedInUser(r), u, o)
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	// The pass is shown in this answer only; it is never stored or logged.
	s.adminUser(w, r, nil, http.StatusOK, pass)
}
