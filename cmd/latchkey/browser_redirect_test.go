package main

// The open-redirect attack in a real browser: a link to the sign-in page, or to the nudge after a
// password sign-in, whose next is "/\evil.example/phish". A browser reads the backslash as a
// slash, so following that next would leave for http://evil.example/phish; the tab must stay on
// Latchkey's origin whichever way the person goes on.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// evilNext is the attacker's next, as it appears in the link they send.
const evilNext = "%2F%5Cevil.example%2Fphish"

// waitNewDocument waits until the tab shows a document loaded after the last click, wherever it is.
func (b *browser) waitNewDocument(what string) {
	b.t.Helper()
	b.waitJS(what, "!"+staleMark+` && document.readyState === "complete"`)
}

// assertOnSite fails unless the tab is at path on the server's origin.
func assertOnSite(t *testing.T, s *testServer, b *browser, path string) {
	t.Helper()
	loc := b.location()
	if !strings.HasPrefix(loc, s.URL+path) {
		t.Fatalf("the tab is at %q, want %s%s on Latchkey's origin", loc, s.URL, path)
	}
}

func TestBrowserOpenRedirectRefused(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	b := startBrowser(t)

	// Ada has a passkey; she follows the attacker's sign-in link and signs in with it.
	_, pass := newUser(t, s, "ada@example.com", "Ada Lovelace")
	b.signInWithTAP(s, "ada@example.com", pass)
	laptop := b.addAuthenticator(deviceBound())
	b.addPasskey()
	creds := b.credentials(laptop)
	// No authenticator while the sign-in page loads, so that it starts no autofill request and
	// the button signs in (see browser_test.go).
	b.removeAuthenticator(laptop)
	b.signOut()
	b.navigate(s.URL + "/signin?next=" + evilNext)
	b.waitVisible("#signin-form")
	if got := b.attr("[data-page=signin]", "data-next"); got != "/my/security-info" {
		t.Errorf("the sign-in page's data-next is %q, want the default", got)
	}
	for _, sel := range []string{"#other-ways", "#tap-link"} {
		if href := b.attr(sel, "href"); strings.Contains(href, "evil") {
			t.Errorf("%s carries the attacker's next: %q", sel, href)
		}
	}
	laptop = b.addAuthenticator(deviceBound())
	b.importCredential(laptop, creds[0])
	b.click("#passkey-signin")
	b.waitNewDocument("the page after the passkey sign-in")
	assertOnSite(t, s, b, "/my/security-info")

	// The page code checks what it navigates to as well: a data-next changed in the page (as a
	// future template mistake would leave it) is not followed. The passkey moves on with its
	// advanced sign count.
	creds = b.credentials(laptop)
	b.removeAuthenticator(laptop)
	b.signOut()
	b.exec(`document.querySelector("[data-page=signin]").dataset.next = "/\\evil.example/phish"`)
	laptop = b.addAuthenticator(deviceBound())
	b.importCredential(laptop, creds[0])
	b.click("#passkey-signin")
	b.waitNewDocument("the page after the passkey sign-in")
	assertOnSite(t, s, b, "/my/security-info")

	// Ben signs in with a password and a code and is nudged to create a passkey; the attacker's
	// link to the nudge carries the same next.
	p := policy.DefaultMethodsPolicy()
	p.Password.State, p.TOTP.State = policy.StateEnabled, policy.StateEnabled
	p.RegistrationCampaign.SnoozesAllowed = 3
	if err := s.Policies.SetMethodsPolicy(ctx, latchkey.SystemActor, p); err != nil {
		t.Fatal(err)
	}
	ben, _ := newUser(t, s, "ben@example.com", "Ben Okafor")
	if err := s.Store.DeleteAccessPass(ctx, ben.ID); err != nil {
		t.Fatal(err)
	}
	const password = "tangerine velvet orbit 42"
	setup := &latchkey.Session{UserID: ben.ID, Methods: []string{latchkey.MethodTAP}, AuthenticatedAt: time.Now()}
	if err := s.Auth.SetPassword(ctx, setup, ben, password); err != nil {
		t.Fatal(err)
	}
	e, err := s.Auth.BeginTOTPEnrollment(ctx, setup, ben)
	if err != nil {
		t.Fatal(err)
	}
	n0 := time.Now().Unix() / 30
	if err := s.Auth.ConfirmTOTPEnrollment(ctx, setup, ben, totpCodeAt(t, e.Secret, n0)); err != nil {
		t.Fatal(err)
	}
	m := b.newIsolatedTab()
	m.navigate(s.URL + "/signin/password?username=ben%40example.com&next=" + evilNext)
	m.waitVisible("#password-form")
	m.typeInto("#password-input", password)
	m.click("#password-submit")
	m.waitPage("/signin/password", "#totp-form")
	code, err := totp.GenerateCode(e.Secret, time.Unix((n0+1)*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	m.typeInto("#totp-code", code)
	m.click("#totp-submit")
	m.waitPage("/signin/nudge", "#nudge")
	if strings.Contains(m.location(), "evil") {
		t.Errorf("the nudge kept the attacker's next: %s", m.location())
	}

	// "Not now" on the attacker's nudge link.
	m.navigate(s.URL + "/signin/nudge?next=" + evilNext)
	m.waitVisible("#nudge-not-now")
	if got := m.attr("#nudge", "data-next"); got != "/my/security-info" {
		t.Errorf("the nudge's data-next is %q, want the default", got)
	}
	if n := m.count(`#nudge input[name="next"]`); n != 0 {
		t.Errorf("the nudge has %d hidden next fields, want none", n)
	}
	m.click("#nudge-not-now")
	m.waitNewDocument("the page after Not now")
	assertOnSite(t, s, m, "/my/security-info")

	// "Create a passkey" on the attacker's nudge link.
	m.navigate(s.URL + "/signin/nudge?next=" + evilNext)
	m.waitVisible("#add-passkey")
	m.addAuthenticator(deviceBound())
	m.click("#add-passkey")
	m.waitNewDocument("the page after creating a passkey")
	assertOnSite(t, s, m, "/my/security-info")
	if pks := s.passkeys(t, "ben@example.com"); len(pks) != 1 {
		t.Errorf("ben has %d passkeys after the nudge, want 1", len(pks))
	}
}
