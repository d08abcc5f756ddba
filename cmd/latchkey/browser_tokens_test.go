package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestBrowserTokensPage: the global admin creates an API token on /admin/tokens in the
// browser, copies it with the button, and the token works on the API; then revokes it through
// the confirmation step, and the token is refused.
func TestBrowserTokensPage(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.navigate(s.URL + "/admin/tokens")
	b.waitVisible("#add-token")
	b.typeInto(`#add-token input[name="name"]`, "HR provisioning")
	b.click(`#add-token input[value="User.ReadWrite.All"]`)
	b.click(`#add-token input[value="UserAuthenticationMethod.ReadWrite.All"]`)
	b.click(`#add-token button[type="submit"]`)
	b.waitPage("/admin/tokens", "#new-token")
	secret := b.text("#token-secret")
	if !strings.HasPrefix(secret, "lk_") {
		t.Fatalf("token shown %q, want lk_...", secret)
	}
	b.click("#copy-token")
	b.waitJS("the copy status", `document.getElementById("copy-status").textContent !== ""`)

	call := func() int {
		req, err := http.NewRequestWithContext(context.Background(), "GET", s.URL+"/api/v1/users", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(); got != http.StatusOK {
		t.Fatalf("the new token on the API: %d", got)
	}

	b.navigate(s.URL + "/admin/tokens")
	b.waitVisible("#tokens a.revoke")
	if strings.Contains(b.text("#tokens"), secret) {
		t.Fatal("the token list shows the secret")
	}
	b.click("#tokens a.revoke")
	b.waitPage("/admin/tokens", "#revoke-confirm")
	if got := call(); got != http.StatusOK {
		t.Fatalf("the token stopped working before the revocation was confirmed: %d", got)
	}
	b.click("#revoke-confirm-submit")
	b.waitPage("/admin/tokens", "#tokens")
	if !strings.Contains(b.text("#tokens"), "revoked") {
		t.Errorf("the list does not show the revocation: %q", b.text("#tokens"))
	}
	if got := call(); got != http.StatusUnauthorized {
		t.Fatalf("the revoked token on the API: %d, want 401", got)
	}
}
