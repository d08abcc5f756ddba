package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/oidc"
)

// TestBrowserOIDCStolenCodeAttack is the attack against a person in Chromium: an
// attacker's Go client with no cookies starts an authorization request for a public application
// with its own PKCE challenge and polls /authorize/callback, while the signed-in person opens the
// sign-in link. The person sees the plain refusal, the attacker never gets a code, and the
// person's own sign-in to the application still works.
func TestBrowserOIDCStolenCodeAttack(t *testing.T) {
	s := startServer(t)
	rp := startRelyingParty(t, s, "")
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)

	a := newAttacker(t, s.URL, nil)
	verifier := oauth2.GenerateVerifier()
	id := a.authorize(rp.clientID, rp.srv.URL+"/callback", oauth2.S256ChallengeFromVerifier(verifier))
	stop := a.keepPolling(id)
	b.navigate(s.URL + "/oidc/login?authRequestID=" + url.QueryEscape(id))
	b.waitJS("the refusal page", `!!document.querySelector('#page-error[data-code="auth_request_other_browser"]')`)
	a.poll(id)
	stop()
	if msg := b.text("#page-error"); !strings.Contains(msg, "This sign-in was started in another browser or window that is not this one. Go back to the application and start again.") {
		t.Errorf("the refusal says %q", msg)
	}
	a.noCodes(rp.cfg, verifier, "auth_request_other_browser")
	select {
	case c := <-rp.claims:
		t.Fatalf("the application got an ID token %+v from the attacker's request", c)
	default:
	}

	b.navigate(rp.srv.URL + "/login")
	checkAssurance(t, "the person's own sign-in after the attack", rp.signedIn(b), "urn:nist:sp800-63b:aal1", "otp")
}

// TestBrowserOIDCTwoApplicationsInTwoTabs: two applications send one browser to sign in, in two
// tabs, before the person has signed in; the person signs in in the second tab, and the first
// completes too.
func TestBrowserOIDCTwoApplicationsInTwoTabs(t *testing.T) {
	s := startServer(t)
	wiki, mail := startRelyingParty(t, s, ""), startRelyingParty(t, s, "")
	b := startBrowser(t)
	ctx, cancel := chromedp.NewContext(b.ctx) // a second tab of the same browser: same cookies
	t.Cleanup(cancel)
	openTab(ctx, t, cancel)
	b2 := &browser{t: t, ctx: ctx}

	wiki.startSignIn(b)
	mail.startSignIn(b2)
	b2.click("#tap-link")
	b2.waitPage("/signin/tap", "#tap-form")
	b2.typeInto("#tap-username", "admin")
	b2.typeInto("#tap-pass", s.Pass)
	b2.click("#tap-submit")
	b2.notNow() // the offer of a passkey on this device comes first
	mail.signedIn(b2)

	next := eval[string](b, `new URLSearchParams(location.search).get("next")`)
	b.navigate(s.URL + next)
	wiki.signedIn(b)
}

// TestBrowserOIDCUnmetRequirementsBackToApp: an application asks for acr_values=phr; a new hire
// with nothing but a temporary access pass gets the plain page, which now has "Back to
// Intranet"; following it lands on the application's registered redirect URI with
// error=unmet_authentication_requirements and the application's own state. The way back works
// only in the browser that started the request.
func TestBrowserOIDCUnmetRequirementsBackToApp(t *testing.T) {
	s := startServer(t)
	rp := startRelyingParty(t, s, "phr")
	b := startBrowser(t)
	rp.startSignIn(b)
	rp.mu.Lock()
	var state string
	for st := range rp.pending {
		state = st
	}
	rp.mu.Unlock()
	b.click("#tap-link")
	b.waitPage("/signin/tap", "#tap-form")
	b.typeInto("#tap-username", "admin")
	b.typeInto("#tap-pass", s.Pass)
	b.click("#tap-submit")
	b.notNow() // the offer of a passkey on this device comes first
	b.waitJS("the refusal page", `!!document.querySelector('#page-error[data-code="`+oidc.CodeStrengthNotMet+`"]') && !!document.querySelector("#back-to-app")`)
	if got := b.text("#back-to-app"); got != "Back to Intranet" {
		t.Errorf("the way back says %q, want \"Back to Intranet\"", got)
	}

	// Someone else's browser cannot use the way back.
	back := b.attr("#back-to-app", "href")
	a := newAttacker(t, s.URL, nil)
	resp, err := a.http.Get(s.URL + back)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != 403 || resp.Header.Get("Location") != "" || !strings.Contains(body, `data-code="auth_request_other_browser"`) {
		t.Fatalf("the way back from another browser: %d Location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	b.click("#back-to-app")
	b.waitJS("the application's redirect URI", `location.href.startsWith(`+js(rp.srv.URL+"/callback?")+`)`)
	q, err := url.ParseQuery(strings.SplitN(b.location(), "?", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("error") != "unmet_authentication_requirements" || q.Get("state") != state || q.Get("code") != "" {
		t.Fatalf("the application got %v, want error=unmet_authentication_requirements with state %q", q, state)
	}
}

// TestBrowserOIDCLogoutAsks: an application sends the browser to /end_session without an
// id_token_hint; Chromium shows the question, the person clicks "Sign out", and lands on the
// application's registered post-logout address with its state, signed out of Latchkey: the next
// sign-in at an application asks for the person again.
func TestBrowserOIDCLogoutAsks(t *testing.T) {
	s := startServer(t)
	rp := startRelyingParty(t, s, "")
	cl, _, err := oidc.NewClient("Wiki", []string{rp.srv.URL + "/callback"}, []string{rp.srv.URL + "/signed-out"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.CreateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t)
	b.signInWithTAP(s, "admin", s.Pass)
	b.navigate(rp.srv.URL + "/login")
	rp.signedIn(b)

	b.navigate(s.URL + "/end_session?client_id=" + cl.ID + "&post_logout_redirect_uri=" + url.QueryEscape(rp.srv.URL+"/signed-out") + "&state=bye")
	b.waitPage("/end_session", "#end-session-form")
	if sessionOf(t, s, b) == nil {
		t.Fatal("asking signed the person out")
	}
	b.click("#end-session-confirm")
	b.waitJS("the application's post-logout address", `location.href === `+js(rp.srv.URL+"/signed-out?state=bye"))
	if sess := sessionOf(t, s, b); sess != nil {
		t.Fatalf("still signed in to Latchkey after signing out: %+v", sess)
	}
	rp.startSignIn(b)
}
