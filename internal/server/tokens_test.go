package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// newTokenHarness is a server on SQLite that keeps every log record, for the API token tests.
func newTokenHarness(t *testing.T) (*harness, *fullLog) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newOutageHarness(t, store)
}

// createToken creates an API token with scopes as the server's CLI does and returns its secret.
func (h *harness) createToken(name string, exp directory.TokenExpiry, scopes ...string) (string, *latchkey.APIToken) {
	h.t.Helper()
	secret, tok, err := h.srv.dir.CreateToken(context.Background(), latchkey.CLIActor, name, scopes, exp)
	if err != nil {
		h.t.Fatalf("create token %s: %v", name, err)
	}
	return secret, tok
}

// bearer sends a request with Authorization: value and a JSON body (nil for none), with no
// Origin header, as automation such as curl does.
func (c *client) bearer(method, path, authorization string, body string) *response {
	c.h.t.Helper()
	ct := ""
	var rd *strings.Reader
	if body != "" {
		ct = "application/json"
	}
	rd = strings.NewReader(body)
	return c.do(method, path, ct, rd, "Authorization", authorization, "Origin", "")
}

// wantRefusal fails the test unless r is status with the error code.
func wantRefusal(t *testing.T, what string, r *response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if got := r.object(t)["error"]; got != code {
		t.Fatalf("%s: error %v, want %s: %s", what, got, code, r.body)
	}
	// A 401 names the scheme the API takes (RFC 6750 §3), and why a token was refused.
	if status == http.StatusUnauthorized {
		want := `Bearer realm="latchkey"`
		if code == "invalid_token" {
			want += `, error="invalid_token"`
		}
		if got := r.header.Get("WWW-Authenticate"); got != want {
			t.Errorf("%s: WWW-Authenticate %q, want %q", what, got, want)
		}
	}
}

// TestAPITokenAttacks performs what an attacker tries with API tokens on the API: no token, the
// wrong scheme, an invented, an expired and a revoked token are refused with 401; a token is
// refused with 403 where a person must act and where it lacks the scope; a page never takes a
// token; and the secret appears nowhere in the server's log.
func TestAPITokenAttacks(t *testing.T) {
	h, logs := newTokenHarness(t)
	c := h.newClient()
	admin, _ := h.createToken("provisioning", directory.TokenExpiry{},
		latchkey.ScopeUserReadWriteAll, latchkey.ScopeUserAuthenticationMethodRWAll)
	reader, _ := h.createToken("reader", directory.TokenExpiry{}, latchkey.ScopeUserReadAll)
	shortLived, _ := h.createToken("short", directory.TokenExpiry{At: h.clock.Now().Add(time.Hour)},
		latchkey.ScopeUserReadWriteAll, latchkey.ScopeUserAuthenticationMethodRWAll)
	doomed, doomedRec := h.createToken("doomed", directory.TokenExpiry{Never: true},
		latchkey.ScopeUserReadWriteAll, latchkey.ScopeUserAuthenticationMethodRWAll)
	secrets := []string{admin, reader, shortLived, doomed}

	// The token works: it creates a user and issues them a pass.
	r := c.bearer("POST", "/api/v1/users", "Bearer "+admin, `{"userPrincipalName":"bot-made@example.com"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create a user with the token: %d %s", r.status, r.body)
	}
	id, _ := r.object(t)["id"].(string)
	r = c.bearer("POST", "/api/v1/users/"+id+"/authentication/temporaryAccessPassMethods", "Bearer "+admin, `{}`)
	if r.status != http.StatusCreated || r.object(t)["temporaryAccessPass"] == "" {
		t.Fatalf("issue a pass with the token: %d %s", r.status, r.body)
	}
	if tokens, err := h.svc.Store.ListAPITokens(context.Background()); err != nil {
		t.Fatal(err)
	} else {
		for _, tok := range tokens {
			if tok.Name == "provisioning" && tok.LastUsedAt == nil {
				t.Errorf("the token's last use was not recorded")
			}
		}
	}

	wantRefusal(t, "no Authorization header", c.get("/api/v1/users"), http.StatusUnauthorized, "not_signed_in")
	wantRefusal(t, "empty Authorization header", c.bearer("GET", "/api/v1/users", "", ""), http.StatusUnauthorized, "invalid_token")
	wantRefusal(t, "Basic scheme", c.bearer("GET", "/api/v1/users", "Basic YWRtaW46YWRtaW4=", ""), http.StatusUnauthorized, "invalid_token")
	wantRefusal(t, "token without scheme", c.bearer("GET", "/api/v1/users", admin, ""), http.StatusUnauthorized, "invalid_token")
	wantRefusal(t, "invented token", c.bearer("GET", "/api/v1/users", "Bearer "+signin.NewAPIToken(), ""), http.StatusUnauthorized, "invalid_token")
	wantRefusal(t, "a session token as bearer", c.bearer("GET", "/api/v1/users", "Bearer "+signin.NewToken(), ""), http.StatusUnauthorized, "invalid_token")

	// Revoked: refused on the very next request.
	if r := c.bearer("GET", "/api/v1/users", "Bearer "+doomed, ""); r.status != http.StatusOK {
		t.Fatalf("never-expiring token before revocation: %d %s", r.status, r.body)
	}
	if err := h.srv.dir.RevokeToken(context.Background(), latchkey.CLIActor, doomedRec.ID); err != nil {
		t.Fatal(err)
	}
	revoked := c.bearer("GET", "/api/v1/users", "Bearer "+doomed, "")
	wantRefusal(t, "revoked token", revoked, http.StatusUnauthorized, "invalid_token")

	// Expired: works before, refused after.
	if r := c.bearer("GET", "/api/v1/users", "Bearer "+shortLived, ""); r.status != http.StatusOK {
		t.Fatalf("short-lived token before it expires: %d %s", r.status, r.body)
	}
	h.clock.Advance(2 * time.Hour)
	expired := c.bearer("GET", "/api/v1/users", "Bearer "+shortLived, "")
	wantRefusal(t, "expired token", expired, http.StatusUnauthorized, "invalid_token")
	// One plain message for every reason; the admin detail tells them apart.
	if m1, m2 := revoked.object(t)["message"], expired.object(t)["message"]; m1 != m2 {
		t.Errorf("revoked and expired tokens get different messages: %q, %q", m1, m2)
	}
	if d1, d2 := revoked.object(t)["detail"].(string), expired.object(t)["detail"].(string); !strings.Contains(d1, "revoked") || !strings.Contains(d2, "expired") {
		t.Errorf("details do not say why: %q, %q", d1, d2)
	}

	// A token with User.Read.All cannot create a user.
	wantRefusal(t, "User.Read.All creating a user", c.bearer("POST", "/api/v1/users", "Bearer "+reader, `{"userPrincipalName":"nope@example.com"}`),
		http.StatusForbidden, "missing_scope")
	if _, err := h.svc.Store.FindUserByUPN(context.Background(), "nope@example.com"); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
		t.Fatalf("the refused token created a user anyway: %v", err)
	}

	// Routes that act on the signed-in person refuse a token, even a working one.
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/api/v1/me", ""},
		{"GET", "/api/v1/me/passkeys", ""},
		{"DELETE", "/api/v1/me/passkeys/x", ""},
		{"POST", "/api/v1/webauthn/registration/options", ""},
	} {
		r := c.bearer(rt.method, rt.path, "Bearer "+admin, rt.body)
		wantRefusal(t, rt.method+" "+rt.path+" with a token", r, http.StatusForbidden, "token_not_allowed")
		if !strings.Contains(r.object(t)["message"].(string), "token cannot do this") {
			t.Errorf("%s: message does not say a token cannot do this: %s", rt.path, r.body)
		}
	}
	// A route not open to tokens (policies) refuses even the provisioning token.
	if r := c.bearer("GET", "/api/v1/policies/authenticationMethods", "Bearer "+admin, ""); r.status != http.StatusForbidden {
		t.Errorf("policy read with a users token: %d %s", r.status, r.body)
	}
	// Pages never take a token: the admin page sends the caller to sign in.
	if r := c.bearer("GET", "/admin/users", "Bearer "+admin, ""); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Errorf("admin page with a token: %d %s", r.status, r.header.Get("Location"))
	}

	// A signed-in person sending a bad token is refused: the header wins over the cookie.
	u := &latchkey.User{UserPrincipalName: "admin@example.com", Enabled: true, Roles: []string{latchkey.RoleGlobalAdmin}}
	if err := h.svc.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	pass, _, err := h.svc.IssueAccessPass(context.Background(), u.ID, signin.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.mustSignInTAP(u.UserPrincipalName, pass)
	wantRefusal(t, "session with a revoked token", c.bearer("GET", "/api/v1/users", "Bearer "+doomed, ""), http.StatusUnauthorized, "invalid_token")
	if r := c.get("/api/v1/users"); r.status != http.StatusOK {
		t.Fatalf("the session alone: %d %s", r.status, r.body)
	}

	// No secret in any log record, message or attribute.
	all := logs.find(func(record) bool { return true })
	if len(all) == 0 {
		t.Fatal("the server logged nothing; the log capture is broken")
	}
	refusals := 0
	for _, rec := range all {
		if rec.msg == "refused" && rec.attrs["code"] == "invalid_token" {
			refusals++
		}
		for _, s := range secrets {
			if strings.Contains(rec.msg, s) {
				t.Errorf("log message carries a token: %s", rec.msg)
			}
			for k, v := range rec.attrs {
				if strings.Contains(v, s) || strings.Contains(v, s[len(signin.APITokenPrefix):]) {
					t.Errorf("log attribute %s carries a token: %s", k, v)
				}
			}
		}
	}
	if refusals == 0 {
		t.Error("no refused invalid_token record: the log capture saw none of the refusals")
	}
	if errs := logs.errors(); len(errs) != 0 {
		t.Errorf("server logged errors: %v", errs)
	}
}
