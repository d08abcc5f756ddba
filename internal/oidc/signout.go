package oidc

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// handleEndSession answers an application's RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0). With an id_token_hint naming the person signed in in this browser, it ends
// Latchkey's session here and the person's refresh tokens for that application, and returns to
// the application's registered post_logout_redirect_uri with its state. Without that proof it
// asks the person first (a form with a CSRF token); with a valid hint for someone else it ends
// that person's refresh tokens for the application and asks about this browser's session.
func (s *Browser) handleEndSession(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		s.pages.ErrorPage(w, r, latchkey.Errorf(latchkey.EMETHOD, "method_not_allowed", "This address does not take that kind of request.",
			"%s %s: this route takes GET and POST", r.Method, r.URL.Path))
		return
	}
	lo, err := s.oidc.Logout(r)
	if err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	if err := s.oidc.EndApplicationSession(r, lo.UserID, lo.ClientID); err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	r, err = s.Authenticate(r)
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.pages.ErrorPage(w, r, err)
		return
	}
	sess, _ := httpedge.CurrentUser(r)
	switch {
	case sess == nil: // nobody is signed in to Latchkey here
		s.afterSignOut(w, r, lo.RedirectURI, false)
	case lo.EndsSessionWithoutAsking(sess):
		if err := s.endBrowserSession(w, r); err != nil {
			s.pages.ErrorPage(w, r, err)
			return
		}
		s.afterSignOut(w, r, lo.RedirectURI, false)
	default:
		stay := lo.RedirectURI
		if stay == "" {
			stay = "/"
		}
		s.pages.Page(w, r, "end-session", "Sign out of Latchkey?", nil, map[string]any{"Logout": lo, "Stay": stay})
	}
}

// handleEndSessionConfirm signs the person out after they confirmed on the page
// handleEndSession showed: Latchkey's session in this browser, and their refresh tokens for the
// application, then back to the application's registered address, if it gave one.
func (s *Browser) handleEndSessionConfirm(w http.ResponseWriter, r *http.Request) {
	lo, err := s.oidc.Logout(r)
	if err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	r, err = s.Authenticate(r)
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.pages.ErrorPage(w, r, err)
		return
	}
	if sess, _ := httpedge.CurrentUser(r); sess != nil {
		if err := s.oidc.EndApplicationSession(r, sess.UserID, lo.ClientID); err != nil {
			s.pages.ErrorPage(w, r, err)
			return
		}
		if err := s.endBrowserSession(w, r); err != nil {
			s.pages.ErrorPage(w, r, err)
			return
		}
	}
	s.afterSignOut(w, r, lo.RedirectURI, true)
}

// endBrowserSession ends the session of the request's cookie and removes the cookie.
func (s *Browser) endBrowserSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(httpedge.SessionCookie); err == nil {
		if err := s.auth.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	httpedge.ClearSessionCookie(w)
	return nil
}

// afterSignOut sends the browser to the application's checked post-logout address, or to the
// signed-out page when there is none. After a form (fromForm), a page that moves on by itself
// does it, since browsers apply form-action 'self' to redirects that follow a form.
func (s *Browser) afterSignOut(w http.ResponseWriter, r *http.Request, to string, fromForm bool) {
	switch {
	case to == "":
		http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
	case fromForm:
		s.pages.Page(w, r, "continue", "Signed out", nil, map[string]any{"Next": to, "Heading": "You're signed out"})
	default:
		http.Redirect(w, r, to, http.StatusFound)
	}
}
