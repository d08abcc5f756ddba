package web

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// The legacy methods' pages (DESIGN §2): system-preferred sign-in ("Sign in another way"), the
// password and authenticator-code steps, the nudge to create a passkey after such a sign-in, and
// the password and authenticator app on My security info.

func init() {
	pageNames = append(pageNames, "signin-methods", "signin-password", "signin-totp", "nudge", "totp-setup")
}

// legacyRoutes adds the legacy methods' routes.
func (s *Web) legacyRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /signin/methods", s.handleSignInMethodsPage)
	m.HandleFunc("POST /signin/methods", s.form(s.handleSignInMethodsForm))
	m.HandleFunc("GET /signin/password", s.handlePasswordPage)
	m.HandleFunc("POST /signin/password", s.form(s.handlePasswordForm))
	m.HandleFunc("POST /signin/totp", s.form(s.handleTOTPForm))
	m.HandleFunc("GET /signin/nudge", s.page(s.handleNudgePage))
	m.HandleFunc("POST /signin/nudge/snooze", s.form(s.page(s.handleNudgeSnooze)))
	m.HandleFunc("POST /my/security-info/password", s.form(s.page(s.handleSetPasswordForm)))
	m.HandleFunc("POST /my/security-info/password/remove", s.form(s.page(s.handleRemovePasswordForm)))
	m.HandleFunc("POST /my/security-info/totp", s.form(s.page(s.handleTOTPSetupForm)))
	m.HandleFunc("POST /my/security-info/totp/confirm", s.form(s.page(s.handleTOTPConfirmForm)))
	m.HandleFunc("POST /my/security-info/totp/remove", s.form(s.page(s.handleTOTPRemoveForm)))
}

// withNext returns path with ?next= when next is a safe place to go after signing in.
func withNext(path, next string) string {
	if next = nextParam(next); next != "" {
		return path + "?next=" + url.QueryEscape(next)
	}
	return path
}

func (s *Web) handleSignInMethodsPage(w http.ResponseWriter, r *http.Request) {
	s.Render(w, r, "signin-methods", "Sign in another way", View{Data: map[string]any{
		"Next": nextParam(r.URL.Query().Get("next")), "Username": r.URL.Query().Get("username")}})
}

// signInOption is one way offered on the methods page.
type signInOption struct {
	Method, Label, Href string
	Prominent           bool
}

// handleSignInMethodsForm offers the person's ways to sign in in the system-preferred order
// (signin.PreferredMethods): straight to the pass page when they have an active pass, otherwise a
// list whose first entry is the prominent one.
func (s *Web) handleSignInMethodsForm(w http.ResponseWriter, r *http.Request) {
	username, next := r.PostFormValue("username"), nextParam(r.PostFormValue("next"))
	data := map[string]any{"Next": next, "Username": username}
	if username == "" || len(username) > 254 {
		status, body := s.PublicError(r, latchkey.Errorf(latchkey.EINVALID, "missing_field", "Enter your user name.", "username is required and at most 254 characters"))
		s.Render(w, r, "signin-methods", "Sign in another way", View{Error: &body, Status: status, Data: data})
		return
	}
	methods, err := s.auth.PreferredMethods(r.Context(), username)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	q := url.Values{"username": {username}}
	if next != "" {
		q.Set("next", next)
	}
	if methods[0] == latchkey.MethodTAP {
		http.Redirect(w, r, "/signin/tap?"+q.Encode(), http.StatusSeeOther)
		return
	}
	var options []signInOption
	for i, m := range methods {
		o := signInOption{Method: m, Prominent: i == 0}
		switch m {
		case latchkey.MethodPasskey:
			o.Label, o.Href = "Sign in with a passkey", withNext("/signin", next)
		case latchkey.MethodPassword:
			o.Label, o.Href = "Sign in with your password", "/signin/password?"+q.Encode()
		default:
			continue
		}
		options = append(options, o)
	}
	data["Options"] = options
	data["TAPHref"] = "/signin/tap?" + q.Encode()
	s.Render(w, r, "signin-methods", "Sign in another way", View{Data: data})
}

func (s *Web) handlePasswordPage(w http.ResponseWriter, r *http.Request) {
	s.Render(w, r, "signin-password", "Sign in with your password", View{Data: map[string]any{
		"Username": r.URL.Query().Get("username"), "Next": nextParam(r.URL.Query().Get("next"))}})
}

func (s *Web) handlePasswordForm(w http.ResponseWriter, r *http.Request) {
	username, next := r.PostFormValue("username"), nextParam(r.PostFormValue("next"))
	res, err := s.auth.SignInWithPassword(r.Context(), username, r.PostFormValue("password"), httpedge.ClientOf(r))
	if err != nil {
		status, body := s.PublicError(r, err)
		s.Render(w, r, "signin-password", "Sign in with your password", View{Error: &body, Status: status,
			Data: map[string]any{"Username": username, "Next": next}})
		return
	}
	if res.Done == nil {
		s.Render(w, r, "signin-totp", "Enter your code", View{Data: map[string]any{"Token": res.TOTPToken, "Next": next}})
		return
	}
	s.afterLegacySignIn(w, r, res.Done, next)
}

func (s *Web) handleTOTPForm(w http.ResponseWriter, r *http.Request) {
	token, next := r.PostFormValue("token"), nextParam(r.PostFormValue("next"))
	si, err := s.auth.SignInWithTOTP(r.Context(), token, r.PostFormValue("code"), httpedge.ClientOf(r))
	if err != nil {
		status, body := s.PublicError(r, err)
		if latchkey.ErrorCode(err) == "signin_expired" {
			s.Render(w, r, "signin-password", "Sign in with your password", View{Error: &body, Status: status,
				Data: map[string]any{"Next": next}})
			return
		}
		s.Render(w, r, "signin-totp", "Enter your code", View{Error: &body, Status: status,
			Data: map[string]any{"Token": token, "Next": next}})
		return
	}
	s.afterLegacySignIn(w, r, si, next)
}

// afterLegacySignIn sets the session cookie and goes on to next, through the nudge to create a
// passkey when the registration campaign offers one.
func (s *Web) afterLegacySignIn(w http.ResponseWriter, r *http.Request, si *signin.SignIn, next string) {
	httpedge.SetSessionCookie(w, si)
	nudge, err := s.auth.RegistrationNudge(r.Context(), si.Session, si.User)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if nudge != nil {
		http.Redirect(w, r, withNext("/signin/nudge", next), http.StatusSeeOther)
		return
	}
	s.continueOrOffer(w, r, si.Session, si.User, next)
}

func (s *Web) handleNudgePage(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	next := nextParam(r.URL.Query().Get("next"))
	nudge, err := s.auth.RegistrationNudge(r.Context(), sess, user)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if nudge == nil {
		s.continueTo(w, r, safeNext(next))
		return
	}
	s.Render(w, r, "nudge", "Create a passkey", View{Data: map[string]any{"Nudge": nudge, "Next": next,
		"Continue": safeNext(next)}})
}

func (s *Web) handleNudgeSnooze(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	next := nextParam(r.PostFormValue("next"))
	if err := s.auth.SnoozeRegistrationNudge(r.Context(), sess, user); err != nil {
		status, body := s.PublicError(r, err)
		nudge, nerr := s.auth.RegistrationNudge(r.Context(), sess, user)
		if nerr != nil || nudge == nil {
			s.errorPage(w, r, err)
			return
		}
		s.Render(w, r, "nudge", "Create a passkey", View{Error: &body, Status: status,
			Data: map[string]any{"Nudge": nudge, "Next": next, "Continue": safeNext(next)}})
		return
	}
	s.continueTo(w, r, safeNext(next))
}

// legacyInfo is what My security info shows of the password and the authenticator app.
type legacyInfo struct {
	PasswordEnabled, HasPassword bool
	PasswordSetAt                *time.Time
	MinimumLength                int
	TOTPEnabled, HasTOTP         bool
	TOTPPending                  bool
}

// legacySecurityInfo returns what My security info shows of the legacy methods, nil when neither
// is enabled for the person nor set up.
func (s *Web) legacySecurityInfo(r *http.Request, user *latchkey.User) (*legacyInfo, error) {
	ctx := r.Context()
	pol, err := s.auth.MethodsPolicy(ctx)
	if err != nil {
		return nil, err
	}
	groups, err := s.store.ListUserGroups(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	pu := policy.UserOf(user, ids)
	creds, err := s.store.FindLegacyCredentials(ctx, user.ID)
	if err != nil {
		return nil, err
	}
	li := &legacyInfo{HasPassword: creds.HasPassword(), PasswordSetAt: creds.PasswordSetAt, MinimumLength: pol.Password.MinimumLength,
		HasTOTP: creds.HasTOTP(), TOTPPending: creds.TOTPSecret != "" && !creds.TOTPConfirmed}
	li.PasswordEnabled, _ = policy.MethodEnabledForUser(pol, latchkey.MethodPassword, pu)
	li.TOTPEnabled, _ = policy.MethodEnabledForUser(pol, latchkey.MethodTOTP, pu)
	if !li.PasswordEnabled && !li.TOTPEnabled && !li.HasPassword && !li.HasTOTP {
		return nil, nil
	}
	return li, nil
}

// securityInfoRefused shows My security info with a refusal of one of its forms.
func (s *Web) securityInfoRefused(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.PublicError(r, err)
	s.securityInfo(w, r, &body, status)
}

func (s *Web) handleSetPasswordForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		s.securityInfoRefused(w, r, latchkey.Errorf(latchkey.EINVALID, "password_mismatch",
			"The two passwords are not the same. Type the new password twice, exactly the same way.", "password and confirm differ"))
		return
	}
	err := s.auth.CheckRegisterSecurityInfo(r.Context(), sess, user, httpedge.ClientOf(r))
	if err == nil {
		err = s.auth.SetPassword(r.Context(), sess, user, pw)
	}
	if err != nil {
		s.securityInfoRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/my/security-info?notice=password", http.StatusSeeOther)
}

func (s *Web) handleRemovePasswordForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	if err := s.auth.RemovePassword(r.Context(), sess, user); err != nil {
		s.securityInfoRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/my/security-info?notice=password-removed", http.StatusSeeOther)
}

func (s *Web) handleTOTPSetupForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	err := s.auth.CheckRegisterSecurityInfo(r.Context(), sess, user, httpedge.ClientOf(r))
	var e *signin.TOTPEnrollment
	if err == nil {
		e, err = s.auth.BeginTOTPEnrollment(r.Context(), sess, user)
	}
	if err != nil {
		s.securityInfoRefused(w, r, err)
		return
	}
	s.Render(w, r, "totp-setup", "Set up your authenticator app", View{Data: totpSetupData(e)})
}

// totpSetupData is what the setup page shows; the QR code is a data: URI of our own making.
func totpSetupData(e *signin.TOTPEnrollment) map[string]any {
	return map[string]any{"Enrollment": e, "QRCode": template.URL(e.QRCode)}
}

func (s *Web) handleTOTPConfirmForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	err := s.auth.ConfirmTOTPEnrollment(r.Context(), sess, user, r.PostFormValue("code"))
	if err == nil {
		http.Redirect(w, r, "/my/security-info?notice=totp", http.StatusSeeOther)
		return
	}
	e, perr := s.auth.PendingTOTPEnrollment(r.Context(), user)
	if perr != nil {
		s.securityInfoRefused(w, r, err)
		return
	}
	status, body := s.PublicError(r, err)
	s.Render(w, r, "totp-setup", "Set up your authenticator app", View{Error: &body, Status: status, Data: totpSetupData(e)})
}

func (s *Web) handleTOTPRemoveForm(w http.ResponseWriter, r *http.Request) {
	sess, user := httpedge.CurrentUser(r)
	if err := s.auth.RemoveTOTP(r.Context(), sess, user); err != nil {
		s.securityInfoRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/my/security-info?notice=totp-removed", http.StatusSeeOther)
}
