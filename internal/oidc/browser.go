package oidc

import (
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

// Pages shows the pages the browser side of a sign-in needs; internal/web provides them.
type Pages interface {
	// Page renders the page name with data, with err's refusal shown when err is not nil.
	Page(w http.ResponseWriter, r *http.Request, name, title string, err error, data map[string]any)
	// ErrorPage shows a refusal as a page.
	ErrorPage(w http.ResponseWriter, r *http.Request, err error)
	// Form parses a form post and checks its CSRF token before h.
	Form(h http.HandlerFunc) http.HandlerFunc
}

// Browser is the browser side of an OpenID Connect sign-in: the page where the provider sends a
// person to sign in, conditional access for the application, the way back, the callback that
// releases a code to the browser that may have it, and RP-initiated logout.
type Browser struct {
	*httpedge.Base
	auth  *signin.Service
	store latchkey.Store
	oidc  *Provider
	pages Pages
}

// NewBrowser returns the browser side of p, showing its pages with pages.
func NewBrowser(base *httpedge.Base, p *Provider, pages Pages) *Browser {
	return &Browser{Base: base, auth: base.Auth, store: base.Auth.Store, oidc: p, pages: pages}
}

// Mount registers GET /oidc/login, where the provider sends a person to sign in, the way back
// to the application, the callback and logout (EndSessionPath) on m. The provider's own
// endpoints are the server's to mount.
func (s *Browser) Mount(m *http.ServeMux) {
	m.HandleFunc("GET /oidc/login", s.handleOIDCLogin)
	m.HandleFunc("GET /oidc/login/back", s.handleOIDCGiveUp)
	m.HandleFunc(oidcCallbackPath, s.handleOIDCCallback)
	m.HandleFunc(EndSessionPath, s.handleEndSession)
	m.HandleFunc("POST "+EndSessionPath+"/confirm", s.pages.Form(s.handleEndSessionConfirm))
}

// Paths of the provider's endpoints the server answers itself, because they need the browser's
// session: the callback that releases a code, and RP-initiated logout.
const (
	oidcCallbackPath = "/authorize/callback"
	EndSessionPath   = "/end_session"
)

// handleOIDCLogin completes the authorization request when the person is signed in, and sends
// them to sign in first, coming back here, when not. On the way it honours prompt=login,
// prompt=none and max_age, evaluates conditional access for the application (block, or step up
// to a strength, or let through), checks the application's acr_values, and records the outcome
// with every policy's result in the sign-in log.
func (s *Browser) handleOIDCLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if id == "" {
		s.pages.ErrorPage(w, r, latchkey.Errorf(latchkey.EINVALID, "missing_auth_request",
			"This sign-in link is incomplete. Go back to the application and start again.", "no authRequestID"))
		return
	}
	ctx := r.Context()
	req, err := s.authRequestOfThisBrowser(r, id)
	if err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	back := "/oidc/login?authRequestID=" + url.QueryEscape(id)
	r, err = s.Authenticate(r)
	signedIn := err == nil
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.pages.ErrorPage(w, r, err)
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
		s.pages.ErrorPage(w, r, err)
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
		s.pages.ErrorPage(w, r, access.Refusal)
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
		s.pages.ErrorPage(w, r, errAuthRequestExpired(id, err))
		return
	} else if su != nil {
		// The person cannot meet the application's acr_values: say so, and offer the way back.
		s.errorPageBack(w, r, err, req)
		return
	} else if err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// errorPageBack shows a refusal of req with a "Back to <application>" link, which returns the
// browser to the application with an error it can act on (handleOIDCGiveUp).
func (s *Browser) errorPageBack(w http.ResponseWriter, r *http.Request, err error, req *latchkey.AuthRequest) {
	name := "the application"
	if c, cerr := s.store.FindClient(r.Context(), req.ClientID); cerr == nil {
		name = c.Name
	}
	s.pages.Page(w, r, "error", "Something needs your attention", err, map[string]any{
		"Back": "/oidc/login/back?authRequestID=" + url.QueryEscape(req.ID), "BackTo": name})
}

// handleOIDCGiveUp sends the browser back to the application of an authorization request the
// person could not complete, with error=unmet_authentication_requirements and the request's
// state, at the application's registered redirect URI. Only the browser that started the
// request may do so.
func (s *Browser) handleOIDCGiveUp(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, err := s.authRequestOfThisBrowser(r, id)
	if err != nil {
		s.pages.ErrorPage(w, r, err)
		return
	}
	if err := s.oidc.GiveUp(w, r, req); err != nil {
		s.pages.ErrorPage(w, r, err)
	}
}

// handleOIDCCallback releases an authorization request's code through the provider to the
// browser that started the request and holds the session that completed it, and refuses
// everyone else (an attacker polling the callback with a request id) without using it up.
func (s *Browser) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	r, err := s.Authenticate(r)
	if err != nil && !latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
		s.pages.ErrorPage(w, r, err)
		return
	}
	sess, _ := httpedge.CurrentUser(r)
	if err := s.oidc.ReleaseCode(w, r, sess); latchkey.IsKind(err, latchkey.ENOTFOUND) {
		s.pages.ErrorPage(w, r, errAuthRequestExpired(r.Form.Get("id"), err))
	} else if err != nil {
		s.pages.ErrorPage(w, r, err)
	}
}

// authRequestOfThisBrowser returns the pending authorization request id when the browser of r
// started it. Only that browser may sign in for it or give it up: a link to it opened anywhere
// else would hand this person's code to whoever started it.
func (s *Browser) authRequestOfThisBrowser(r *http.Request, id string) (*latchkey.AuthRequest, error) {
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
