package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/recovery"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var pageNames = []string{"signin", "tap", "security-info", "admin-users", "admin-user", "admin-policy", "admin-inspect", "admin-apps", "admin-signins", "error", "continue",
	"admin-ca", "admin-ca-edit", "admin-strengths", "admin-locations", "admin-whatif", "end-session", "admin-tokens", "admin-none", "admin-home", "admin-audit", "confirm-delete",
	"admin-provisioning"}

var templateFuncs = template.FuncMap{
	"describe": (*latchkey.Passkey).Description,
	"platform": device.Name,
	"roleName": latchkey.RoleWords,
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "never"
			}
			return v.Local().Format("2 Jan 2006, 15:04")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "never"
			}
			return v.Local().Format("2 Jan 2006, 15:04")
		}
		return ""
	},
	"has":           func(set map[string]bool, key string) bool { return set[key] },
	"policyResults": func() []string { return httpedge.PolicyResults },
	"set": func(keys []string) map[string]bool {
		m := make(map[string]bool, len(keys))
		for _, k := range keys {
			m[k] = true
		}
		return m
	},
	"dict": func(pairs ...any) (map[string]any, error) {
		if len(pairs)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(pairs)/2)
		for i := 0; i < len(pairs); i += 2 {
			k, ok := pairs[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", pairs[i])
			}
			m[k] = pairs[i+1]
		}
		return m, nil
	},
	"join":         strings.Join,
	"readablePath": readablePath,
	"kindWords": func(kind string) string {
		if kind == latchkey.KindSynced {
			return "Synced"
		}
		return "On one device"
	},
}

func (s *Web) loadTemplates() error {
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// View is what every page template gets.
type View struct {
	Title   string
	CSRF    string
	Session *latchkey.Session
	User    *latchkey.User
	Data    map[string]any
	Error   *httpedge.ErrorBody
	Status  int
	// Admin are the admin pages the viewer may see (see adminNav); InAdmin reports whether the
	// page is one of them, which shows them as a second row of the navigation.
	Admin   []navLink
	InAdmin bool
	// Staff reports whether the viewer manages anyone (the "My staff" link).
	Staff bool
}

// Render writes page name with data; the CSRF token is always present for forms.
func (s *Web) Render(w http.ResponseWriter, r *http.Request, name, title string, v View) {
	v.Title = title
	var err error
	if v.CSRF, err = s.CSRFToken(w, r); err != nil {
		s.logger.Error("render page: form token", "page", name, "err", err)
		http.Error(w, "The page could not be shown. Reference: "+httpedge.CorrelationID(r), http.StatusInternalServerError)
		return
	}
	if v.User == nil {
		v.Session, v.User = httpedge.CurrentUser(r)
	}
	v.Admin = s.viewerNav(r, v.Session, v.User)
	v.Staff = s.hasReports(r, v.User)
	v.InAdmin = r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/admin/")
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.Error("render page", "page", name, "err", err)
		http.Error(w, "The page could not be shown. Reference: "+httpedge.CorrelationID(r), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	askForClientHints(w)
	httpedge.SetRetryAfter(w, v.Error)
	if v.Status != 0 {
		w.WriteHeader(v.Status)
	}
	_, _ = buf.WriteTo(w)
}

// errorPage shows a refusal as a plain sentence with the correlation id.
func (s *Web) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.PublicError(r, err)
	s.Render(w, r, "error", "Something needs your attention", View{Error: &body, Status: status})
}

// FormError re-renders a form page with the refusal shown above the form.
func (s *Web) FormError(r *http.Request, err error) *httpedge.ErrorBody {
	_, body := s.PublicError(r, err)
	return &body
}

func (s *Web) handleRoot(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Authenticate(r); err == nil {
		http.Redirect(w, r, "/my/security-info", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

func (s *Web) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	s.Render(w, r, "signin", "Sign in", View{Data: map[string]any{"Next": safeNext(r.URL.Query().Get("next")),
		"StepUp": s.stepUpSentence(r.Context(), r.URL.Query().Get("stepup"))}})
}

// safeNext keeps a post-sign-in redirect on this site: next when safeLocalTarget accepts it, the
// person's security info otherwise.
func safeNext(next string) string {
	if to, ok := safeLocalTarget(next); ok {
		return to
	}
	return "/my/security-info"
}

// continueTo sends the browser on to next after a sign-in form. Where next leads back to an
// application (the OpenID Connect login route, which redirects to the application's site), it
// answers with a page that moves on by itself: browsers apply the page's form-action 'self' to
// every redirect that follows a form submission, so a redirect chain from the form to the
// application would be blocked.
func (s *Web) continueTo(w http.ResponseWriter, r *http.Request, next string) {
	next = safeNext(next)
	if !strings.HasPrefix(next, "/oidc/") {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.Render(w, r, "continue", "Signed in", View{Data: map[string]any{"Next": next}})
}

// nextParam is next when it is a safe place on this site to go after signing in, and "" (the
// default place) otherwise.
func nextParam(next string) string {
	if to, ok := safeLocalTarget(next); ok {
		return to
	}
	return ""
}

func (s *Web) handleTAPPage(w http.ResponseWriter, r *http.Request) {
	s.Render(w, r, "tap", "Sign in with a temporary access pass", View{Data: map[string]any{"Username": r.URL.Query().Get("username"),
		"Next": nextParam(r.URL.Query().Get("next"))}})
}

func (s *Web) handleTAPForm(w http.ResponseWriter, r *http.Request) {
	username := r.PostFormValue("username")
	si, err := s.auth.SignInWithTAP(r.Context(), username, r.PostFormValue("tap"), httpedge.ClientOf(r))
	if err != nil {
		status, body := s.PublicError(r, err)
		s.Render(w, r, "tap", "Sign in with a temporary access pass", View{Error: &body, Status: status,
			Data: map[string]any{"Username": username, "Next": nextParam(r.PostFormValue("next"))}})
		return
	}
	httpedge.SetSessionCookie(w, si)
	s.continueOrOffer(w, r, si.Session, si.User, r.PostFormValue("next"))
}

func (s *Web) handleSignOutForm(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(httpedge.SessionCookie); err == nil {
		if err := s.auth.SignOut(r.Context(), c.Value); err != nil {
			s.errorPage(w, r, err)
			return
		}
	}
	httpedge.ClearSessionCookie(w)
	http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
}

func (s *Web) handleSecurityInfo(w http.ResponseWriter, r *http.Request) {
	s.securityInfo(w, r, nil, 0)
}

func (s *Web) securityInfo(w http.ResponseWriter, r *http.Request, refusal *httpedge.ErrorBody, status int) {
	sess, user := httpedge.CurrentUser(r)
	pks, err := s.store.ListPasskeysByUser(r.Context(), user.ID)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	legacy, err := s.legacySecurityInfo(r, user)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	wizard := sess.HasMethod(latchkey.MethodTAP) && len(pks) == 0
	var kiosk *recovery.KioskOffer
	if !wizard {
		kiosk = s.kioskOffer(r)
	}
	offer, err := s.offerHere(r, sess, user)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	pol, err := s.auth.MethodsPolicy(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	sp := pol.RegistrationCampaign.SecondPasskey
	s.Render(w, r, "security-info", "My security info", View{Error: refusal, Status: status, Data: map[string]any{
		"Kiosk":        kiosk,
		"OfferHere":    offer && len(pks) > 0,
		"SecondReason": sp.Reason(pks, s.auth.Now()),
		"UnusedDays":   sp.UnusedDays,
		"Legacy":       legacy,
		"Passkeys":     pks,
		"Wizard":       wizard,
		"TAPSession":   sess.HasMethod(latchkey.MethodTAP),
		"Notice":       r.URL.Query().Get("notice"),
	}})
}

func (s *Web) handleRenameForm(w http.ResponseWriter, r *http.Request) {
	_, user := httpedge.CurrentUser(r)
	if err := s.auth.RenamePasskey(r.Context(), user, r.PathValue("id"), r.PostFormValue("name")); err != nil {
		status, body := s.PublicError(r, err)
		s.securityInfo(w, r, &body, status)
		return
	}
	http.Redirect(w, r, "/my/security-info?notice=renamed", http.StatusSeeOther)
}

func (s *Web) handleRemoveForm(w http.ResponseWriter, r *http.Request) {
	_, user := httpedge.CurrentUser(r)
	confirm := r.PostFormValue("confirmLast") == "yes"
	err := CheckOffered(r, Offered{Field: "confirmLast", Values: Yes})
	if err == nil {
		err = s.auth.RemovePasskey(r.Context(), user, r.PathValue("id"), confirm)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		s.securityInfo(w, r, &body, status)
		return
	}
	http.Redirect(w, r, "/my/security-info?notice=removed", http.StatusSeeOther)
}

// askForClientHints adds Accept-CH to a page response.
func askForClientHints(w http.ResponseWriter) {
	w.Header().Set("Accept-CH", device.AcceptCH)
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
