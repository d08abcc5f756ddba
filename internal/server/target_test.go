package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/signin"
)

// TestOpenRedirectRefused sends the attacker's links literally: the sign-in page, the pass form,
// the password sign-in and the nudge with next=/\evil.example/phish (and other spellings). No
// page carries the attacker's next in a link, field or data attribute, and every redirect stays
// on the site.
func TestOpenRedirectRefused(t *testing.T) {
	h := newHarness(t)
	h.enableLegacy(3)
	pat := h.createUser("pat@example.com", false)
	h.withLegacyCredentials(pat, false)
	tia := h.createUser("tia@example.com", false)
	const evil = "%2F%5Cevil.example%2Fphish"
	noEvil := func(what string, r *response) {
		t.Helper()
		if strings.Contains(strings.ToLower(string(r.body)), "evil") || strings.Contains(r.header.Get("Location"), "evil") {
			t.Errorf("%s carries the attacker's next: %d %q %.2000s", what, r.status, r.header.Get("Location"), r.body)
		}
	}
	anon := h.newClient()
	for _, next := range []string{evil, "%2F%09%2Fevil.example", "%2F%252Fevil.example", "%5C%2Fevil.example", "https:evil.example"} {
		r := anon.get("/signin?next=" + next)
		noEvil("the sign-in page", r)
		if !strings.Contains(string(r.body), `data-next="/my/security-info"`) {
			t.Errorf("the sign-in page with next=%s has no default data-next: %.1000s", next, r.body)
		}
		noEvil("the pass page", anon.get("/signin/tap?next="+next))
		noEvil("the methods page", anon.get("/signin/methods?next="+next))
		noEvil("the password page", anon.get("/signin/password?username=pat%40example.com&next="+next))
	}

	// The pass form goes to the default place.
	c := h.newClient()
	r := c.postForm("/signin/tap", url.Values{"username": {"tia@example.com"}, "tap": {h.issueTAP(tia.ID, signin.IssueOptions{})}, "next": {`/\evil.example/phish`}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info" {
		t.Errorf("pass sign-in with the attacker's next: %d %q", r.status, r.header.Get("Location"))
	}

	// A password sign-in goes to the nudge without the attacker's next.
	p := h.newClient()
	r = p.postForm("/signin/password", url.Values{"username": {"pat@example.com"}, "password": {legacyPassword}, "next": {`/\evil.example/phish`}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin/nudge" {
		t.Errorf("password sign-in with the attacker's next: %d %q", r.status, r.header.Get("Location"))
	}
	// The nudge itself, from the attacker's link.
	r = p.get("/signin/nudge?next=" + evil)
	noEvil("the nudge", r)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `data-next="/my/security-info"`) {
		t.Errorf("the nudge with the attacker's next: %d %.1000s", r.status, r.body)
	}
	// "Continue for now" with the attacker's next in the form.
	r = p.postForm("/signin/nudge/snooze", url.Values{"next": {`/\evil.example/phish`}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info" {
		t.Errorf("continue with the attacker's next: %d %q", r.status, r.header.Get("Location"))
	}
}
