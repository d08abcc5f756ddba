package main

// A migration from passwords to passkeys in a real browser: an admin turns the legacy methods on
// for a group from the policy page; a member of it sets a password and an authenticator app
// after a pass sign-in, signs in with them through "Sign in another way", snoozes the nudge,
// and creates a passkey from the nudge the next time.

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// totpCodeAt returns the code of secret for time step n.
func totpCodeAt(t *testing.T, secret string, n int64) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Unix(n*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// waitForStep waits until the real time step (Unix time / 30 s) is at least n: each code works
// once, so a second sign-in needs a later step than the first one used.
func waitForStep(n int64) {
	for time.Now().Unix()/30 < n {
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBrowserLegacyMigration(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	g := &latchkey.Group{DisplayName: "Legacy"}
	if err := s.Store.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}

	// The admin turns passwords and authenticator apps on for Legacy only.
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.navigate(s.URL + "/admin/policy")
	b.click("#change-legacy > summary")
	b.waitVisible("#policy-legacy")
	eval[bool](b, `(() => {
  const f = document.querySelector("#policy-legacy");
  f.querySelector("select[name=passwordState]").value = "enabled";
  f.querySelector("select[name=totpState]").value = "enabled";
  return true;
})()`)
	for _, field := range []string{"passwordInclude", "totpInclude"} {
		b.click(`#policy-legacy input[name="` + field + `"][value="all_users"]`)
		b.click(`#policy-legacy input[name="` + field + `"][value="` + g.ID + `"]`)
	}
	b.click("#policy-legacy-submit")
	b.waitPage("/admin/policy", "#policy-notice")
	if got := b.text("#legacy-methods #password-state"); !strings.HasPrefix(got, "enabled; included: Legacy; excluded: nobody") {
		t.Errorf("policy page shows passwords as %q", got)
	}
	pol, err := s.Auth.MethodsPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Target{{ID: g.ID, TargetType: policy.TargetTypeGroup}}
	if pol.Password.State != policy.StateEnabled || pol.TOTP.State != policy.StateEnabled ||
		!slices.Equal(pol.Password.IncludeTargets, want) || !slices.Equal(pol.TOTP.IncludeTargets, want) {
		t.Fatalf("stored policy: password %+v, TOTP %+v; want both enabled for Legacy", pol.Password, pol.TOTP)
	}

	// Mia, in Legacy, signs in with her pass and sets a password and an authenticator app.
	mia, pass := newUser(t, s, "mia@example.com", "Mia Wong")
	if err := s.Store.AddGroupMember(ctx, g.ID, mia.ID); err != nil {
		t.Fatal(err)
	}
	const password = "tangerine velvet orbit 42"
	m := b.newIsolatedTab()
	m.signInWithTAP(s, "mia@example.com", pass)
	m.waitVisible("#password-card")
	m.typeInto("#new-password", password)
	m.typeInto("#confirm-password", password)
	m.click("#password-save")
	m.waitPage("/my/security-info", "#password-notice")
	m.click("#totp-setup-start")
	m.waitPage("/my/security-info/totp", "#totp-confirm-form")
	if src := m.attr("#totp-qr", "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR code src %.60q, want a PNG data: URI", src)
	}
	secret := m.attr("#totp-secret", "data-secret")
	if got := strings.ReplaceAll(m.text("#totp-secret"), " ", ""); got != secret || len(secret) != 32 {
		t.Fatalf("typed secret %q, data-secret %q", got, secret)
	}
	n0 := time.Now().Unix() / 30
	m.typeInto("#totp-confirm-code", totpCodeAt(t, secret, n0))
	m.click("#totp-confirm")
	m.waitPage("/my/security-info", "#totp-notice")
	creds, err := s.Store.FindLegacyCredentials(ctx, mia.ID)
	if err != nil || !creds.HasPassword() || !creds.HasTOTP() || creds.TOTPSecret != secret {
		t.Fatalf("stored credentials %+v, %v; want a password and the confirmed secret", creds, err)
	}

	// Signed out, with her pass still active, "Sign in another way" sends her to the pass page.
	m.signOut()
	m.click("#other-ways")
	m.waitPage("/signin/methods", "#methods-form")
	m.typeInto("#methods-username-input", "mia@example.com")
	m.click("#methods-submit")
	m.waitPage("/signin/tap", "#tap-form")
	if got := m.attr("#tap-username", "value"); got != "mia@example.com" {
		t.Errorf("pass page user name %q", got)
	}
	// IT removes the pass once she is set up: now the password comes first.
	if err := s.Store.DeleteAccessPass(ctx, mia.ID); err != nil {
		t.Fatal(err)
	}
	next := "/my/security-info?from=legacy"
	m.navigate(s.URL + "/signin?next=" + url.QueryEscape(next))
	m.waitVisible("#signin-form")
	m.click("#other-ways")
	m.waitPage("/signin/methods", "#methods-form")
	m.typeInto("#methods-username-input", "mia@example.com")
	m.click("#methods-submit")
	m.waitPage("/signin/methods", "#method-choices")
	if got := eval[string](m, `[...document.querySelectorAll("#method-choices a")].map(a => a.dataset.method + (a.classList.contains("primary") ? "!" : "")).join(" ")`); got != "password! passkey" {
		t.Errorf("methods offered %q, want the password first and prominent, then passkey", got)
	}
	m.click(`a[data-method="password"]`)
	m.waitPage("/signin/password", "#password-form")
	if got := m.attr("#password-username", "value"); got != "mia@example.com" {
		t.Errorf("password page user name %q", got)
	}
	m.typeInto("#password-input", password)
	m.click("#password-submit")
	m.waitPage("/signin/password", "#totp-form")
	if sess := sessionOf(t, s, m); sess != nil {
		t.Fatalf("a session exists before the code: %+v", sess)
	}
	if got := m.attr("#totp-code", "autocomplete") + " " + m.attr("#totp-code", "inputmode"); got != "one-time-code numeric" {
		t.Errorf("code field autocomplete/inputmode %q", got)
	}
	// The confirmation used step n0's code; this sign-in uses the next one.
	m.typeInto("#totp-code", totpCodeAt(t, secret, n0+1))
	m.click("#totp-submit")
	m.waitPage("/signin/nudge", "#nudge")
	if sess := sessionOf(t, s, m); sess == nil || !slices.Equal(sess.Methods, []string{latchkey.MethodPassword, latchkey.MethodTOTP}) {
		t.Fatalf("session after password + code = %+v, want methods [password totp]", sess)
	}
	if got := m.text("#nudge-not-now"); got != "Not now (3 left)" {
		t.Errorf("snooze button %q", got)
	}
	m.click("#nudge-not-now")
	m.waitPage("/my/security-info", "#signed-in-as")
	if !strings.HasSuffix(m.location(), next) {
		t.Errorf("after Not now the tab is at %s, want next %s", m.location(), next)
	}
	if creds, _ := s.Store.FindLegacyCredentials(ctx, mia.ID); creds.NudgeSnoozes != 1 {
		t.Errorf("snoozes %d, want 1", creds.NudgeSnoozes)
	}

	// The next sign-in: she creates a passkey from the nudge, with her laptop's authenticator.
	m.signOut()
	m.navigate(s.URL + "/signin/password?username=mia%40example.com")
	m.waitVisible("#password-form")
	m.typeInto("#password-input", password)
	m.click("#password-submit")
	m.waitPage("/signin/password", "#totp-form")
	waitForStep(n0 + 1)
	m.typeInto("#totp-code", totpCodeAt(t, secret, n0+2))
	m.click("#totp-submit")
	m.waitPage("/signin/nudge", "#nudge")
	if got := m.text("#nudge-not-now"); got != "Not now (2 left)" {
		t.Errorf("snooze button %q", got)
	}
	m.addAuthenticator(deviceBound())
	m.click("#add-passkey")
	m.waitPage("/my/security-info", "#signed-in-as")
	pks := s.passkeys(t, "mia@example.com")
	if len(pks) != 1 || pks[0].Kind != latchkey.KindDeviceBound {
		t.Fatalf("mia's passkeys after the nudge: %+v, want one device-bound passkey", pks)
	}
	if n := m.count("li.passkey"); n != 1 {
		t.Errorf("My security info lists %d passkeys, want 1", n)
	}
	// The admin's view of Mia says what she has.
	b.navigate(s.URL + "/admin/users/" + mia.ID)
	b.waitVisible("#legacy-state")
	if got := b.text("#legacy-state"); !strings.HasPrefix(got, "Password: set ") || !strings.Contains(got, "Authenticator app: set up") ||
		!strings.Contains(got, "skipped 1 time(s)") {
		t.Errorf("admin view of Mia's legacy methods: %q", got)
	}

	events, err := s.Store.ListSignIns(ctx, mia.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 3 || events[0].Method != latchkey.MethodPassword || events[0].Result != latchkey.SignInSuccess ||
		strings.Join(events[0].AMR, " ") != "mfa otp pwd" {
		t.Errorf("latest sign-in %+v, want a password + TOTP success with amr mfa otp pwd", events[0])
	}
}
