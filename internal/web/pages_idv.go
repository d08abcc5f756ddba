package web

import (
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/recovery"
)

// Identity-verified recovery (issue 13, path 4): /recover/verify, where a person who lost their
// passkeys names their account and is sent to the identity verification provider, its callback,
// and /admin/recovery, where an admin sets the provider up. The service decides everything
// (internal/recovery, idv*.go); these handlers translate forms.

func init() {
	pageNames = append(pageNames, "recover-verify", "admin-recovery")
}

// idvRoutes registers the identity verification pages.
func (s *Web) idvRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /recover/verify", s.handleRecoverVerifyPage)
	m.HandleFunc("POST /recover/verify", s.form(s.handleRecoverVerifyForm))
	m.HandleFunc("GET "+idvCallbackPath, s.handleRecoverVerifyCallback)
	m.HandleFunc("GET /admin/recovery", s.ActorPage(s.handleAdminRecovery))
	m.HandleFunc("POST /admin/recovery", s.form(s.ActorPage(s.handleAdminRecoveryForm)))
}

// idvCallbackPath is where the provider sends the person back; admins register it there.
const idvCallbackPath = "/recover/verify/callback"

// idvRedirectURI returns Latchkey's callback at its public address: the OpenID issuer when one
// is mounted, else the address the request came to.
func (s *Web) idvRedirectURI(r *http.Request) string {
	if s.Issuer != "" {
		return strings.TrimSuffix(s.Issuer, "/") + idvCallbackPath
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + idvCallbackPath
}

// renderRecoverVerify shows the page: the form, a refusal, or (next set) the page that moves on
// to the provider by itself, since browsers apply form-action 'self' to a redirect that follows
// the form.
func (s *Web) renderRecoverVerify(w http.ResponseWriter, r *http.Request, username, next string, refusal *httpedge.ErrorBody, status int) {
	on, provider, err := s.recovery.IDVEnabled(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.Render(w, r, "recover-verify", "Verify your identity", View{Error: refusal, Status: status,
		Data: map[string]any{"Enabled": on, "Provider": provider, "Username": username, "Next": next}})
}

func (s *Web) handleRecoverVerifyPage(w http.ResponseWriter, r *http.Request) {
	s.renderRecoverVerify(w, r, r.URL.Query().Get("username"), "", nil, 0)
}

func (s *Web) handleRecoverVerifyForm(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostFormValue("username"))
	to, err := s.recovery.BeginIDV(r.Context(), username, httpedge.ClientOf(r), s.idvRedirectURI(r))
	if err != nil {
		status, body := s.PublicError(r, err)
		s.renderRecoverVerify(w, r, username, "", &body, status)
		return
	}
	s.renderRecoverVerify(w, r, username, to, nil, 0)
}

// handleRecoverVerifyCallback completes the verification; on a match the person is signed in
// with the recovery pass and sent to My Security Info, whose wizard registers a passkey.
func (s *Web) handleRecoverVerifyCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	si, err := s.recovery.CompleteIDV(r.Context(), recovery.IDVCallback{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error")},
		httpedge.ClientOf(r), s.idvRedirectURI(r))
	if err != nil {
		status, body := s.PublicError(r, err)
		s.renderRecoverVerify(w, r, "", "", &body, status)
		return
	}
	httpedge.SetSessionCookie(w, si)
	http.Redirect(w, r, "/my/security-info?notice=verified", http.StatusSeeOther)
}

// idvForm is the admin form's values.
type idvForm struct {
	Config    recovery.IDVConfig
	HasSecret bool
}

func (s *Web) adminRecovery(w http.ResponseWriter, r *http.Request, f *idvForm, notice string, refusal *httpedge.ErrorBody, status int) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	c, err := s.recovery.IDVConfig(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	pub, has := c.Public()
	if f == nil {
		f = &idvForm{Config: pub}
	}
	f.HasSecret = has // a refused save keeps the stored secret
	matched := map[string]bool{}
	for _, m := range f.Config.Match {
		matched[m] = true
	}
	s.Render(w, r, "admin-recovery", "Recovery", View{Error: refusal, Status: status, Data: map[string]any{
		"Form": f, "Attributes": idvAttributeWords, "Callback": s.idvRedirectURI(r), "Notice": notice, "Matched": matched,
		"TrustFrameworks": strings.Join(f.Config.TrustFrameworks, ", "), "AssuranceLevels": strings.Join(f.Config.AssuranceLevels, ", ")}})
}

// idvAttributeWords names the attributes that can be matched, in form order.
var idvAttributeWords = []struct{ Value, Words, Claim string }{
	{recovery.AttrGivenName, "Given name", "given_name"},
	{recovery.AttrFamilyName, "Family name (surname)", "family_name"},
	{recovery.AttrEmployeeNumber, "Employee number", "employee_number"},
}

func (s *Web) handleAdminRecovery(w http.ResponseWriter, r *http.Request) {
	s.adminRecovery(w, r, nil, r.URL.Query().Get("notice"), nil, 0)
}

func (s *Web) handleAdminRecoveryForm(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	c := recovery.IDVConfig{Enabled: r.PostFormValue("enabled") == "yes", Name: r.PostFormValue("name"),
		Issuer: r.PostFormValue("issuer"), ClientID: r.PostFormValue("clientId"), ClientSecret: r.PostFormValue("clientSecret"),
		Match: r.PostForm["match"], TrustFrameworks: []string{r.PostFormValue("trustFrameworks")},
		AssuranceLevels: []string{r.PostFormValue("assuranceLevels")}}
	err = CheckOffered(r, Offered{Field: "match", Values: recovery.IDVAttributes, Many: true}, Offered{Field: "enabled", Values: Yes})
	if err == nil {
		err = s.recovery.SetIDVConfig(r.Context(), a, c)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		c.ClientSecret = ""
		s.adminRecovery(w, r, &idvForm{Config: c}, "", &body, status)
		return
	}
	http.Redirect(w, r, "/admin/recovery?notice=saved", http.StatusSeeOther)
}
