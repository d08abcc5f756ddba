package httpedge

import (
	"context"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// SessionCookie is the cookie holding a person's session token. It is Secure (browsers treat
// http://localhost as secure), HttpOnly and SameSite=Lax.
const SessionCookie = "latchkey_session"

const sessionKey ctxKey = 100

type signedIn struct {
	session *latchkey.Session
	user    *latchkey.User
}

// CurrentUser returns the session and person that Authenticate found for r, or nils.
func CurrentUser(r *http.Request) (*latchkey.Session, *latchkey.User) {
	if v, ok := r.Context().Value(sessionKey).(signedIn); ok {
		return v.session, v.user
	}
	return nil, nil
}

// authenticate returns the request's session, or an error when there is none.
func (s *Base) Authenticate(r *http.Request) (*http.Request, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "not_signed_in", "Please sign in first.", "no session cookie")
	}
	sess, user, err := s.Auth.Authenticate(r.Context(), c.Value)
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey, signedIn{sess, user})), nil
}

// PathIDNamesSomething refuses, as not found, a route's {id} that cannot name anything stored
// (not UTF-8, or with a NUL), before it reaches a store whose text columns could not hold it. A
// well-formed id that names nothing is the store's not found.
func PathIDNamesSomething(r *http.Request) error {
	if id := r.PathValue("id"); !latchkey.CanNameSomething(id) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is nothing at this address. Check the link.",
			"the path's id %q is not UTF-8 text without NUL, so it names nothing", id)
	}
	return nil
}

// SetSessionCookie gives the browser the session cookie of si.
func SetSessionCookie(w http.ResponseWriter, si *signin.SignIn) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: si.Token, Path: "/", Expires: si.Session.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the browser's session cookie.
func ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// APISession requires a person's session for an API route that only a person may use (their
// own passkeys, /me, WebAuthn registration): a request with an API token is refused with 403,
// one with another Authorization scheme with 401.
func (s *Base) APISession(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var err error
		if _, ok := r.Header["Authorization"]; ok {
			if _, err = s.tokenActor(r); err == nil {
				err = ErrTokenNotAllowed
			}
		} else {
			r, err = s.Authenticate(r)
		}
		if err == nil {
			err = PathIDNamesSomething(r)
		}
		if err != nil {
			s.WriteError(w, r, err)
			return
		}
		h(w, r)
	}
}

// ErrTokenNotAllowed refuses an API token on a route that only a signed-in person may use.
var ErrTokenNotAllowed = latchkey.Errorf(latchkey.EFORBIDDEN, "token_not_allowed",
	"An API token cannot do this: a person must sign in for it.", "this route acts on the signed-in person and takes no API token")

// APIActor requires an actor for an API route: an API token (Authorization: Bearer) or a
// person's session. What the actor may do is the services' decision, through authz.
func (s *Base) APIActor(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r, err := s.authenticateActor(r)
		if err == nil {
			err = PathIDNamesSomething(r)
		}
		if err != nil {
			s.WriteError(w, r, err)
			return
		}
		h(w, r)
	}
}

// authenticateActor returns r carrying its API token's actor when it has an Authorization
// header, and its session otherwise.
func (s *Base) authenticateActor(r *http.Request) (*http.Request, error) {
	if _, ok := r.Header["Authorization"]; !ok {
		return s.Authenticate(r)
	}
	a, err := s.tokenActor(r)
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), tokenKey, a)), nil
}

// tokenActor returns the actor of the request's Authorization: Bearer token; another scheme, or
// a token that does not work, is refused with EUNAUTHORIZED. The token is never logged.
func (s *Base) tokenActor(r *http.Request) (latchkey.Actor, error) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return latchkey.Actor{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "invalid_token",
			"This address takes an API token as Authorization: Bearer TOKEN, or a signed-in session.",
			"the Authorization header's scheme is not Bearer")
	}
	a, err := s.Auth.TokenActor(r.Context(), strings.TrimSpace(token))
	if err == nil {
		noteToken(r, a.TokenID)
	}
	return a, err
}

const tokenKey ctxKey = 101

// TokenRequest returns r carrying the actor of its Authorization: Bearer API token (see Actor),
// for routes that take an API token only (SCIM): a request without the header, with another
// scheme or with a token that does not work is refused with EUNAUTHORIZED, and a session cookie
// counts for nothing.
func (s *Base) TokenRequest(r *http.Request) (*http.Request, error) {
	if _, ok := r.Header["Authorization"]; !ok {
		return r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "invalid_token",
			"This address takes an API token as Authorization: Bearer TOKEN.", "the request has no Authorization header")
	}
	return s.authenticateActor(r)
}

// Actor returns who makes the request: its API token's actor, or the signed-in person with the
// roles the store holds for them now (a role assigned or removed takes effect at once).
// Services decide what the actor may do; handlers only pass it on. EUNAUTHORIZED when the
// request carries neither.
func (s *Base) Actor(r *http.Request) (latchkey.Actor, error) {
	if a, ok := r.Context().Value(tokenKey).(latchkey.Actor); ok {
		return a, nil
	}
	sess, u := CurrentUser(r)
	if u == nil {
		return latchkey.Actor{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "not_signed_in", "Please sign in first.", "the request carries no session")
	}
	return s.Auth.PersonActor(r.Context(), sess, u)
}

// SignedInUser returns the person whose session the request carries (see Authenticate), or nil.
func SignedInUser(r *http.Request) *latchkey.User {
	_, u := CurrentUser(r)
	return u
}
