package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

// TestCSRFTokenBoundToSession performs the attacks on the form token literally: a value that
// merely equals the CSRF cookie (one character, or a whole token's length), another session's
// valid token, a truncated token, another browser's pre-session token, and a token replayed
// after sign-out. Each is refused with the plain "This form has expired" page and changes
// nothing; the page's own token works.
func TestCSRFTokenBoundToSession(t *testing.T) {
	h := newHarness(t)
	const form = "application/x-www-form-urlencoded"
	alice, aliceUser := h.signedInClient("alice@example.com", false)
	pk := alice.mustRegister(h.newDevice())
	bob, _ := h.signedInClient("bob@example.com", false)
	rename := "/my/security-info/passkeys/" + pk.ID + "/rename"
	post := func(c *client, path, token string, fields url.Values) *response {
		t.Helper()
		v := url.Values{web.CSRFField: {token}}
		for k, vs := range fields {
			v[k] = vs
		}
		return c.do(http.MethodPost, path, form, strings.NewReader(v.Encode()))
	}
	expired := func(what string, r *response) {
		t.Helper()
		if r.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", what, r.status)
		}
		checkErrorPage(t, r, "csrf_failed")
		if !strings.Contains(string(r.body), "This form has expired") {
			t.Errorf("%s: the page does not say the form has expired: %.1000s", what, r.body)
		}
	}
	name := func() string { return h.passkeys(aliceUser.ID)[0].Nickname }
	before := name()
	setCSRFCookie := func(c *client, v string) {
		c.jar.SetCookies(h.originURL(), []*http.Cookie{{Name: web.CSRFCookie, Value: v, Path: "/"}})
	}

	// The double-submit of old: any value equal to the cookie, even one character.
	setCSRFCookie(alice, "a")
	expired("one-character token equal to a one-character cookie", post(alice, rename, "a", url.Values{"name": {"Pwned"}}))
	whole := signin.NewToken()
	setCSRFCookie(alice, whole)
	expired("token equal to the cookie", post(alice, rename, whole, url.Values{"name": {"Pwned"}}))
	anon := h.newClient()
	setCSRFCookie(anon, "a")
	carol := h.createUser("carol@example.com", false)
	carolPass := h.issueTAP(carol.ID, signin.IssueOptions{})
	expired("sign-in form with a one-character token equal to the cookie",
		post(anon, "/signin/tap", "a", url.Values{"username": {"carol@example.com"}, "tap": {carolPass}}))
	checkNoSession(t, anon)

	// Another session's valid token.
	expired("bob's token on alice's form", post(alice, rename, bob.formCSRF(), url.Values{"name": {"Pwned"}}))
	// A truncated token.
	own := alice.formCSRF()
	expired("truncated token", post(alice, rename, own[:len(own)-1], url.Values{"name": {"Pwned"}}))
	expired("token of one character", post(alice, rename, own[:1], url.Values{"name": {"Pwned"}}))
	// Another browser's pre-session token, on the sign-in form.
	other := h.newClient()
	expired("another browser's pre-session token", post(anon, "/signin/tap", other.formCSRF(), url.Values{"username": {"carol@example.com"}, "tap": {carolPass}}))
	checkNoSession(t, anon)
	if got := name(); got != before {
		t.Fatalf("a refused post renamed the passkey to %q", got)
	}

	// The page's own token works.
	if r := post(alice, rename, own, url.Values{"name": {"Laptop"}}); r.status != http.StatusSeeOther || name() != "Laptop" {
		t.Fatalf("rename with the page's token: %d %.500s", r.status, r.body)
	}
	if r := post(anon, "/signin/tap", anon.formCSRF(), url.Values{"username": {"carol@example.com"}, "tap": {carolPass}}); r.status != http.StatusSeeOther || anon.sessionCookie() == nil {
		t.Fatalf("sign-in with the page's token: %d %.500s", r.status, r.body)
	}

	// Replay after sign-out: the token died with its session, both for the signed-out browser
	// and once the person signs in again.
	if r := post(alice, "/signout", own, nil); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d %.500s", r.status, r.body)
	}
	expired("token replayed after sign-out", post(alice, "/signin/tap", own, url.Values{"username": {"carol@example.com"}, "tap": {carolPass}}))
	alice.mustSignInTAP("alice@example.com", h.issueTAP(aliceUser.ID, signin.IssueOptions{}))
	expired("token replayed in the next session", post(alice, rename, own, url.Values{"name": {"Pwned"}}))
	if got := name(); got != "Laptop" {
		t.Errorf("a replayed token renamed the passkey to %q", got)
	}
}
