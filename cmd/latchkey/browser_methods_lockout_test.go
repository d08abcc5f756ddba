package main

import (
	"strings"
	"testing"
)

// TestBrowserMethodsLockout: the one-click lockout of the hardening issue in Chromium. The only
// admin (their one-time bootstrap pass used up) signs in with a synced passkey; on /admin/policy
// they untick All users for passkeys and save. The page refuses, naming them as the last global
// admin, with the box still unticked; a wrong number is refused again; the right one saves.
func TestBrowserMethodsLockout(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.addAuthenticator(synced())
	b.addPasskey()

	const allUsers = `#policy-methods input[name="passkeyInclude"][value="all_users"]`
	checked := func() bool { return eval[bool](b, `document.querySelector(`+js(allUsers)+`).checked`) }
	b.navigate(s.URL + "/admin/policy")
	b.click("#change-methods > summary")
	b.waitVisible("#policy-methods")
	if !checked() {
		t.Fatal("All users is not ticked for passkeys on a fresh policy")
	}
	b.click(allUsers)
	b.click("#policy-methods-submit")
	b.waitPage("/admin/policy/methods", "#lockout")
	if got := b.text(`#lockout .finding[data-code="no_way_to_sign_in"] .people`); got != "admin" {
		t.Errorf("people locked out: %q, want admin", got)
	}
	if b.count(`#lockout .finding[data-code="last_global_admin"]`) != 1 || b.text("#lockout-count") != "1" {
		t.Errorf("lockout panel: %s", b.text("#lockout"))
	}
	if checked() {
		t.Error("the refused page ticks All users again: the admin's change is lost")
	}
	if got := b.text("#passkey-include"); got != "All users" {
		t.Errorf("the stored policy shows passkeys for %q, want All users (nothing saved)", got)
	}

	b.typeInto(`#lockout-confirm input[name="lockoutOverride"]`, "2")
	b.click("#lockout-confirm-submit")
	b.waitPage("/admin/policy/methods", "#lockout")
	if !strings.Contains(b.text("#page-error"), "entering 1 as the override") {
		t.Errorf("a wrong number: %s", b.text("#page-error"))
	}
	b.typeInto(`#lockout-confirm input[name="lockoutOverride"]`, "1")
	b.click("#lockout-confirm-submit")
	b.waitPage("/admin/policy", "#policy-notice")
	if got := b.text("#passkey-include"); got != "nobody" {
		t.Errorf("after the override passkeys are for %q, want nobody", got)
	}
}
