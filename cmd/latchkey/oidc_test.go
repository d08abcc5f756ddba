package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/loadtest"
)

// oidcEnv is a running server, its bootstrap pass, a relying party's redirect URI (codes
// arrive on got) and the provider as go-oidc discovered it.
type oidcEnv struct {
	s                          *Serve
	data, pass, base, redirect string
	got                        chan url.Values
	provider                   *gooidc.Provider
}

// startOIDC starts the real server and a relying party's callback.
func startOIDC(t *testing.T) *oidcEnv {
	t.Helper()
	e := &oidcEnv{data: filepath.Join(t.TempDir(), "data"), got: make(chan url.Values, 1)}
	var out *bytes.Buffer
	e.s, out = startServe(t, "--data", e.data)
	m := bootstrapLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no bootstrap pass in %q", out.String())
	}
	e.pass, e.base = m[1], e.s.PublicURL
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			e.got <- r.URL.Query()
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(rp.Close)
	e.redirect = rp.URL + "/callback"
	var err error
	if e.provider, err = gooidc.NewProvider(context.Background(), e.base); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return e
}

// TestOIDCCodeFlowWithPKCE drives a real relying party (go-oidc + x/oauth2) through the
// authorization code flow with PKCE against the running server: sign-in with a TAP, code
// exchange, ID token verified against the JWKS, acr/amr, userinfo, and refresh token rotation.
func TestOIDCCodeFlowWithPKCE(t *testing.T) {
	e := startOIDC(t)
	data, pass, base, redirect, got, ctx := e.data, e.pass, e.base, e.redirect, e.got, context.Background()

	stdout, errOut, code := run(t, "app", "add", "Test RP", "--redirect-uri", redirect, "--public", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("app add: %d %s", code, errOut)
	}
	var app struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if err := json.Unmarshal([]byte(stdout), &app); err != nil || app.ClientID == "" || app.ClientSecret != "" {
		t.Fatalf("app add --json: %v %s", err, stdout)
	}
	stdout, _, _ = run(t, "app", "list", "--data", data)
	if !strings.Contains(stdout, app.ClientID) || !strings.Contains(stdout, "public") {
		t.Fatalf("app list:\n%s", stdout)
	}

	provider := e.provider
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	cfg := &oauth2.Config{ClientID: app.ClientID, Endpoint: ep, RedirectURL: redirect,
		Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess}}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}

	// Without PKCE a public client is refused.
	resp, err := browser.Get(cfg.AuthCodeURL("s0"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case q := <-got:
		if q.Get("error") == "" || q.Get("code") != "" {
			t.Fatalf("authorize without PKCE: %v", q)
		}
	default:
		t.Fatalf("authorize without PKCE did not answer the RP with an error (landed on %s)", resp.Request.URL)
	}

	tapSignIn := func() {
		req, _ := http.NewRequest("POST", base+"/api/v1/signin/tap", strings.NewReader(`{"username":"admin","tap":"`+pass+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		resp, err := browser.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("TAP sign-in: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	tok, claims, userID := codeFlow(t, ctx, base, provider, cfg, got, browser, tapSignIn)
	t.Logf("TAP: acr %s amr %v", claims.Acr, claims.Amr)
	if claims.PreferredUsername != "admin" {
		t.Fatalf("preferred_username %q", claims.PreferredUsername)
	}
	if !slices.Contains(claims.Amr, "otp") || slices.Contains(claims.Amr, "pop") || claims.Acr == "" || claims.Acr == "phr" || claims.Acr == "phrh" {
		t.Fatalf("TAP sign-in: acr %q amr %v", claims.Acr, claims.Amr)
	}

	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != userID {
		t.Fatalf("userinfo: %v %+v", err, ui)
	}

	// Refresh tokens rotate: the old one works once, and its reuse revokes the newer one too
	// (TestOIDCRefreshReuseRevokes).
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	old := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	tok2, err := cfg.TokenSource(ctx, old).Token()
	if err != nil || tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v %+v", err, tok2)
	}
	if _, err := cfg.TokenSource(ctx, old).Token(); err == nil {
		t.Fatal("an old refresh token worked again")
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("the rotated refresh token still works after the old one was reused")
	}

	// The JWKS publishes the signing key.
	resp, err = http.Get(base + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []struct{ Kid, Alg, Kty string }
	}
	json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "RS256" {
		t.Fatalf("jwks %+v", jwks)
	}

	// Passkeys: the TAP session registers a device-bound and a synced passkey (software
	// authenticators, no attestation); each then signs a fresh browser in through the flow.
	lc := loadtest.NewClient(base, nil)
	lc.HTTP = browser
	var last *loadtest.Authenticator
	for _, tc := range []struct {
		synced bool
		kind   string
	}{{false, "hwk"}, {true, "swk"}} {
		a, err := loadtest.NewAuthenticator(base, tc.synced)
		if err != nil {
			t.Fatal(err)
		}
		last = a
		if _, err := lc.Register(ctx, a); err != nil {
			t.Fatalf("register passkey (synced %v): %v", tc.synced, err)
		}
		jar, _ := cookiejar.New(nil)
		fresh := &http.Client{Jar: jar}
		pc := loadtest.NewClient(base, nil)
		pc.HTTP = fresh
		_, claims, _ := codeFlow(t, ctx, base, provider, cfg, got, fresh, func() {
			if err := pc.SignIn(ctx, a, "admin"); err != nil {
				t.Fatalf("passkey sign-in: %v", err)
			}
		})
		t.Logf("passkey (synced %v): acr %s amr %v", tc.synced, claims.Acr, claims.Amr)
		other := map[string]string{"hwk": "swk", "swk": "hwk"}[tc.kind]
		if !slices.Contains(claims.Amr, "pop") || !slices.Contains(claims.Amr, tc.kind) || slices.Contains(claims.Amr, other) ||
			slices.Contains(claims.Amr, "otp") {
			t.Fatalf("passkey (synced %v) sign-in: amr %v", tc.synced, claims.Amr)
		}
		// Not attested, so never phrh; with user verification, phr.
		if claims.Acr == "phrh" || (slices.Contains(claims.Amr, "user") && claims.Acr != "phr") {
			t.Fatalf("passkey (synced %v) sign-in: acr %q amr %v", tc.synced, claims.Acr, claims.Amr)
		}
	}

	// A confidential client authenticates with its secret.
	stdout, errOut, code = run(t, "app", "add", "Web app", "--redirect-uri", redirect, "--data", data, "--json")
	var web struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &web) != nil || web.ClientSecret == "" {
		t.Fatalf("app add (confidential): %d %s %s", code, stdout, errOut)
	}
	webCfg := *cfg
	webCfg.ClientID, webCfg.ClientSecret = web.ClientID, web.ClientSecret
	webCfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	jar2, _ := cookiejar.New(nil)
	fresh := &http.Client{Jar: jar2}
	pc := loadtest.NewClient(base, nil)
	pc.HTTP = fresh
	if _, _, sub := codeFlow(t, ctx, base, provider, &webCfg, got, fresh, func() {
		if err := pc.SignIn(ctx, last, "admin"); err != nil {
			t.Fatalf("passkey sign-in: %v", err)
		}
	}); sub != userID {
		t.Fatalf("confidential client: sub %q", sub)
	}
	bad := webCfg
	bad.ClientSecret = "wrong"
	if _, err := bad.TokenSource(ctx, &oauth2.Token{RefreshToken: "x", Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong client secret: %v", err)
	}

	if _, errOut, code = run(t, "app", "remove", app.ClientID, "--data", data); code != 0 {
		t.Fatalf("app remove: %s", errOut)
	}
}

// idClaims are the ID token claims the tests check.
type idClaims struct {
	Sub, Acr, Nonce   string
	Amr               []string
	PreferredUsername string `json:"preferred_username"`
}

// codeFlow runs one authorization code + PKCE flow in browser: /authorize, the sign-in page,
// signIn, the login route, the RP's callback, the exchange and the ID token's verification. It
// returns the tokens, the verified claims and the signed-in user's id.
func codeFlow(t *testing.T, ctx context.Context, base string, provider *gooidc.Provider, cfg *oauth2.Config, got chan url.Values,
	browser *http.Client, signIn func()) (*oauth2.Token, idClaims, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	// The browser goes to /authorize and lands on the sign-in page.
	resp, err := browser.Get(cfg.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-1")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/signin" {
		t.Fatalf("authorize landed on %d %s", resp.StatusCode, resp.Request.URL)
	}
	next := resp.Request.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/oidc/login?authRequestID=") {
		t.Fatalf("sign-in page next = %q", next)
	}

	// Sign in, then come back to the login route.
	signIn()
	resp, err = browser.Get(base + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	var meResp struct {
		User struct{ ID, UserPrincipalName string }
	}
	json.NewDecoder(resp.Body).Decode(&meResp)
	resp.Body.Close()
	me := meResp.User

	if resp, err = browser.Get(base + next); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var q url.Values
	select {
	case q = <-got:
	default:
		t.Fatalf("login route did not redirect to the RP: %d %s", resp.StatusCode, resp.Request.URL)
	}
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}

	// (A code works once: TestOIDCCodeReuseRevokes; trying it twice here would revoke tok.)
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != me.ID || me.ID == "" || claims.Nonce != "nonce-1" || claims.PreferredUsername != me.UserPrincipalName {
		t.Fatalf("ID token claims %+v, me %+v", claims, me)
	}

	return tok, claims, me.ID
}
