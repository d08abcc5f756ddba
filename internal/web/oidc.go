package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// OIDCProvider is the OpenID Connect provider the server mounts (internal/oidc.Provider).
type OIDCProvider interface {
	http.Handler
	// AuthRequest returns a pending authorization request; ENOTFOUND once expired or used.
	AuthRequest(ctx context.Context, id string) (*latchkey.AuthRequest, error)
	// CheckBrowser returns nil when r comes from the browser that started req, and a refusal
	// otherwise.
	CheckBrowser(r *http.Request, req *latchkey.AuthRequest) error
	// ReleaseCode serves the provider's callback, which gives the browser the code, when r comes
	// from the browser that started the request holding sess, the session that completed it;
	// otherwise it returns a refusal and changes nothing.
	ReleaseCode(w http.ResponseWriter, r *http.Request, sess *latchkey.Session) error
	// GiveUp sends the browser back to the application with an error for a request the person
	// cannot complete (unmet_authentication_requirements when it asked for acr_values).
	GiveUp(w http.ResponseWriter, r *http.Request, req *latchkey.AuthRequest) error
	// Logout checks an application's RP-initiated logout request.
	Logout(r *http.Request) (*latchkey.LogoutRequest, error)
	// EndApplicationSession removes the person's refresh tokens for the application.
	EndApplicationSession(r *http.Request, userID, clientID string) error
	// CompleteLogin finishes an authorization request for the session's person, who signed in
	// as ac says (with passkey used, if any), and returns where to send the browser.
	CompleteLogin(ctx context.Context, authRequestID string, sess *latchkey.Session, ac policy.AuthenticationContext, used *latchkey.Passkey) (string, error)
	// LoginRequired sends the browser back to the application with error=login_required.
	LoginRequired(w http.ResponseWriter, r *http.Request, req *latchkey.AuthRequest)
}

// Paths of the provider's endpoints the server answers itself, because they need the browser's
// session: the callback that releases a code, and RP-initiated logout.
const (
	oidcCallbackPath = "/authorize/callback"
	EndSessionPath   = "/end_session"
)

// MountOIDC serves the pages of an OpenID Connect sign-in for the provider p: GET /oidc/login,
// where the provider sends a person to sign in, the way back to the application, the callback
// (through the provider only for the browser and session that may have its code) and logout
// (EndSessionPath), which ends the browser's session. Call it after Mount.
func (s *Web) MountOIDC(p OIDCProvider) {
	s.oidc = p
	s.mux.HandleFunc("GET /oidc/login", s.handleOIDCLogin)
	s.mux.HandleFunc("GET /oidc/login/back", s.handleOIDCGiveUp)
	s.mux.HandleFunc(oidcCallbackPath, s.handleOIDCCallback)
	s.mux.HandleFunc(EndSessionPath, s.handleEndSession)
	s.mux.HandleFunc("POST "+EndSessionPath+"/confirm", s.form(s.handleEndSessionConfirm))
}

// handleOIDCLogin completes the authorization request when the person is signed in, and sends
// them to sign in first, coming back here, when not. On the way it honours prompt=login,
// prompt=none and max_age, evaluates conditional access for the application (block, or step up
// to a strength, or let through), checks the application's acr_values, and records the outcome
// with every policy's result in the sign-in log.
func (s *Web) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if id == "" {
		s.errorPage(w, r, latchkey.Errorf(latchkey.EINVALID, "missing_auth_request",
			"This sign-in link is incomplete. Go back to the application and start again.", "no authRequestID"))
		return
	}
	ctx := r.Context()
	req, err := s.authRequestOfThisBrowser(r, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	back := "/oidc/login?authRequestID=" + url.QueryEscape(id)
	r, err = s.Authenticate(r)
	signedIn := err == nil
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.errorPage(w, r, err)
		return
	}
	sess, user := httpedge.CurrentUser(r)
	if !signedIn || needsFreshSignIn(req, sess, s.auth.Now()) {
		if slices.Contains(req.Prompt, "none") {
			s.oidc.LoginRequired(w, r, req)
			return
		}
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(back), http.StatusSeeOther)
		return
	}
	c := httpedge.ClientOf(r)
	access, err := s.auth.EvaluateAccess(ctx, sess, user, signin.Target{App: req.ClientID}, c)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	stepped := r.URL.Query().Get("stepup") != ""
	if access.Refusal != nil {
		s.auth.RecordAccess(ctx, access, access.Refusal, c)
		// A policy demands a strength this sign-in lacks, and a method the person has would meet
		// it: send them to sign in again, once.
		if access.Evaluation.Decision == policy.DecisionStepUp && access.StepUpPossible && !stepped {
			http.Redirect(w, r, "/signin?stepup="+url.QueryEscape(access.Evaluation.StepUpTo[0])+
				"&next="+url.QueryEscape(back+"&stepup=1"), http.StatusSeeOther)
			return
		}
		s.errorPage(w, r, access.Refusal)
		return
	}
	to, err := s.oidc.CompleteLogin(ctx, id, sess, access.Context, access.Passkey)
	s.auth.RecordAccess(ctx, access, err, c)
	// The application's acr_values are not met but a passkey the person has would meet them:
	// send them to sign in again, once. Coming back (stepup=1) with a session that still falls
	// short, they see the page that says which passkey would do.
	var su interface{ StepUpACR() string }
	if errors.As(err, &su) && su.StepUpACR() != "" && !stepped {
		http.Redirect(w, r, "/signin?stepup="+url.QueryEscape(su.StepUpACR())+"&next="+url.QueryEscape(back+"&stepup=1"), http.StatusSeeOther)
		return
	}
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.errorPage(w, r, errAuthRequestExpired(id, err))
		return
	} else if su != nil {
		// The person cannot meet the application's acr_values: say so, and offer the way back.
		s.errorPageBack(w, r, err, req)
		return
	} else if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// errorPageBack shows a refusal of req with a "Back to <application>" link, which returns the
// browser to the application with an error it can act on (handleOIDCGiveUp).
func (s *Web) errorPageBack(w http.ResponseWriter, r *http.Request, err error, req *latchkey.AuthRequest) {
	name := "the application"
	if c, cerr := s.store.FindClient(r.Context(), req.ClientID); cerr == nil {
		name = c.Name
	}
	status, body := s.PublicError(r, err)
	s.render(w, r, "error", "Something needs your attention", view{Error: &body, Status: status, Data: map[string]any{
		"Back": "/oidc/login/back?authRequestID=" + url.QueryEscape(req.ID), "BackTo": name}})
}

// handleOIDCGiveUp sends the browser back to the application of an authorization request the
// person could not complete, with error=unmet_authentication_requirements and the request's
// state, at the application's registered redirect URI. Only the browser that started the
// request may do so.
func (s *Web) handleOIDCGiveUp(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, err := s.authRequestOfThisBrowser(r, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err := s.oidc.GiveUp(w, r, req); err != nil {
		s.errorPage(w, r, err)
	}
}

// handleOIDCCallback releases an authorization request's code through the provider to the
// browser that started the request and holds the session that completed it, and refuses
// everyone else (an attacker polling the callback with a request id) without using it up.
func (s *Web) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	r, err := s.Authenticate(r)
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.errorPage(w, r, err)
		return
	}
	sess, _ := httpedge.CurrentUser(r)
	if err := s.oidc.ReleaseCode(w, r, sess); latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.errorPage(w, r, errAuthRequestExpired(r.Form.Get("id"), err))
	} else if err != nil {
		s.errorPage(w, r, err)
	}
}

// authRequestOfThisBrowser returns the pending authorization request id when the browser of r
// started it. Only that browser may sign in for it or give it up: a link to it opened anywhere
// else would hand this person's code to whoever started it.
func (s *Web) authRequestOfThisBrowser(r *http.Request, id string) (*latchkey.AuthRequest, error) {
	req, err := s.oidc.AuthRequest(r.Context(), id)
	if latchkey.IsKind(err, latchkey.ENOTFOUND) {
		return nil, errAuthRequestExpired(id, err)
	} else if err != nil {
		return nil, err
	}
	if err := s.oidc.CheckBrowser(r, req); err != nil {
		return nil, err
	}
	return req, nil
}

func errAuthRequestExpired(id string, err error) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "auth_request_expired",
		"This sign-in request has expired or was already used. Go back to the application and start again.", "auth request %s: %v", id, err)
}

// needsFreshSignIn reports whether the application asked for a sign-in newer than the session's:
// prompt=login, or max_age (seconds since the sign-in; zitadel turns prompt=login into max_age
// 0). A sign-in made after the request began always satisfies both.
func needsFreshSignIn(req *latchkey.AuthRequest, sess *latchkey.Session, now time.Time) bool {
	if !sess.AuthenticatedAt.Before(req.CreatedAt) {
		return false
	}
	if slices.Contains(req.Prompt, "login") {
		return true
	}
	return req.MaxAgeSeconds != nil && now.Sub(sess.AuthenticatedAt) > time.Duration(*req.MaxAgeSeconds)*time.Second
}

// stepUpSentence is what the sign-in page says when an application sent the person back to
// sign in with a stronger passkey (acr is the value the application asked for, or the strength a
// conditional access policy demands).
func (s *Web) stepUpSentence(ctx context.Context, acr string) string {
	if msg, ok := s.auth.StepUpMessage(ctx, acr); ok {
		return msg
	}
	switch acr {
	case "":
		return ""
	case "phrh":
		return "This application asks for a security key or a passkey that stays on one device, approved by your organisation. Sign in with it below."
	default:
		return "This application asks for a stronger sign-in. Sign in with your passkey below."
	}
}
