package server

import (
	"context"
	"errors"
	"mime"
	"net/http"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// Cookie names. Both cookies are Secure (browsers treat http://localhost as secure), HttpOnly
// and SameSite.
const (
	sessionCookie = "latchkey_session"
	csrfCookie    = "latchkey_csrf"
	csrfField     = "csrf"
)

const sessionKey ctxKey = 100

type signedIn struct {
	session *latchkey.Session
	user    *latchkey.User
}

func currentUser(r *http.Request) (*latchkey.Session, *latchkey.User) {
	if v, ok := r.Context().Value(sessionKey).(signedIn); ok {
		return v.session, v.user
	}
	return nil, nil
}

// authenticate returns the request's session, or an error when there is none.
func (s *Server) authenticate(r *http.Request) (*http.Request, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "not_signed_in", "Please sign in first.", "no session cookie")
	}
	sess, user, err := s.auth.Authenticate(r.Context(), c.Value)
	if err != nil {
		return r, err
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey, signedIn{sess, user})), nil
}

// apiSession requires a session for an API route.
func (s *Server) apiSession(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r, err := s.authenticate(r)
		if err == nil {
			err = pathIDNamesSomething(r)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r)
	}
}

// apiAdmin requires a global administrator's session for an API route.
func (s *Server) apiAdmin(h http.HandlerFunc) http.HandlerFunc {
	return s.apiSession(func(w http.ResponseWriter, r *http.Request) {
		if _, u := currentUser(r); !u.IsGlobalAdmin() {
			s.writeError(w, r, errNotAdmin(u))
			return
		}
		h(w, r)
	})
}

// pathIDNamesSomething refuses, as not found, a route's {id} that cannot name anything stored
// (not UTF-8, or with a NUL), before it reaches a store whose text columns could not hold it. A
// well-formed id that names nothing is the store's not found.
func pathIDNamesSomething(r *http.Request) error {
	if id := r.PathValue("id"); !latchkey.CanNameSomething(id) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "not_found", "There is nothing at this address. Check the link.",
			"the path's id %q is not UTF-8 text without NUL, so it names nothing", id)
	}
	return nil
}

func errNotAdmin(u *latchkey.User) error {
	return latchkey.Errorf(latchkey.EFORBIDDEN, "admin_required",
		"Only administrators can do this. Ask your IT admin if you need it.", "user %s does not hold the globalAdmin role", u.UserPrincipalName)
}

// page requires a session for a page, sending the person to sign in when there is none.
func (s *Server) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r, err := s.authenticate(r)
		if latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		if err == nil {
			err = pathIDNamesSomething(r)
		}
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		h(w, r)
	}
}

// adminPage requires a global administrator for a page.
func (s *Server) adminPage(h http.HandlerFunc) http.HandlerFunc {
	return s.page(func(w http.ResponseWriter, r *http.Request) {
		if _, u := currentUser(r); !u.IsGlobalAdmin() {
			s.errorPage(w, r, errNotAdmin(u))
			return
		}
		h(w, r)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, si *signin.SignIn) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: si.Token, Path: "/", Expires: si.Session.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// csrfBinding returns what the request's form token is bound to: its session cookie, when it
// has one, and its pre-session cookie otherwise; false when it has neither.
func csrfBinding(r *http.Request) (string, bool) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		return signin.SessionFormBinding(c.Value), true
	}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return signin.PreSessionFormBinding(c.Value), true
	}
	return "", false
}

// csrfToken returns the request's form token, setting the pre-session cookie it is bound to when
// the request has neither that nor a session. Forms carry the token in a hidden field: an HMAC of
// the session (or of the pre-session cookie) under a key all nodes share, checked by form on top
// of the cross-origin protection every state-changing request gets first.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	binding, ok := csrfBinding(r)
	if !ok {
		tok := signin.NewToken()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
		binding = signin.PreSessionFormBinding(tok)
	}
	return s.auth.FormToken(r.Context(), binding)
}

// form parses a form post and checks its CSRF token.
func (s *Server) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		parse := r.ParseForm
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			parse = func() error { return r.ParseMultipartForm(MaxBodyBytes) } // file uploads (inspect)
		}
		if err := parse(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.errorPage(w, r, latchkey.Errorf(latchkey.ETOOLARGE, "form_too_large",
					"What you sent is too large. Send something smaller, or paste only what is asked for.", "form body over %d bytes", MaxBodyBytes))
				return
			}
			s.errorPage(w, r, latchkey.Errorf(latchkey.EINVALID, "malformed_form", "The form could not be read. Go back and try again.", "parse form: %v", err))
			return
		}
		binding, bound := csrfBinding(r)
		got := r.PostFormValue(csrfField)
		ok := false
		if bound && got != "" {
			var err error
			if ok, err = s.auth.CheckFormToken(r.Context(), binding, got); err != nil {
				s.errorPage(w, r, err)
				return
			}
		}
		if !ok {
			detail := "CSRF token is not the one of this browser's session or pre-session cookie"
			switch {
			case !bound:
				detail = "no session or pre-session cookie to bind a CSRF token to"
			case got == "":
				detail = "CSRF token missing"
			}
			s.errorPage(w, r, latchkey.Errorf(latchkey.EFORBIDDEN, "csrf_failed",
				"This form has expired. Go back, reload the page and try again.", "%s", detail))
			return
		}
		h(w, r)
	}
}
