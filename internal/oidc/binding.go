package oidc

import (
	"context"
	"crypto/subtle"
	"net/http"
	"path"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// BrowserCookie holds a random value that binds authorization requests to the browser that
// started them: /authorize sets it when the browser has none, the request keeps its hash, and
// only a browser presenting it may sign in for the request and receive its code. One value
// serves every request of the browser, so that two applications may sign in at once in one
// browser. The __Host- prefix makes browsers refuse it unless it is Secure, host-only and for
// Path=/ (Chromium accepts it on http://localhost too). SameSite=Lax: it must come along on
// the application's top-level navigation to /authorize and the redirects that follow.
const BrowserCookie = "__Host-latchkey_browser"

// browserCookieLifetime is how long a browser keeps its binding; Chromium caps cookies at 400
// days. A long life means a browser gets its value once, so requests started in several tabs
// at once rarely race to set it.
const browserCookieLifetime = 400 * 24 * time.Hour

// Paths of the provider's endpoints that the binding guards, relative to the issuer.
const (
	authorizePath = "/authorize"
	// CallbackPath is where a completed authorization request releases its code.
	CallbackPath = "/authorize/callback"
)

// Error codes of a refused authorization request that another browser, or another session, tries
// to use.
const (
	// CodeOtherBrowser: the request was started in another browser (or the binding cookie is gone).
	CodeOtherBrowser = "auth_request_other_browser"
	// CodeNotSignedInHere: the request was not completed by the session this browser holds.
	CodeNotSignedInHere = "auth_request_not_signed_in_here"
)

type ctxKey int

const (
	browserHashKey ctxKey = iota + 1 // the hash of the binding cookie of the browser at /authorize
	releasedKey                      // the authorization request id ReleaseCode let through
)

// bindBrowser returns r with the hash of the browser's binding in its context, for
// CreateAuthRequest, setting the binding cookie first when the browser has none.
func bindBrowser(w http.ResponseWriter, r *http.Request) *http.Request {
	value := browserCookieValue(r)
	if value == "" {
		value = NewSecret()
		http.SetCookie(w, &http.Cookie{Name: BrowserCookie, Value: value, Path: "/", MaxAge: int(browserCookieLifetime / time.Second),
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	return r.WithContext(context.WithValue(r.Context(), browserHashKey, Hash(value)))
}

// browserCookieValue returns the request's binding cookie, or "" when it has none that
// NewSecret could have made (43 characters).
func browserCookieValue(r *http.Request) string {
	c, err := r.Cookie(BrowserCookie)
	if err != nil || len(c.Value) != 43 {
		return ""
	}
	return c.Value
}

// browserHashFrom returns the binding hash bindBrowser put in ctx, or "".
func browserHashFrom(ctx context.Context) string {
	h, _ := ctx.Value(browserHashKey).(string)
	return h
}

// CheckBrowser returns nil when r comes from the browser that started req, and a refusal
// (EFORBIDDEN, CodeOtherBrowser) otherwise: a sign-in link that someone else started must not
// be completed here, or their copy of the request would receive this person's code.
func (p *Provider) CheckBrowser(r *http.Request, req *latchkey.AuthRequest) error {
	value := browserCookieValue(r)
	why := ""
	switch {
	case req.BrowserHash == "":
		why = "the request has no browser binding"
	case value == "":
		why = "this browser presents no binding cookie (" + BrowserCookie + ")"
	case subtle.ConstantTimeCompare([]byte(Hash(value)), []byte(req.BrowserHash)) != 1:
		why = "this browser's binding cookie is not the one of the browser that started it"
	default:
		return nil
	}
	return latchkey.Errorf(latchkey.EFORBIDDEN, CodeOtherBrowser,
		"This sign-in was started in another browser or window that is not this one. Go back to the application and start again.",
		"authorization request %s of application %s: %s", req.ID, req.ClientID, why)
}

// ReleaseCode serves the provider's callback (CallbackPath?id=...), which sends the browser to
// the application with the code, only to the browser that started the request (CheckBrowser)
// holding sess, the session that signed in for it. Anything else is refused with an error and
// changes nothing, so the request stays usable by the browser it belongs to.
func (p *Provider) ReleaseCode(w http.ResponseWriter, r *http.Request, sess *latchkey.Session) error {
	if err := r.ParseForm(); err != nil {
		return latchkey.Errorf(latchkey.EINVALID, "malformed_callback", "This sign-in link is damaged. Go back to the application and start again.",
			"parse callback form: %v", err)
	}
	id := r.Form.Get("id") // what op.ParseAuthorizeCallbackRequest reads
	if id == "" {
		return latchkey.Errorf(latchkey.EINVALID, "missing_auth_request",
			"This sign-in link is incomplete. Go back to the application and start again.", "callback without id")
	}
	req, err := p.store.FindAuthRequest(r.Context(), id, time.Now())
	if err != nil {
		return err
	}
	if err := p.CheckBrowser(r, req); err != nil {
		return err
	}
	why := ""
	switch {
	case !req.Done || req.SessionID == "":
		why = "nobody has signed in for it yet"
	case sess == nil:
		why = "this browser holds no session"
	case subtle.ConstantTimeCompare([]byte(sess.ID), []byte(req.SessionID)) != 1:
		why = "it was completed by another session than the one this browser holds"
	}
	if why != "" {
		return latchkey.Errorf(latchkey.EFORBIDDEN, CodeNotSignedInHere,
			"This sign-in was not finished in this browser. Go back to the application and start again.",
			"authorization request %s of application %s: %s", req.ID, req.ClientID, why)
	}
	p.op.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), releasedKey, id)))
	return nil
}

// ServeHTTP serves the provider's endpoints. /authorize binds each request to the browser; the
// callback answers only through ReleaseCode.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path.Clean(r.URL.Path) {
	case authorizePath:
		r = bindBrowser(w, r)
	case CallbackPath:
		if id, _ := r.Context().Value(releasedKey).(string); id == "" {
			http.Error(w, "This sign-in was not finished in this browser. Go back to the application and start again.", http.StatusForbidden)
			return
		}
	}
	p.op.ServeHTTP(w, r)
}
