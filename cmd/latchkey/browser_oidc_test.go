package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
)

// relyingParty is a web application that signs people in through Latchkey with go-oidc and
// x/oauth2, unchanged: /login starts the code flow with PKCE and a nonce; /callback exchanges
// the code, verifies the ID token against the provider's JWKS and shows a page with the claims.
type relyingParty struct {
	t        *testing.T
	srv      *httptest.Server
	cfg      *oauth2.Config
	verifier *gooidc.IDTokenVerifier
	clientID string

	mu      sync.Mutex
	pending map[string]string // state → PKCE verifier
	claims  chan idClaims
}

// startRelyingParty registers a public application in s and serves it. acrValues, when not
// empty, is sent as acr_values.
func startRelyingParty(t *testing.T, s *testServer, acrValues string) *relyingParty {
	t.Helper()
	ctx := context.Background()
	rp := &relyingParty{t: t, pending: map[string]string{}, claims: make(chan idClaims, 1)}
	rp.srv = httptest.NewServer(http.HandlerFunc(rp.serve))
	t.Cleanup(rp.srv.Close)
	cl, _, err := oidc.NewClient("Intranet", []string{rp.srv.URL + "/callback"}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.CreateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	rp.clientID = cl.ID
	provider, err := gooidc.NewProvider(ctx, s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	if acrValues != "" {
		ep.AuthURL += "?acr_values=" + acrValues
	}
	rp.cfg = &oauth2.Config{ClientID: cl.ID, Endpoint: ep, RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{gooidc.ScopeOpenID, "profile"}}
	rp.verifier = provider.Verifier(&gooidc.Config{ClientID: cl.ID})
	return rp
}

func (rp *relyingParty) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/login":
		state, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		rp.mu.Lock()
		rp.pending[state] = verifier
		rp.mu.Unlock()
		http.Redirect(w, r, rp.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n-"+state)), http.StatusFound)
	case "/callback":
		q := r.URL.Query()
		rp.mu.Lock()
		verifier, ok := rp.pending[q.Get("state")]
		delete(rp.pending, q.Get("state"))
		rp.mu.Unlock()
		if !ok || q.Get("code") == "" {
			http.Error(w, "bad callback: "+q.Encode(), http.StatusBadRequest)
			return
		}
		tok, err := rp.cfg.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := rp.verifier.Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, "verify ID token: "+err.Error(), http.StatusBadGateway)
			return
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil || c.Nonce != "n-"+q.Get("state") {
			http.Error(w, fmt.Sprintf("claims %v, nonce %q", err, c.Nonce), http.StatusBadGateway)
			return
		}
		rp.claims <- c
		fmt.Fprintf(w, `<!doctype html><title>Intranet</title><p id="rp-signed-in">Signed in as %s</p>`, c.PreferredUsername)
	default:
		http.NotFound(w, r)
	}
}

// signedIn waits for the application's signed-in page and returns the ID token's claims.
func (rp *relyingParty) signedIn(b *browser) idClaims {
	rp.t.Helper()
	b.waitJS("the application's signed-in page", `location.href.startsWith(`+js(rp.srv.URL)+`) && !!document.querySelector("#rp-signed-in")`)
	select {
	case c := <-rp.claims:
		return c
	case <-time.After(5 * time.Second):
		rp.t.Fatalf("the application's page is shown but it verified no ID token%s", b.where())
	}
	return idClaims{}
}

// startSignIn opens the application, which sends the browser to Latchkey's sign-in page.
func (rp *relyingParty) startSignIn(b *browser) {
	rp.t.Helper()
	b.navigate(rp.srv.URL + "/login")
	b.waitJS("Latchkey's sign-in page", `location.pathname === "/signin" && document.readyState === "complete" && new URLSearchParams(location.search).get("next").startsWith("/oidc/login?authRequestID=") && !!document.querySelector("#passkey-signin")`)
}

func checkAssurance(t *testing.T, what string, c idClaims, acr string, amr ...string) {
	t.Helper()
	slices.Sort(amr)
	got := slices.Clone(c.Amr)
	slices.Sort(got)
	if c.Acr != acr || !slices.Equal(got, amr) {
		t.Errorf("%s: ID token acr %q amr %v, want acr %q amr %v", what, c.Acr, c.Amr, acr, amr)
	}
}

// TestBrowserOIDCAssurance signs people into an application through headless Chromium: with a
// temporary access pass (acr AAL1, amr otp), a device-bound passkey (phr; pop hwk user mfa), a
// synced one (phr; pop swk user mfa) and password + TOTP (AAL2; pwd otp mfa), each ID token
// verified by go-oidc against the JWKS. Then a
// report-only policy that would block Linux browsers records reportOnlyFailure, with the platform
// read from Chromium's UA client hints, and lets the person in; switched on, it blocks.
func TestBrowserOIDCAssurance(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	rp := startRelyingParty(t, s, "")
	dana, pass := newUser(t, s, "dana@example.com", "Dana Ortiz")

	// A new hire with a temporary access pass, coming from the application.
	b := startBrowser(t)
	rp.startSignIn(b)
	b.click("#tap-link")
	b.waitPage("/signin/tap", "#tap-form")
	b.typeInto("#tap-username", dana.UserPrincipalName)
	b.typeInto("#tap-pass", pass)
	b.click("#tap-submit")
	b.notNow() // the offer of a passkey on this device comes first
	checkAssurance(t, "temporary access pass", rp.signedIn(b), policy.ACRAAL1, "otp")

	// Still in the pass session, Dana adds a device-bound passkey, signs out, and signs in to the
	// application with it.
	b.navigate(s.URL + "/my/security-info")
	signInWithPasskeyAgain := addPasskeyAndSignOut(b, deviceBound())
	rp.startSignIn(b)
	signInWithPasskeyAgain()
	checkAssurance(t, "device-bound passkey", rp.signedIn(b), policy.ACRPhishingResistant, "hwk", "mfa", "pop", "user")

	// Erin, in a browser of her own, uses a synced passkey.
	erin, erinPass := newUser(t, s, "erin@example.com", "Erin Park")
	e := b.newIsolatedTab()
	e.signInWithTAP(s, erin.UserPrincipalName, erinPass)
	erinSignsIn := addPasskeyAndSignOut(e, synced())
	rp.startSignIn(e)
	erinSignsIn()
	checkAssurance(t, "synced passkey", rp.signedIn(e), policy.ACRPhishingResistant, "mfa", "pop", "swk", "user")

	// Frank, still on a password during the migration, signs in with password + authenticator
	// app (AAL2; pwd otp mfa), passing the passkey nudge with "Not now".
	signInWithPasswordAndTOTP(t, s, rp, b.newIsolatedTab())

	// The sign-in log has the application's sign-ins with acr, amr and the platform from the
	// client hints (headless Chromium on Linux).
	events, err := s.Store.ListSignInsFiltered(ctx, latchkey.SignInFilter{AppID: rp.clientID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 {
		t.Fatalf("%d sign-in events for the application, want 4: %+v", len(events), events)
	}
	if e := events[0]; e.Method != "password+totp" || e.ACR != policy.ACRAAL2 || e.Result != latchkey.SignInSuccess {
		t.Errorf("newest event %+v, want Frank's password + TOTP sign-in at AAL2", e)
	}
	if e := events[1]; e.UserID != erin.ID || e.Result != latchkey.SignInSuccess || e.ACR != policy.ACRPhishingResistant ||
		e.PasskeyKind != latchkey.KindSynced || e.Platform != policy.PlatformLinux {
		t.Errorf("newest event %+v, want Erin's synced passkey sign-in, phr, on linux", e)
	}

	// Report-only: "Block Linux browsers" would block, records reportOnlyFailure, and does not.
	block := policy.ConditionalAccessPolicy{ID: "block-linux", Name: "Block Linux browsers", State: policy.CAStateReportOnly,
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: []string{s.user(t, "admin").ID}},
		Applications: policy.Applications{IncludeApplications: []string{rp.clientID}},
		Conditions: policy.Conditions{Platforms: policy.Platforms{IncludePlatforms: []string{policy.PlatformLinux}},
			ClientTypes: []string{policy.ClientBrowser}},
		Grant: policy.Grant{Block: true}}
	cfg := &policy.ConditionalAccessConfig{Policies: []policy.ConditionalAccessPolicy{block}}
	if err := s.Policies.PutConditionalAccess(ctx, latchkey.SystemActor, cfg); err != nil {
		t.Fatal(err)
	}
	// Erin is still signed in: going to the application again signs her in without asking
	// (single sign-on), and conditional access is evaluated again.
	e.navigate(rp.srv.URL + "/login")
	rp.signedIn(e)
	last := newestAppSignIn(t, s, rp.clientID)
	if last.Result != latchkey.SignInSuccess || len(last.ConditionalAccess) != 1 ||
		last.ConditionalAccess[0].PolicyID != "block-linux" || last.ConditionalAccess[0].Result != policy.ResultReportOnlyFailure {
		t.Fatalf("report-only sign-in recorded %+v, want success with block-linux reportOnlyFailure", last)
	}

	// Switched on, it blocks, and the person is told in plain words.
	cfg.Policies[0].State = policy.CAStateEnabled
	if err := s.Policies.PutConditionalAccess(ctx, latchkey.SystemActor, cfg); err != nil {
		t.Fatal(err)
	}
	e.navigate(rp.srv.URL + "/login")
	e.waitJS("the blocked page", `!!document.querySelector('#page-error[data-code="blocked_by_policy"]')`)
	if msg := e.text("#page-error"); !strings.Contains(msg, "Ask IT") {
		t.Errorf("blocked page says %q, want it to say what to do", msg)
	}
	last = newestAppSignIn(t, s, rp.clientID)
	if last.Result != latchkey.SignInFailure || last.ErrorCode != policy.CodeBlockedByPolicy ||
		last.ConditionalAccess[0].Result != policy.ResultFailure || !strings.Contains(last.Detail, "Block Linux browsers") {
		t.Fatalf("enforced sign-in recorded %+v, want a failure blocked_by_policy naming the policy", last)
	}
	select {
	case c := <-rp.claims:
		t.Fatalf("the application got an ID token %+v although the policy blocks", c)
	default:
	}
}

// signInWithPasswordAndTOTP turns passwords and authenticator apps on for everyone, has a new
// user set both up after a pass sign-in in tab f, and signs them into the application with them.
func signInWithPasswordAndTOTP(t *testing.T, s *testServer, rp *relyingParty, f *browser) {
	t.Helper()
	ctx := context.Background()
	mp, err := s.Auth.MethodsPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mp.Password.State, mp.TOTP.State = policy.StateEnabled, policy.StateEnabled
	if err := s.Policies.SetMethodsPolicy(ctx, latchkey.SystemActor, mp); err != nil {
		t.Fatal(err)
	}
	frank, pass := newUser(t, s, "frank@example.com", "Frank Hale")
	const password = "marmalade quartz lantern 7"
	f.signInWithTAP(s, frank.UserPrincipalName, pass)
	f.waitVisible("#password-card")
	f.typeInto("#new-password", password)
	f.typeInto("#confirm-password", password)
	f.click("#password-save")
	f.waitPage("/my/security-info", "#password-notice")
	f.click("#totp-setup-start")
	f.waitPage("/my/security-info/totp", "#totp-confirm-form")
	secret := f.attr("#totp-secret", "data-secret")
	n0 := time.Now().Unix() / 30
	f.typeInto("#totp-confirm-code", totpCodeAt(t, secret, n0))
	f.click("#totp-confirm")
	f.waitPage("/my/security-info", "#totp-notice")
	f.signOut()
	if err := s.Store.DeleteAccessPass(ctx, frank.ID); err != nil { // set up: IT removes the pass
		t.Fatal(err)
	}

	rp.startSignIn(f)
	f.click("#other-ways")
	f.waitPage("/signin/methods", "#methods-form")
	f.typeInto("#methods-username-input", frank.UserPrincipalName)
	f.click("#methods-submit")
	f.waitPage("/signin/methods", "#method-choices")
	f.click(`a[data-method="password"]`)
	f.waitPage("/signin/password", "#password-form")
	f.typeInto("#password-input", password)
	f.click("#password-submit")
	f.waitPage("/signin/password", "#totp-form")
	f.typeInto("#totp-code", totpCodeAt(t, secret, n0+1)) // the confirmation used step n0
	f.click("#totp-submit")
	f.waitPage("/signin/nudge", "#nudge-not-now")
	f.click("#nudge-not-now")
	checkAssurance(t, "password + authenticator app", rp.signedIn(f), policy.ACRAAL2, "mfa", "otp", "pwd")
}

// addPasskeyAndSignOut adds a passkey on an authenticator with options o from the security-info
// page, takes the authenticator away and signs out, so that the sign-in page's autofill cannot
// sign in by itself. The function it returns attaches an authenticator holding that passkey to
// the sign-in page now shown and clicks the passkey button.
func addPasskeyAndSignOut(b *browser, o webauthn.VirtualAuthenticatorOptions) func() {
	b.t.Helper()
	id := b.addAuthenticator(o)
	b.addPasskey()
	creds := b.credentials(id)
	if len(creds) != 1 {
		b.t.Fatalf("authenticator holds %d credentials, want 1", len(creds))
	}
	b.removeAuthenticator(id)
	b.signOut()
	return func() {
		b.t.Helper()
		id := b.addAuthenticator(o)
		b.importCredential(id, creds[0])
		b.click("#passkey-signin")
		// Take it away again once used, for the next sign-in page.
		b.waitJS("leaving the sign-in page", `location.pathname !== "/signin"`)
		b.removeAuthenticator(id)
	}
}

func newestAppSignIn(t *testing.T, s *testServer, app string) *latchkey.SignInEvent {
	t.Helper()
	events, err := s.Store.ListSignInsFiltered(context.Background(), latchkey.SignInFilter{AppID: app, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("newest sign-in of %s: %v %v", app, events, err)
	}
	return events[0]
}
