package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
)

func init() {
	pageNames = append(pageNames, "admin-user-confirm")
	templateFuncs["tapWords"] = latchkey.TAPStateWords
}

// newPassCookie carries a pass just issued from the POST that issued it to the one GET that
// shows it, so that reloading the page neither issues another pass nor shows this one again.
const newPassCookie = "latchkey_new_pass"

// lifecycleRoutes registers the person's page actions: editing, turning off and on, deleting,
// and group membership.
func (s *Web) lifecycleRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /admin/users/{id}/profile", s.form(s.ActorPage(s.handleAdminEditUser)))
	m.HandleFunc("GET /admin/users/{id}/confirm", s.ActorPage(s.handleAdminUserConfirm))
	m.HandleFunc("POST /admin/users/{id}/disable", s.form(s.ActorPage(s.handleAdminUserAccount)))
	m.HandleFunc("POST /admin/users/{id}/enable", s.form(s.ActorPage(s.handleAdminUserAccount)))
	m.HandleFunc("POST /admin/users/{id}/delete", s.form(s.ActorPage(s.handleAdminUserAccount)))
	m.HandleFunc("POST /admin/users/{id}/groups", s.form(s.ActorPage(s.handleAdminUserGroup)))
	m.HandleFunc("POST /admin/users/{id}/groups/remove", s.form(s.ActorPage(s.handleAdminUserGroup)))
	s.groupRoutes(m)
}

// optional returns the form field name as a change: nil when the form has no such field.
func optional(r *http.Request, name string) *string {
	if _, ok := r.PostForm[name]; !ok {
		return nil
	}
	v := strings.TrimSpace(r.PostFormValue(name))
	return &v
}

func (s *Web) handleAdminEditUser(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ch := directory.UserChanges{DisplayName: optional(r, "displayName"), GivenName: optional(r, "givenName"),
		Surname: optional(r, "surname"), EmployeeID: optional(r, "employeeId"), Department: optional(r, "department"),
		StartDate: optional(r, "startDate"), Mail: optional(r, "mail"), PersonalMail: optional(r, "personalMail")}
	if _, err := s.dir.UpdateUser(r.Context(), a, r.PathValue("id"), ch); err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

// accountActions are what the confirmation page asks before, in the words it uses.
var accountActions = map[string]struct{ title, says, button string }{
	"disable": {"Turn off this account",
		"Every session and sign-in of this person ends now, on every server, and their temporary access pass is revoked. Every sign-in is refused until the account is turned on again. Their passkeys, groups and roles stay.",
		"Turn off account"},
	"delete": {"Delete this person",
		"This is final. Their passkeys, temporary access pass, sessions, group and unit memberships and roles are removed; the people they manage will have no manager. Sign-in records keep their old name. A new person with the same name would be someone else.",
		"Delete person"},
}

// handleAdminUserConfirm asks before an account is turned off or deleted and says what will
// happen; only the form on this page does it.
func (s *Web) handleAdminUserConfirm(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	action := r.URL.Query().Get("action")
	words, ok := accountActions[action]
	if !ok {
		s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is no such action on a person.", "confirm action %q", action))
		return
	}
	u, err := s.dir.FindUser(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "admin-user-confirm", words.title, View{Data: map[string]any{"Target": u, "Action": action,
		"Title": words.title, "Says": words.says, "Button": words.button}})
}

// handleAdminUserAccount turns an account off (confirmed) or on, or deletes it (confirmed).
func (s *Web) handleAdminUserAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ctx, ref := r.Context(), r.PathValue("id")
	action := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	if _, confirm := accountActions[action]; confirm {
		err = CheckOffered(r, Offered{Field: "confirm", Values: Yes})
		if err == nil && r.PostFormValue("confirm") != "yes" {
			err = latchkey.Errorf(latchkey.EINVALID, "confirmation_required", "Tick the box to confirm.", "form field confirm is not yes")
		}
	}
	next := "/admin/users/" + url.PathEscape(ref)
	if err == nil {
		switch action {
		case "disable":
			_, err = s.dir.DisableUser(ctx, a, ref)
		case "enable":
			_, err = s.dir.EnableUser(ctx, a, ref)
		default:
			_, err = s.dir.DeleteUser(ctx, a, ref)
			next = "/admin/users"
		}
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleAdminUserGroup adds the person to a group or takes them out of one (confirmed).
func (s *Web) handleAdminUserGroup(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ctx := r.Context()
	u, err := s.dir.FindUser(ctx, a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	g, err := s.dir.FindGroup(ctx, a, r.PostFormValue("group"))
	if err == nil {
		if strings.HasSuffix(r.URL.Path, "/remove") {
			if err = confirmed(r); err != nil {
				s.errorPage(w, r, err)
				return
			}
			err = s.dir.RemoveGroupMember(ctx, a, g.ID, u.ID)
		} else {
			_, err = s.dir.AddGroupMember(ctx, a, g.ID, u.ID)
		}
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.adminUser(w, r, &body, status, "")
		return
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(u.ID), http.StatusSeeOther)
}

// personActions are what the person's page offers the viewer over u, from authz's rules.
func (s *Web) personActions(r *http.Request, a latchkey.Actor, u *latchkey.User) (map[string]bool, error) {
	t, err := s.dir.UserTarget(r.Context(), u)
	if err != nil {
		return nil, err
	}
	self := a.Kind == latchkey.ActorPerson && a.UserID == u.ID
	return map[string]bool{
		"Edit":    authz.Decide(a, authz.ActionUpdateUser, t) == nil,
		"Disable": !self && authz.Decide(a, authz.ActionDisableUser, t) == nil,
		"Delete":  !self && authz.Decide(a, authz.ActionDeleteUser, t) == nil,
		"Groups":  authz.Can(a, authz.ActionManageGroups),
	}, nil
}

// signInAddress is the address to give a person with a new pass: the pass page with their
// user name filled in.
func (s *Web) signInAddress(u *latchkey.User) string {
	base := ""
	if wa := s.auth.WebAuthn; wa != nil && len(wa.Config.RPOrigins) > 0 {
		base = wa.Config.RPOrigins[0]
	}
	return base + "/signin/tap?username=" + url.QueryEscape(u.UserPrincipalName)
}

// setNewPass keeps pass for the next GET of the person's page only.
func setNewPass(w http.ResponseWriter, userID, pass string) {
	http.SetCookie(w, &http.Cookie{Name: newPassCookie, Value: pass, Path: "/admin/users/" + url.PathEscape(userID),
		MaxAge: 120, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// takeNewPass returns the pass just issued for the person's page, once: the cookie is cleared
// in the same answer.
func takeNewPass(w http.ResponseWriter, r *http.Request, userID string) string {
	c, err := r.Cookie(newPassCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: newPassCookie, Value: "", Path: "/admin/users/" + url.PathEscape(userID),
		MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	return c.Value
}
