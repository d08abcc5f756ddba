package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestBrowserStolenPhone: Alice's phone holds her passkey and is signed in with it when it is
// stolen. An admin opens Alice's page, removes that passkey through the "this phone was stolen"
// confirmation, and the phone's session ends and the passkey can no longer sign in. Then the admin
// revokes a pass that went to the wrong person, and it no longer signs in. With
// LATCHKEY_SCREENSHOT_DIR set, the pages are saved at 1280 and 390 px.
func TestBrowserStolenPhone(t *testing.T) {
	s := startServer(t)
	b := startBrowser(t)
	alice, pass := newUser(t, s, "alice@example.com", "Alice Liddell")

	// Alice's phone: a passkey made after a pass sign-in, then a sign-in with that passkey.
	phone := b.newIsolatedTab()
	phone.signInWithTAP(s, alice.UserPrincipalName, pass)
	key := phone.addAuthenticator(deviceBound())
	phone.addPasskey()
	creds := phone.credentials(key)
	if len(creds) != 1 {
		t.Fatalf("the phone holds %d credentials, want 1", len(creds))
	}
	phone.removeAuthenticator(key)
	phone.signOut()
	key = phone.addAuthenticator(deviceBound())
	phone.importCredential(key, creds[0])
	phone.click("#passkey-signin")
	phone.waitPage("/my/security-info", "#signed-in-as")
	pks := s.passkeys(t, alice.UserPrincipalName)
	if len(pks) != 1 {
		t.Fatalf("alice has %d passkeys, want 1", len(pks))
	}
	if sess := sessionOf(t, s, phone); sess == nil || sess.PasskeyID != pks[0].ID {
		t.Fatalf("the phone's session %+v is not made with its passkey", sess)
	}

	admin := b.newIsolatedTab()
	admin.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	page := s.URL + "/admin/users/" + alice.ID
	admin.navigate(page)
	admin.waitPage("/admin/users/"+alice.ID, "#remove-passkeys")
	shootWidths(t, admin, "methods-person")
	admin.click(`#remove-passkeys a[data-passkey-id="` + pks[0].ID + `"]`)
	admin.waitPage("/admin/users/"+alice.ID+"/passkeys/"+pks[0].ID+"/remove", "#confirm-form")
	if got := admin.text("#confirm-form label"); !strings.Contains(got, "stolen") {
		t.Errorf("the confirmation box says %q, want the stolen-phone wording", got)
	}
	if got := admin.text("main"); !strings.Contains(got, "only passkey") || !strings.Contains(got, "signed out") {
		t.Errorf("the confirmation does not say what will happen: %q", got)
	}
	shootWidths(t, admin, "methods-confirm-passkey")
	admin.click(`#confirm-form input[name="confirm"]`)
	admin.click("#confirm-submit")
	admin.waitPage("/admin/users/"+alice.ID, "#methods-notice")
	if n := len(s.passkeys(t, alice.UserPrincipalName)); n != 0 {
		t.Fatalf("alice still has %d passkeys", n)
	}

	// The phone is signed out on its next request, and its passkey no longer signs in.
	phone.navigate(s.URL + "/my/security-info")
	phone.waitJS("the sign-in page", `location.pathname === "/signin" && !!document.querySelector("#signin-form")`)
	phone.click("#passkey-signin")
	phone.waitVisible("#signin-error")
	if got := phone.text("#signin-error"); got == "" || strings.Contains(got, "`") {
		t.Errorf("the removed passkey's refusal says %q", got)
	}
	if phone.location() != s.URL+"/signin" && !strings.HasPrefix(phone.location(), s.URL+"/signin?") {
		t.Errorf("the removed passkey signed in: at %s", phone.location())
	}
	if sess := liveSession(s, phone); sess != nil {
		t.Errorf("the phone has a session again: %+v", sess)
	}

	// A pass that went to the wrong person: revoked on the page, it no longer signs in.
	wrong, _, err := s.Auth.IssueAccessPass(context.Background(), alice.ID, signin.IssueOptions{LifetimeMinutes: 60, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	admin.navigate(page)
	admin.waitPage("/admin/users/"+alice.ID, "#revoke-tap")
	admin.click("#revoke-tap")
	admin.waitPage("/admin/users/"+alice.ID+"/tap/revoke", "#confirm-form")
	shootWidths(t, admin, "methods-confirm-tap")
	admin.click(`#confirm-form input[name="confirm"]`)
	admin.click("#confirm-submit")
	admin.waitPage("/admin/users/"+alice.ID, "#methods-notice")
	stranger := b.newIsolatedTab()
	stranger.navigate(s.URL + "/signin/tap")
	stranger.waitVisible("#tap-form")
	stranger.typeInto("#tap-username", alice.UserPrincipalName)
	stranger.typeInto("#tap-pass", wrong)
	stranger.click("#tap-submit")
	stranger.waitVisible("#page-error")
	if sess := liveSession(s, stranger); sess != nil {
		t.Errorf("the revoked pass signed in: %+v", sess)
	}

	admin.navigate(page + "/signout")
	admin.waitPage("/admin/users/"+alice.ID+"/signout", "#confirm-form")
	shootWidths(t, admin, "methods-confirm-signout")
}

// shootWidths lays the tab out at 1280 and 390 px, checks nothing is wider than the window, and
// saves screenshots named name-WIDTH when LATCHKEY_SCREENSHOT_DIR is set; it leaves 1280 px.
func shootWidths(t *testing.T, b *browser, name string) {
	t.Helper()
	for _, width := range []int64{390, 1280} {
		b.step("set the window to "+strconv.FormatInt(width, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		if over := eval[bool](b, `document.documentElement.scrollWidth > document.documentElement.clientWidth + 1 &&
			[...document.querySelectorAll("#methods, #confirm-form, #confirm-summary")].some(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)`); over {
			t.Errorf("%s at %d px: the methods actions are wider than the window", name, width)
		}
		eval[bool](b, `(document.querySelector("#methods") || document.querySelector("main")).scrollIntoView(), true`)
		screenshot(t, b, name+"-"+strconv.FormatInt(width, 10))
	}
}

// liveSession returns the live session of the tab's session cookie; nil when it has none, or
// when the session it names has ended.
func liveSession(s *testServer, b *browser) *latchkey.Session {
	for _, c := range b.cookies(s.URL + "/") {
		if c.Name == "latchkey_session" && c.Value != "" {
			if sess, err := s.Store.FindSession(context.Background(), signin.SessionID(c.Value), time.Now()); err == nil {
				return sess
			}
		}
	}
	return nil
}
