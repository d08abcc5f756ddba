package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// issuePass gives u a fresh pass, as an admin would.
func issuePass(t *testing.T, s *testServer, u *latchkey.User) string {
	t.Helper()
	pass, _, err := s.Auth.IssueAccessPass(context.Background(), u.ID, signin.IssueOptions{LifetimeMinutes: 60, CreatedBy: "test"})
	if err != nil {
		t.Fatalf("issue pass for %s: %v", u.UserPrincipalName, err)
	}
	return pass
}

// atWidths shows the tab at 1280 and 390 px, saving a screenshot name-WIDTH at each, and calls
// check (if any) at each width; it leaves the tab at 1280 px.
func atWidths(t *testing.T, b *browser, name string, check func(width int64)) {
	t.Helper()
	for _, width := range []int64{390, 1280} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		// Nothing of the page sticks out of the window.
		if wide := eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth`); wide {
			t.Errorf("%s at %d px: the page is wider than the window", name, width)
		}
		if check != nil {
			check(width)
		}
		screenshot(t, b, name+"-"+strconv.FormatInt(width, 10))
	}
}

// hasDeviceCookie reports whether the tab's browser holds the device cookie.
func (b *browser) hasDeviceCookie(s *testServer) bool {
	for _, c := range b.cookies(s.URL + "/") {
		if c.Name == httpedge.DeviceCookie && c.Value != "" {
			return c.HTTPOnly && c.Secure && c.SameSite == "Lax"
		}
	}
	return false
}

// TestBrowserBeforeThePhoneIsGone: Alice creates her first passkey on her laptop; with only one,
// My Security Info asks her to add a second, and the admin home counts her. On a fresh browser
// she signs in with a pass: she lands on My Security Info as before, which offers a passkey on
// this device, and one click creates it. On the way to an application, the offer takes the
// "Signed in" page's place and "Not now" lands at the application.
func TestBrowserBeforeThePhoneIsGone(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	alice, pass := newUser(t, s, "alice@example.com", "Alice Example")

	// The laptop: her first passkey, with the wizard.
	b.addAuthenticator(deviceBound())
	b.signInWithTAP(s, alice.UserPrincipalName, pass)
	b.addPasskey()
	if !b.hasDeviceCookie(s) {
		t.Error("no HttpOnly, Secure, SameSite=Lax device cookie after registering a passkey on this browser")
	}
	b.navigate(s.URL + "/my/security-info")
	b.waitPage("/my/security-info", "#second-passkey-card")
	if n := b.count("#offer-here-card"); n != 0 {
		t.Error("the laptop where the passkey was just created is offered one")
	}
	atWidths(t, b, "second-passkey-card", func(int64) {
		if got := b.text("#second-passkey-card h2"); got != "Add a second passkey" {
			t.Errorf("the card says %q", got)
		}
	})

	// The admin home counts her and lists her.
	ab := b.newIsolatedTab()
	ab.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	ab.navigate(s.URL + "/admin")
	ab.waitPage("/admin", "#att-second-passkey")
	if got := ab.attr("#att-second-passkey", "data-count"); got != "1" {
		t.Errorf("admin home counts %s people for a second passkey, want 1", got)
	}
	atWidths(t, ab, "admin-home-second-passkey", nil)
	ab.click("#att-second-passkey a")
	ab.waitPage("/admin/users", "body")
	if !strings.Contains(ab.text("main"), "alice@example.com") {
		t.Errorf("the filtered users list does not show Alice: %q", ab.text("main"))
	}
	ab.navigate(s.URL + "/admin/policy")
	ab.waitPage("/admin/policy", "#second-passkey-state")
	ab.click("#change-legacy > summary")
	ab.waitVisible(`#policy-legacy input[name="unusedDays"]`)
	ab.exec(`document.querySelector('#policy-legacy input[name="unusedDays"]').scrollIntoView()`)
	atWidths(t, ab, "policy-second-passkey", nil)

	// A fresh browser (a colleague's laptop, a new computer): a pass sign-in lands on My
	// Security Info, which offers a passkey here; one click creates it.
	fb := b.newIsolatedTab()
	fb.addAuthenticator(deviceBound())
	fb.signInWithTAP(s, alice.UserPrincipalName, issuePass(t, s, alice))
	fb.waitVisible("#offer-here-card")
	if n := fb.count("#second-passkey-card"); n != 0 {
		t.Error("the fresh browser shows both cards")
	}
	atWidths(t, fb, "offer-security-info", nil)
	fb.click("#add-passkey-here")
	fb.waitJS("the passkey-added page", `location.search.includes("notice=added") && document.readyState === "complete" && !!document.querySelector("#added-notice")`)
	if n := len(s.passkeys(t, alice.UserPrincipalName)); n != 2 {
		t.Errorf("Alice has %d passkeys after the offer, want 2", n)
	}
	if n := fb.count("#offer-here-card"); n != 0 {
		t.Error("the offer is still shown after creating a passkey here")
	}
	if !fb.hasDeviceCookie(s) {
		t.Error("no device cookie after the offer's passkey")
	}

	// On the way to an application: the offer, and "Not now" lands at the application.
	rp := startRelyingParty(t, s, "")
	cb := b.newIsolatedTab()
	rp.startSignIn(cb)
	cb.click("#tap-link")
	cb.waitVisible("#tap-form")
	cb.typeInto("#tap-username", alice.UserPrincipalName)
	cb.typeInto("#tap-pass", issuePass(t, s, alice))
	cb.click("#tap-submit")
	cb.waitJS("the offer on the way to the application", `document.readyState === "complete" && !!document.querySelector("#offer-here")`)
	if href := cb.attr("#offer-not-now", "href"); !strings.HasPrefix(href, "/oidc/login?authRequestID=") {
		t.Errorf("Not now leads to %q, want the application's way back", href)
	}
	atWidths(t, cb, "offer-to-app", nil)
	cb.click("#offer-not-now")
	if c := rp.signedIn(cb); c.PreferredUsername != alice.UserPrincipalName {
		t.Errorf("the application signed in %q", c.PreferredUsername)
	}
}

// TestBrowserLostYourPhone: the sign-in page's "Lost your phone?" leads to /recover, whose two
// questions lead to the path that fits each answer, with JavaScript or without.
func TestBrowserLostYourPhone(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	b.navigate(s.URL + "/signin")
	b.waitVisible("#lost-phone")
	atWidths(t, b, "signin-lost-phone", nil)
	b.click("#lost-phone")
	b.waitPage("/recover", "#recover-form")
	atWidths(t, b, "recover-questions", nil)
	for _, tc := range []struct {
		phone, laptop, shows, link string
	}{
		{"#phone-yes", "", "#recover-old-phone", ""},
		{"#phone-no", "#laptop-yes", "#recover-laptop", "#recover-new-phone"},
		{"#phone-no", "#laptop-no", "#recover-nothing", "#recover-verify"},
	} {
		b.navigate(s.URL + "/recover")
		b.waitVisible("#recover-form")
		b.click(tc.phone)
		if tc.laptop != "" {
			b.click(tc.laptop)
		}
		b.click("#recover-submit")
		b.waitJS("the answer "+tc.shows, `location.pathname === "/recover" && document.readyState === "complete" && !!document.querySelector(`+js(tc.shows)+`)`)
		if n := b.count("#recover-old-phone, #recover-laptop, #recover-nothing"); n != 1 {
			t.Errorf("%s: %d paths shown, want 1", tc.shows, n)
		}
		switch tc.link {
		case "#recover-new-phone":
			if got := b.attr(tc.link, "href"); got != "/my/security-info#new-phone" {
				t.Errorf("the laptop path links to %q", got)
			}
		case "#recover-verify":
			if got := b.attr(tc.link, "href"); got != "/recover/verify" {
				t.Errorf("the identity path links to %q", got)
			}
		}
		atWidths(t, b, "recover"+strings.ReplaceAll(tc.shows, "#recover", ""), nil)
	}
}

// phoneAcrossDevices is a phone reached across devices ("hybrid", cable in the DevTools
// protocol): the browser reports its credentials as cross-platform.
func phoneAcrossDevices() webauthn.VirtualAuthenticatorOptions {
	o := synced()
	o.Transport = webauthn.AuthenticatorTransportCable
	return o
}

// TestBrowserOfferAfterPhoneSignIn: Alice's passkey is on her phone. Signing in to an application
// on a laptop with that phone (across devices), the sign-in page brings her to the offer of a
// passkey on the laptop, and "Not now" lands at the application; the laptop gets no device cookie.
func TestBrowserOfferAfterPhoneSignIn(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	alice, pass := newUser(t, s, "alice@example.com", "Alice Example")
	phone := b.addAuthenticator(phoneAcrossDevices())
	b.signInWithTAP(s, alice.UserPrincipalName, pass)
	b.addPasskey()
	pks := s.passkeys(t, alice.UserPrincipalName)
	if len(pks) != 1 || !slices.Contains(pks[0].Transports, "hybrid") {
		t.Fatalf("the phone's passkey: %+v, want one with the hybrid transport", pks)
	}
	if b.hasDeviceCookie(s) {
		t.Error("registering a passkey on a phone across devices marked the laptop")
	}
	creds := b.credentials(phone)

	rp := startRelyingParty(t, s, "")
	lb := b.newIsolatedTab()
	lphone := lb.addAuthenticator(phoneAcrossDevices())
	lb.importCredential(lphone, creds[0])
	rp.startSignIn(lb)
	lb.typeInto("#username", alice.UserPrincipalName)
	lb.click("#passkey-signin")
	lb.waitJS("the offer after a sign-in with the phone", `location.pathname === "/signin/offer" && document.readyState === "complete" && !!document.querySelector("#offer-here")`)
	if lb.hasDeviceCookie(s) {
		t.Error("a sign-in with a phone across devices marked the laptop")
	}
	lb.click("#offer-not-now")
	if c := rp.signedIn(lb); c.PreferredUsername != alice.UserPrincipalName {
		t.Errorf("the application signed in %q", c.PreferredUsername)
	}
}

// notNow waits for the offer of a passkey on this device, shown after a pass sign-in on the way
// to an application, and continues with "Not now".
func (b *browser) notNow() {
	b.t.Helper()
	b.waitJS("the offer of a passkey on this device", `document.readyState === "complete" && !!document.querySelector("#offer-not-now")`)
	b.click("#offer-not-now")
}
