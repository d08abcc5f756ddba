package web

import (
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// API tokens for automation, managed by global admins here as `latchkey token` does on the
// command line. The directory service decides who may (authz.ActionManageTokens).

// tokenLifetimes are the expiry choices the create form offers, in days ("never" for none).
var tokenLifetimes = []string{"30", "90", "365", "never"}

// scopeWords says in plain words what each scope lets a token do, for the create form.
var scopeWords = map[string]string{
	latchkey.ScopeUserReadAll:                      "read users",
	latchkey.ScopeUserReadWriteAll:                 "read, create, change and delete users",
	latchkey.ScopeGroupReadWriteAll:                "read and change groups",
	latchkey.ScopeUserAuthenticationMethodRWAll:    "see people's sign-in methods, issue and revoke passes, remove passkeys",
	latchkey.ScopePolicyReadAll:                    "read the methods policy and conditional access",
	latchkey.ScopePolicyReadWriteAuthMethod:        "change the authentication methods policy",
	latchkey.ScopePolicyReadWriteConditionalAccess: "change conditional access",
	latchkey.ScopeAuditLogReadAll:                  "read the sign-in, audit and provisioning logs",
	latchkey.ScopeReportsReadAll:                   "read reports",
}

// tokensView is what the tokens page shows besides the list.
type tokensView struct {
	refusal *httpedge.ErrorBody
	status  int
	// form is the create form's values to show again after a refusal.
	form map[string]any
	// created is the token just made with its secret, shown in this answer only.
	created map[string]any
	// confirm is the token whose revocation awaits confirmation.
	confirm *latchkey.APIToken
}

func (s *Web) handleAdminTokens(w http.ResponseWriter, r *http.Request) {
	s.adminTokens(w, r, tokensView{})
}

// adminTokens renders the tokens page.
func (s *Web) adminTokens(w http.ResponseWriter, r *http.Request, v tokensView) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	tokens, err := s.dir.ListTokens(r.Context(), a)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if id := r.URL.Query().Get("revoke"); id != "" && v.confirm == nil && v.created == nil {
		for _, t := range tokens {
			if t.ID == id && t.RevokedAt == nil {
				v.confirm = t
			}
		}
	}
	now := s.auth.Now()
	expired := map[string]bool{}
	for _, t := range tokens {
		expired[t.ID] = t.RevokedAt == nil && !t.Usable(now)
	}
	form := v.form
	if form == nil {
		form = map[string]any{"name": "", "scopes": map[string]bool{}, "expires": "90"}
	}
	s.Render(w, r, "admin-tokens", "API tokens", View{Error: v.refusal, Status: v.status,
		Data: map[string]any{"Tokens": tokens, "Scopes": latchkey.Scopes, "ScopeWords": scopeWords, "Lifetimes": tokenLifetimes, "Form": form,
			"Created": v.created, "Confirm": v.confirm, "Expired": expired}})
}

func (s *Web) handleAdminCreateToken(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	name, scopes, expires := r.PostFormValue("name"), r.PostForm["scopes"], r.PostFormValue("expires")
	err = CheckOffered(r, Offered{Field: "scopes", Values: latchkey.Scopes, Many: true},
		Offered{Field: "expires", Values: tokenLifetimes})
	var secret string
	var tok *latchkey.APIToken
	if err == nil {
		exp := directory.TokenExpiry{Never: expires == "never"}
		switch expires {
		case "30":
			exp.Lifetime = 30 * 24 * time.Hour
		case "365":
			exp.Lifetime = 365 * 24 * time.Hour
		}
		secret, tok, err = s.dir.CreateToken(r.Context(), a, name, scopes, exp)
	}
	if err != nil {
		status, body := s.PublicError(r, err)
		chosen := make(map[string]bool, len(scopes))
		for _, sc := range scopes {
			chosen[sc] = true
		}
		if expires == "" {
			expires = "90"
		}
		s.adminTokens(w, r, tokensView{refusal: &body, status: status,
			form: map[string]any{"name": name, "scopes": chosen, "expires": expires}})
		return
	}
	// The secret is shown in this answer only; it is never stored or logged.
	s.adminTokens(w, r, tokensView{status: http.StatusOK, created: map[string]any{"Token": tok, "Secret": secret}})
}

func (s *Web) handleAdminRevokeToken(w http.ResponseWriter, r *http.Request) {
	a, err := s.Actor(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	if err := s.dir.RevokeToken(r.Context(), a, r.PathValue("id")); err != nil {
		status, body := s.PublicError(r, err)
		s.adminTokens(w, r, tokensView{refusal: &body, status: status})
		return
	}
	http.Redirect(w, r, "/admin/tokens", http.StatusSeeOther)
}
