package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// The person's page offers, to those whose roles allow, to remove one of their passkeys (a
// stolen phone), to revoke their pass, and to sign them out everywhere. Each link leads to a
// confirmation page that says what will happen; only its form acts.

func init() {
	pageNames = append(pageNames, "admin-method-confirm")
}

// methodRoutes registers the method removal and sign-out pages.
func (s *Web) methodRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /admin/users/{id}/passkeys/{passkeyId}/remove", s.ActorPage(s.handleConfirmRemovePasskey))
	m.HandleFunc("POST /admin/users/{id}/passkeys/{passkeyId}/remove", s.form(s.ActorPage(s.handleRemovePasskeyFor)))
	m.HandleFunc("GET /admin/users/{id}/tap/revoke", s.ActorPage(s.handleConfirmRevokeTAP))
	m.HandleFunc("POST /admin/users/{id}/tap/revoke", s.form(s.ActorPage(s.handleRevokeTAP)))
	m.HandleFunc("GET /admin/users/{id}/signout", s.ActorPage(s.handleConfirmSignOut))
	m.HandleFunc("POST /admin/users/{id}/signout", s.form(s.ActorPage(s.handleSignOutEverywhere)))
}

// methodDone are the notices the person's page shows after an action here (?done=).
var methodDone = map[string]string{
	"passkey-removed": "The passkey was removed. It can no longer sign in, and whoever was signed in with it has been signed out.",
	"tap-revoked":     "The Temporary Access Pass was revoked. It no longer works, and whoever was signed in with it has been signed out.",
	"signed-out":      "This person was signed out everywhere. They have to sign in again in every browser and application.",
}

// addMethodActions adds to the person's page data which of the actions here the viewer may take
// (MethodActions) and the notice of one just taken (MethodsDone).
func (s *Web) addMethodActions(ctx context.Context, r *http.Request, a latchkey.Actor, u *latchkey.User, data map[string]any) error {
	t, err := s.dir.UserTarget(ctx, u)
	if err != nil {
		return err
	}
	data["MethodActions"] = map[string]bool{
		"RemovePasskey": authz.Decide(a, authz.ActionRemovePasskey, t) == nil,
		"RevokeTAP":     authz.Decide(a, authz.ActionRevokeTAP, t) == nil,
		"SignOut":       authz.Decide(a, authz.ActionSignOutUser, t) == nil,
	}
	data["MethodsDone"] = methodDone[r.URL.Query().Get("done")]
	return nil
}

// confirmPage shows the confirmation of action on the person the path names, after checking
// that the viewer may see their methods.
func (s *Web) confirmPage(w http.ResponseWriter, r *http.Request, action string, fill func(data map[string]any, m methodsView) error) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	m, err := s.dir.UserMethods(r.Context(), a, r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	data := map[string]any{"Action": action, "Target": m.User, "Passkeys": m.Passkeys}
	if err := fill(data, methodsView{m.User, m.Passkeys, m.AccessPass}); err != nil {
		s.errorPage(w, r, err)
		return
	}
	titles := map[string]string{"passkey": "Remove a passkey", "tap": "Revoke a pass", "signout": "Sign out everywhere"}
	s.Render(w, r, "admin-method-confirm", titles[action], View{Data: data})
}

// methodsView is what a confirmation page needs of the person's methods.
type methodsView struct {
	user     *latchkey.User
	passkeys []*latchkey.Passkey
	pass     *latchkey.AccessPass
}

func (s *Web) handleConfirmRemovePasskey(w http.ResponseWriter, r *http.Request) {
	s.confirmPage(w, r, "passkey", func(data map[string]any, m methodsView) error {
		for _, p := range m.passkeys {
			if p.ID == r.PathValue("passkeyId") {
				data["Passkey"], data["Others"] = p, len(m.passkeys)-1
				return nil
			}
		}
		return latchkey.Errorf(latchkey.ENOTFOUND, "passkey_not_found", "That passkey no longer exists. Reload the page.",
			"user %s has no passkey with id %q", m.user.UserPrincipalName, r.PathValue("passkeyId"))
	})
}

func (s *Web) handleConfirmRevokeTAP(w http.ResponseWriter, r *http.Request) {
	s.confirmPage(w, r, "tap", func(data map[string]any, m methodsView) error {
		if m.pass == nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "tap_not_found", "This person has no such Temporary Access Pass. Reload the page.",
				"user %s has no pass", m.user.UserPrincipalName)
		}
		data["Pass"], data["PassState"] = m.pass, latchkey.TAPStateWords(m.pass.State(s.auth.Now()))
		return nil
	})
}

func (s *Web) handleConfirmSignOut(w http.ResponseWriter, r *http.Request) {
	s.confirmPage(w, r, "signout", func(map[string]any, methodsView) error { return nil })
}

// confirmed acts when the form's box is ticked, then sends the browser back to the person's page
// with the notice done.
func (s *Web) confirmed(w http.ResponseWriter, r *http.Request, done string, act func(a latchkey.Actor) error) {
	a, err := s.Actor(r)
	if err == nil {
		err = CheckOffered(r, Offered{Field: "confirm", Values: Yes})
	}
	if err == nil && r.PostFormValue("confirm") != "yes" {
		err = latchkey.Errorf(latchkey.EINVALID, "confirmation_required", "Tick the box to confirm.", "form field confirm is not yes")
	}
	if err == nil {
		err = act(a)
	}
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/users/"+url.PathEscape(r.PathValue("id"))+"?done="+done+"#methods", http.StatusSeeOther)
}

func (s *Web) handleRemovePasskeyFor(w http.ResponseWriter, r *http.Request) {
	s.confirmed(w, r, "passkey-removed", func(a latchkey.Actor) error {
		return s.dir.RemovePasskeyFor(r.Context(), a, r.PathValue("id"), r.PathValue("passkeyId"))
	})
}

func (s *Web) handleRevokeTAP(w http.ResponseWriter, r *http.Request) {
	s.confirmed(w, r, "tap-revoked", func(a latchkey.Actor) error {
		return s.dir.RevokeAccessPass(r.Context(), a, r.PathValue("id"))
	})
}

func (s *Web) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	s.confirmed(w, r, "signed-out", func(a latchkey.Actor) error {
		_, _, err := s.dir.SignOutEverywhere(r.Context(), a, r.PathValue("id"))
		return err
	})
}
