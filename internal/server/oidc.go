package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// OIDCProvider is the OpenID Connect provider the server mounts (internal/oidc.Provider).
type OIDCProvider interface {
	http.Handler
	// CompleteLogin finishes an authorization request for the session's person and returns
	// where to send the browser.
	CompleteLogin(ctx context.Context, authRequestID string, sess *latchkey.Session) (string, error)
}

// MountOIDC serves the provider at paths (its endpoints, relative to the issuer, which is the
// public URL) and GET /oidc/login, where the provider sends a person to sign in. Paths in
// crossOrigin take cross-origin POSTs from applications (the token endpoint above all) and are
// exempt from cross-origin protection. Call it before Handler.
func (s *Server) MountOIDC(p OIDCProvider, paths, crossOrigin []string) {
	for _, path := range paths {
		s.mux.Handle(path, p)
	}
	s.oidcBypass = append(s.oidcBypass, crossOrigin...)
	s.oidc = p
	s.mux.HandleFunc("GET /oidc/login", s.handleOIDCLogin)
}

// handleOIDCLogin completes the authorization request when the person is signed in, and sends
// them to sign in first, coming back here, when not.
func (s *Server) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if id == "" {
		s.errorPage(w, r, latchkey.Errorf(latchkey.EINVALID, "missing_auth_request",
			"This sign-in link is incomplete. Go back to the application and start again.", "no authRequestID"))
		return
	}
	r, err := s.authenticate(r)
	if latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		next := "/oidc/login?authRequestID=" + url.QueryEscape(id)
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	} else if err != nil {
		s.errorPage(w, r, err)
		return
	}
	sess, _ := currentUser(r)
	to, err := s.oidc.CompleteLogin(r.Context(), id, sess)
	// The application's acr_values are not met but a passkey the person has would meet them:
	// send them to sign in again, once. Coming back (stepup=1) with a session that still falls
	// short, they see the page that says which passkey would do.
	var su interface{ StepUpACR() string }
	if errors.As(err, &su) && su.StepUpACR() != "" && r.URL.Query().Get("stepup") == "" {
		next := "/oidc/login?authRequestID=" + url.QueryEscape(id) + "&stepup=1"
		http.Redirect(w, r, "/signin?stepup="+url.QueryEscape(su.StepUpACR())+"&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.errorPage(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "auth_request_expired",
			"This sign-in request has expired or was already used. Go back to the application and start again.", "auth request %s: %v", id, err))
		return
	} else if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// stepUpSentence is what the sign-in page says when an application sent the person back to
// sign in with a stronger passkey (acr is the value the application asked for).
func stepUpSentence(acr string) string {
	switch acr {
	case "":
		return ""
	case "phrh":
		return "This application asks for a security key or a passkey that stays on one device, approved by your organisation. Sign in with it below."
	default:
		return "This application asks for a stronger sign-in. Sign in with your passkey below."
	}
}
