package web

import (
	"errors"
	"mime"
	"net/http"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// The pre-session cookie that a form token is bound to before sign-in (Secure, HttpOnly,
// SameSite=Strict), and the form field that carries the token.
const (
	CSRFCookie = "latchkey_csrf"
	CSRFField  = "csrf"
)

// page requires a session for a page, sending the person to sign in when there is none.
func (s *Web) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r, err := s.Authenticate(r)
		if latchkey.IsKind(err, latchkey.EUNAUTHORIZED) {
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		if err == nil {
			err = httpedge.PathIDNamesSomething(r)
		}
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		h(w, r)
	}
}

// ActorPage requires a signed-in person for an admin page; what they may see and do there is
// the services' decision, through authz (a refusal is the error page).
func (s *Web) ActorPage(h http.HandlerFunc) http.HandlerFunc {
	return s.page(h)
}

// csrfBinding returns what the request's form token is bound to: its session cookie, when it
// has one, and its pre-session cookie otherwise; false when it has neither.
func csrfBinding(r *http.Request) (string, bool) {
	if c, err := r.Cookie(httpedge.SessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		return signin.SessionFormBinding(c.Value), true
	}
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return signin.PreSessionFormBinding(c.Value), true
	}
	return "", false
}

// CSRFToken returns the request's form token, setting the pre-session cookie it is bound to when
// the request has neither that nor a session. Forms carry the token in a hidden field: an HMAC of
// the session (or of the pre-session cookie) under a key all nodes share, checked by form on top
// of the cross-origin protection every state-changing request gets first.
func (s *Web) CSRFToken(w http.ResponseWriter, r *http.Request) (string, error) {
	binding, ok := csrfBinding(r)
	if !ok {
		tok := signin.NewToken()
		http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: tok, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: tok})
		binding = signin.PreSessionFormBinding(tok)
	}
	return s.auth.FormToken(r.Context(), binding)
}

// form parses a form post and checks its CSRF token.
func (s *Web) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, httpedge.MaxBodyBytes)
		parse := r.ParseForm
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			parse = func() error { return r.ParseMultipartForm(httpedge.MaxBodyBytes) } // file uploads (inspect)
		}
		if err := parse(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.errorPage(w, r, latchkey.Errorf(latchkey.ETOOLARGE, "form_too_large",
					"What you sent is too large. Send something smaller, or paste only what is asked for.", "form body over %d bytes", httpedge.MaxBodyBytes))
				return
			}
			s.errorPage(w, r, latchkey.Errorf(latchkey.EINVALID, "malformed_form", "The form could not be read. Go back and try again.", "parse form: %v", err))
			return
		}
		binding, bound := csrfBinding(r)
		got := r.PostFormValue(CSRFField)
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

// PageActor returns who makes a request to the policy pages; false when it has shown the error
// of resolving them (whether they may see or change a policy is the policy service's decision).
func (s *Web) PageActor(w http.ResponseWriter, r *http.Request) (latchkey.Actor, bool) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return a, false
	}
	return a, true
}
