package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/httpedge"
	"github.com/latchkey/latchkey/internal/signin"
)

// hasDeviceCookie reports whether c's jar holds the device cookie.
func (c *client) hasDeviceCookie() bool {
	for _, ck := range c.jar.Cookies(c.h.originURL()) {
		if ck.Name == httpedge.DeviceCookie {
			return true
		}
	}
	return false
}

// withAttachment rewrites a WebAuthn response JSON as a browser reports a credential with the
// given authenticatorAttachment (and, for a registration, transports).
func withAttachment(t *testing.T, body, attachment string, transports ...string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m["authenticatorAttachment"] = attachment
	if transports != nil {
		m["response"].(map[string]any)["transports"] = transports
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOfferPasskeyHere: registering a passkey on a browser sets the device cookie (random id,
// HttpOnly, Secure, SameSite=Lax). A pass sign-in on a fresh browser by someone who has a passkey
// elsewhere still lands on My Security Info, which offers a passkey here; on the way to an
// application the offer takes the "Signed in" page's place and its "Not now" is the link to the
// application. A browser with the cookie is not offered one. A passkey sign-in with a phone
// across devices is answered with offerPasskeyHere and sets no cookie; one with this device's
// passkey sets it and offers nothing.
func TestOfferPasskeyHere(t *testing.T) {
	h := newHarness(t)
	laptop, u := h.signedInClient("alice@example.com", false)

	// The phone: registered across devices (hybrid), so this browser is not marked.
	phone := h.newDevice()
	r := laptop.post("/api/v1/webauthn/registration/verify", withAttachment(t, phone.attest(t, laptop.registrationOptions()), signin.AttachmentCrossPlatform, "hybrid", "internal"))
	if r.status != http.StatusOK {
		t.Fatalf("register the phone: %d %s", r.status, r.body)
	}
	if laptop.hasDeviceCookie() {
		t.Error("a passkey registered on a phone across devices marked the laptop's browser")
	}
	// This laptop's own passkey marks it.
	own := h.newDevice()
	r = laptop.post("/api/v1/webauthn/registration/verify", withAttachment(t, own.attest(t, laptop.registrationOptions()), signin.AttachmentPlatform, "internal"))
	if r.status != http.StatusOK {
		t.Fatalf("register the laptop's passkey: %d %s", r.status, r.body)
	}
	var dc *http.Cookie
	for _, ck := range r.resp.Cookies() {
		if ck.Name == httpedge.DeviceCookie {
			dc = ck
		}
	}
	if dc == nil || !dc.HttpOnly || !dc.Secure || dc.SameSite != http.SameSiteLaxMode || len(dc.Value) < 32 || dc.MaxAge < 300*24*3600 {
		t.Fatalf("device cookie after registering here: %+v", dc)
	}
	if strings.Contains(string(laptop.get("/my/security-info").body), `id="offer-here-card"`) {
		t.Error("My Security Info offers a passkey on the browser where one was just registered")
	}

	// A pass sign-in on a fresh browser lands where it does today, and the page offers.
	fresh := h.newClient()
	pass := h.issueTAP(u.ID, signin.IssueOptions{})
	r = fresh.postForm("/signin/tap", url.Values{"username": {u.UserPrincipalName}, "tap": {pass}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/my/security-info" {
		t.Fatalf("pass sign-in: %d to %q, want 303 to /my/security-info", r.status, r.header.Get("Location"))
	}
	page := string(fresh.get("/my/security-info").body)
	if !strings.Contains(page, `id="offer-here-card"`) || !strings.Contains(page, `id="add-passkey-here"`) {
		t.Errorf("My Security Info after a pass sign-in on a fresh browser offers no passkey here: %.2000s", page)
	}

	// On the way to an application: the offer, whose "Not now" continues to it.
	next := "/oidc/authorize/callback?id=abc"
	toApp := h.newClient()
	pass = h.issueTAP(u.ID, signin.IssueOptions{})
	r = toApp.postForm("/signin/tap", url.Values{"username": {u.UserPrincipalName}, "tap": {pass}, "next": {next}})
	body := string(r.body)
	if r.status != http.StatusOK || !strings.Contains(body, `id="offer-here"`) ||
		!strings.Contains(body, `<a id="offer-not-now" href="/oidc/authorize/callback?id=abc">Not now, continue to the application</a>`) ||
		!strings.Contains(body, `data-next="/oidc/authorize/callback?id=abc"`) {
		t.Errorf("pass sign-in on the way to an application: %d %.3000s", r.status, body)
	}
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("the offer moves on by itself")
	}

	// The browser with the cookie goes straight on, as before.
	pass = h.issueTAP(u.ID, signin.IssueOptions{})
	r = laptop.postForm("/signin/tap", url.Values{"username": {u.UserPrincipalName}, "tap": {pass}, "next": {next}})
	if body := string(r.body); r.status != http.StatusOK || strings.Contains(body, `id="offer-here"`) || !strings.Contains(body, `id="continue-link"`) {
		t.Errorf("pass sign-in on a known browser: %d %.2000s", r.status, body)
	}

	// Passkey sign-ins: the phone across devices offers, the laptop's own passkey does not.
	other := h.newClient()
	phone.cred.Counter = 1
	r = other.post("/api/v1/webauthn/authentication/verify", withAttachment(t, phone.assert(t, other.authenticationOptions("")), signin.AttachmentCrossPlatform))
	checkPasskeySignIn(t, r, u)
	if got := r.object(t)["offerPasskeyHere"]; got != true {
		t.Errorf("hybrid sign-in: offerPasskeyHere = %v, want true", got)
	}
	if other.hasDeviceCookie() {
		t.Error("a sign-in with a phone across devices marked this browser")
	}
	if r := other.get("/signin/offer?next=" + url.QueryEscape(next)); r.status != http.StatusOK || !strings.Contains(string(r.body), `id="offer-here"`) {
		t.Errorf("/signin/offer after a hybrid sign-in: %d %.1000s", r.status, r.body)
	}
	mine := h.newClient()
	own.cred.Counter = 1
	r = mine.post("/api/v1/webauthn/authentication/verify", withAttachment(t, own.assert(t, mine.authenticationOptions("")), signin.AttachmentPlatform))
	checkPasskeySignIn(t, r, u)
	if got := r.object(t)["offerPasskeyHere"]; got != false {
		t.Errorf("platform sign-in: offerPasskeyHere = %v, want false", got)
	}
	if !mine.hasDeviceCookie() {
		t.Error("a sign-in with this device's passkey did not mark the browser")
	}
	if r := mine.get("/signin/offer?next=" + url.QueryEscape(next)); strings.Contains(string(r.body), `id="offer-here"`) {
		t.Error("/signin/offer offers a passkey on a browser that has one")
	}
}
