package server

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var tokenSecretRE = regexp.MustCompile(`lk_[A-Za-z0-9_-]{43}`)

// TestAdminTokensPage: a global admin creates a token on /admin/tokens and sees it once; the
// token works on the API; the list never shows it; revoking asks first, then the token is
// refused. A person with another role or none is refused the page and its forms with 403.
func TestAdminTokensPage(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	csrf := admin.formCSRF()

	r := admin.get("/admin/tokens")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "No API tokens yet") ||
		!strings.Contains(string(r.body), `value="90" checked`) {
		t.Fatalf("empty tokens page: %d %.400s", r.status, r.body)
	}
	r = admin.postFormWith("/admin/tokens", csrf, url.Values{"name": {"HR provisioning"},
		"scopes": {latchkey.ScopeUserReadWriteAll, latchkey.ScopeUserAuthenticationMethodRWAll}, "expires": {"30"}})
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %.500s", r.status, r.body)
	}
	secret := tokenSecretRE.FindString(string(r.body))
	if secret == "" || !strings.Contains(string(r.body), "shown only this once") {
		t.Fatalf("created page does not show the token once: %.2000s", r.body)
	}
	api := h.newClient()
	if r := api.bearer("POST", "/api/v1/users", "Bearer "+secret, `{"userPrincipalName":"made-by-token@example.com"}`); r.status != http.StatusCreated {
		t.Fatalf("the token from the page does not work: %d %s", r.status, r.body)
	}
	tokens, err := h.store.ListAPITokens(ctx)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("stored tokens: %v, %v", tokens, err)
	}
	tok := tokens[0]
	if tok.ExpiresAt == nil || tok.ExpiresAt.Sub(tok.CreatedAt).Hours() != 30*24 {
		t.Errorf("30-day token expires %v after creation", tok.ExpiresAt)
	}

	r = admin.get("/admin/tokens")
	if tokenSecretRE.Match(r.body) || !strings.Contains(string(r.body), "HR provisioning") {
		t.Fatalf("list after create: shows a secret or lacks the token: %.2000s", r.body)
	}

	// A scope the page does not offer, no scope, no name: refused, the form kept.
	r = admin.postFormWith("/admin/tokens", csrf, url.Values{"name": {"x"}, "scopes": {"Directory.ReadWrite.All"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid_choice") && !strings.Contains(string(r.body), "does not offer") {
		t.Errorf("unoffered scope: %d %.300s", r.status, r.body)
	}
	r = admin.postFormWith("/admin/tokens", csrf, url.Values{"name": {"kept name"}, "expires": {"never"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `value="kept name"`) || !strings.Contains(string(r.body), `value="never" checked`) {
		t.Errorf("no scope: %d %.300s", r.status, r.body)
	}

	// Revoking asks first.
	r = admin.get("/admin/tokens?revoke=" + tok.ID)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `id="revoke-confirm"`) || !strings.Contains(string(r.body), "/admin/tokens/"+tok.ID+"/revoke") {
		t.Fatalf("revoke confirmation: %d %.1500s", r.status, r.body)
	}
	if r := api.bearer("GET", "/api/v1/users", "Bearer "+secret, ""); r.status != http.StatusOK {
		t.Fatalf("asking to revoke revoked already: %d", r.status)
	}
	if r = admin.postFormWith("/admin/tokens/"+tok.ID+"/revoke", csrf, nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %.300s", r.status, r.body)
	}
	wantRefusal(t, "token revoked on the page", api.bearer("GET", "/api/v1/users", "Bearer "+secret, ""), http.StatusUnauthorized, "invalid_token")
	if r = admin.get("/admin/tokens"); !strings.Contains(string(r.body), "revoked") {
		t.Errorf("list does not show the revocation: %.1500s", r.body)
	}

	// Other people are refused by the service's decision.
	helpdesk, hu := h.signedInClient("helpdesk@example.com", false)
	if err := h.store.AssignRole(ctx, &latchkey.RoleAssignment{UserID: hu.ID, Role: latchkey.RoleAuthenticationAdmin}); err != nil {
		t.Fatal(err)
	}
	member, _ := h.signedInClient("member@example.com", false)
	for _, c := range []*client{helpdesk, member} {
		if r := c.get("/admin/tokens"); r.status != http.StatusForbidden {
			t.Errorf("tokens page for a non-admin: %d", r.status)
		}
		r := c.postFormWith("/admin/tokens", c.formCSRF(), url.Values{"name": {"sneaky"}, "scopes": {latchkey.ScopeUserReadAll}, "expires": {"90"}})
		if r.status != http.StatusForbidden || tokenSecretRE.Match(r.body) {
			t.Errorf("create by a non-admin: %d", r.status)
		}
	}
	if tokens, _ := h.store.ListAPITokens(ctx); len(tokens) != 1 {
		t.Errorf("%d tokens after refused creations, want 1", len(tokens))
	}
}
