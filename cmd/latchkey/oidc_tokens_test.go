package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// Attacks on tokens, each performed literally against the running server with the relying
// party's own libraries (x/oauth2, go-oidc) or the requests an attacker would send.

// oidcApp registers an application with the CLI and returns its configuration (a confidential
// one authenticates with its secret in the Authorization header).
func (e *oidcEnv) oidcApp(t *testing.T, name string, public bool) *oauth2.Config {
	t.Helper()
	args := []string{"app", "add", name, "--redirect-uri", e.redirect, "--data", e.data, "--json"}
	if public {
		args = append(args, "--public")
	}
	stdout, errOut, code := run(t, args...)
	var app struct{ ClientID, ClientSecret string }
	if code != 0 || json.Unmarshal([]byte(stdout), &app) != nil || app.ClientID == "" {
		t.Fatalf("app add %s: %d %s %s", name, code, stdout, errOut)
	}
	ep := e.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if public {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, Endpoint: ep, RedirectURL: e.redirect,
		Scopes: []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}}
}

// browser returns a browser signed in as the admin with the bootstrap pass (single sign-on then
// completes every authorization request without asking). The pass works once: one per test.
func (e *oidcEnv) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", e.base+"/api/v1/signin/tap", strings.NewReader(`{"username":"admin","tap":"`+e.pass+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.base)
	resp, err := b.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("TAP sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	return b
}

// authorize sends the signed-in browser through /authorize (with PKCE and extra parameters)
// and returns what the application's callback received and the PKCE verifier.
func (e *oidcEnv) authorize(t *testing.T, cfg *oauth2.Config, browser *http.Client, extra ...oauth2.AuthCodeOption) (url.Values, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-1")}, extra...)
	resp, err := browser.Get(cfg.AuthCodeURL("state-1", opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case q := <-e.got:
		return q, verifier
	default:
		t.Fatalf("authorize did not reach the application: %d %s", resp.StatusCode, resp.Request.URL)
	}
	return nil, ""
}

// tokens runs the code flow and exchanges the code.
func (e *oidcEnv) tokens(t *testing.T, cfg *oauth2.Config, browser *http.Client) *oauth2.Token {
	t.Helper()
	q, verifier := e.authorize(t, cfg, browser)
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// postForm posts form to the server's path (with HTTP Basic credentials when user is not
// empty) and returns the status and the JSON body.
func (e *oidcEnv) postForm(t *testing.T, path, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %q", req.Method, req.URL.Path, resp.StatusCode, raw)
	}
	return resp.StatusCode, body
}

// userinfo presents token as a bearer token at /userinfo.
func (e *oidcEnv) userinfo(t *testing.T, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// refresh redeems a refresh token as the application would.
func refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

// plainWords fails when an error description shows library or store internals.
func plainWords(t *testing.T, what, desc string) {
	t.Helper()
	if desc == "" {
		t.Errorf("%s: no error_description", what)
	}
	for _, internal := range []string{"conflict", "unique", "constraint", "store", "ErrorType=", "Parent=", "sql", "not_found:"} {
		if strings.Contains(desc, internal) {
			t.Errorf("%s: error_description %q shows internals (%q)", what, desc, internal)
		}
	}
}

// TestOIDCIDTokenAtUserinfo: an application (or whoever holds its ID token) presents the ID token
// as a bearer token at /userinfo: 401 invalid_token. The access token works.
func TestOIDCIDTokenAtUserinfo(t *testing.T) {
	e := startOIDC(t)
	cfg := e.oidcApp(t, "Wiki", true)
	tok := e.tokens(t, cfg, e.browser(t))
	idToken, _ := tok.Extra("id_token").(string)

	status, body := e.userinfo(t, idToken)
	if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Fatalf("ID token at /userinfo: %d %v, want 401 invalid_token", status, body)
	}
	plainWords(t, "ID token at /userinfo", body["error_description"].(string))
	if _, err := e.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: idToken})); err == nil {
		t.Fatal("go-oidc's UserInfo with the ID token as access token succeeded")
	}
	if status, body := e.userinfo(t, tok.AccessToken); status != 200 || body["sub"] == "" {
		t.Fatalf("access token at /userinfo: %d %v", status, body)
	}
	if status, body := e.userinfo(t, "not-a-token"); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Fatalf("garbage at /userinfo: %d %v, want 401 invalid_token", status, body)
	}
}

// TestOIDCIntrospection: application A introspects B's access token and is told nothing
// (active false); its own token is active with its real client_id and aud; its ID token is not
// an access token; without credentials the refusal is plain words.
func TestOIDCIntrospection(t *testing.T) {
	e := startOIDC(t)
	a, b := e.oidcApp(t, "App A", false), e.oidcApp(t, "App B", false)
	browser := e.browser(t)
	tokA, tokB := e.tokens(t, a, browser), e.tokens(t, b, browser)

	introspect := func(caller *oauth2.Config, token string) map[string]any {
		t.Helper()
		status, body := e.postForm(t, "/oauth/introspect", caller.ClientID, caller.ClientSecret, url.Values{"token": {token}})
		if status != 200 {
			t.Fatalf("introspect: %d %v", status, body)
		}
		return body
	}
	if got := introspect(a, tokB.AccessToken); got["active"] != false || len(got) != 1 {
		t.Errorf("A introspects B's access token: %v, want only active false", got)
	}
	got := introspect(a, tokA.AccessToken)
	aud, _ := got["aud"].([]any)
	if got["active"] != true || got["client_id"] != a.ClientID || !slices.Contains(aud, any(a.ClientID)) || got["sub"] == "" {
		t.Errorf("A introspects its own access token: %v, want active with client_id and aud %s", got, a.ClientID)
	}
	if got := introspect(b, tokB.AccessToken); got["active"] != true || got["client_id"] != b.ClientID {
		t.Errorf("B introspects its own access token: %v", got)
	}
	if got := introspect(a, tokA.Extra("id_token").(string)); got["active"] != false {
		t.Errorf("A introspects its ID token: %v, want active false", got)
	}

	// Without credentials, and with a wrong secret: 401 invalid_client in plain words.
	for name, secret := range map[string]string{"no credentials": "", "wrong secret": "wrong"} {
		user := a.ClientID
		if secret == "" {
			user = ""
		}
		status, body := e.postForm(t, "/oauth/introspect", user, secret, url.Values{"token": {tokA.AccessToken}, "client_id": {a.ClientID}})
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("introspection with %s: %d %v, want 401 invalid_client", name, status, body)
			continue
		}
		plainWords(t, "introspection with "+name, body["error_description"].(string))
	}
}

// TestOIDCCodeReuseRevokes: the code comes back for a second exchange (an attacker who
// intercepted it). It is refused in plain words, and what the first exchange issued stops
// working: the refresh token and, at /userinfo, the access token.
func TestOIDCCodeReuseRevokes(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := e.oidcApp(t, "Wiki", true)
	q, verifier := e.authorize(t, cfg, e.browser(t))
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if status, _ := e.userinfo(t, tok.AccessToken); status != 200 {
		t.Fatalf("userinfo before the reuse: %d", status)
	}

	status, body := e.postForm(t, "/oauth/token", "", "", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {cfg.RedirectURL}, "client_id": {cfg.ClientID}, "code_verifier": {verifier}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("second exchange: %d %v, want 400 invalid_grant", status, body)
	}
	plainWords(t, "second exchange", body["error_description"].(string))

	if _, err := refresh(cfg, tok.RefreshToken); err == nil {
		t.Error("the refresh token of the first exchange still works after the code's reuse")
	}
	if status, body := e.userinfo(t, tok.AccessToken); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("the access token of the first exchange at /userinfo after the code's reuse: %d %v, want 401 invalid_token", status, body)
	}
}

// TestOIDCRefreshReuseRevokes: a refresh token that was already rotated comes back (stolen
// before the application used it). It is refused, and the newer refresh token and access token
// stop working too.
func TestOIDCRefreshReuseRevokes(t *testing.T) {
	e := startOIDC(t)
	cfg := e.oidcApp(t, "Web app", false)
	browser := e.browser(t)
	tok := e.tokens(t, cfg, browser)
	newer, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if status, _ := e.userinfo(t, newer.AccessToken); status != 200 {
		t.Fatalf("the newer access token at /userinfo: %d", status)
	}

	if _, err := refresh(cfg, tok.RefreshToken); err == nil {
		t.Fatal("a rotated refresh token worked again")
	}
	if _, err := refresh(cfg, newer.RefreshToken); err == nil {
		t.Error("the newer refresh token still works after the old one's reuse")
	}
	if status, body := e.userinfo(t, newer.AccessToken); status != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("the newer access token at /userinfo after the reuse: %d %v, want 401 invalid_token", status, body)
	}
	// Another grant of the same person and application is untouched.
	other := e.tokens(t, cfg, browser)
	if _, err := refresh(cfg, other.RefreshToken); err != nil {
		t.Errorf("another grant's refresh token: %v", err)
	}
}

// TestOIDCFailedExchangeKeepsCode: someone tries the rightful application's code with a wrong
// secret, as another application, with another redirect URI and with a wrong PKCE verifier. Each
// is refused, and none burns the code: the rightful exchange then succeeds and its tokens work.
func TestOIDCFailedExchangeKeepsCode(t *testing.T) {
	e := startOIDC(t)
	cfg, other := e.oidcApp(t, "Web app", false), e.oidcApp(t, "Other app", false)
	q, verifier := e.authorize(t, cfg, e.browser(t))
	code := q.Get("code")
	form := func(redirect, v string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {v}}
	}
	for _, a := range []struct {
		name, user, secret string
		form               url.Values
		status             int
		code               string
	}{
		{"wrong secret", cfg.ClientID, "wrong", form(cfg.RedirectURL, verifier), http.StatusUnauthorized, "invalid_client"},
		{"another application", other.ClientID, other.ClientSecret, form(cfg.RedirectURL, verifier), http.StatusBadRequest, "invalid_grant"},
		{"another redirect URI", cfg.ClientID, cfg.ClientSecret, form(cfg.RedirectURL+"/elsewhere", verifier), http.StatusBadRequest, "invalid_grant"},
		{"wrong PKCE verifier", cfg.ClientID, cfg.ClientSecret, form(cfg.RedirectURL, oauth2.GenerateVerifier()), http.StatusBadRequest, "invalid_grant"},
	} {
		status, body := e.postForm(t, "/oauth/token", a.user, a.secret, a.form)
		if status != a.status || body["error"] != a.code {
			t.Errorf("exchange with %s: %d %v, want %d %s", a.name, status, body, a.status, a.code)
		}
	}
	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("the rightful exchange after the failed ones: %v", err)
	}
	if status, _ := e.userinfo(t, tok.AccessToken); status != 200 {
		t.Errorf("the rightful access token at /userinfo: %d", status)
	}
	if _, err := refresh(cfg, tok.RefreshToken); err != nil {
		t.Errorf("the rightful refresh token: %v", err)
	}
}

// TestOIDCRefreshedIDTokenKeepsAssurance: the ID token issued on a refresh keeps the original's
// acr, amr and auth_time (OpenID Connect Core §12.2).
func TestOIDCRefreshedIDTokenKeepsAssurance(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := e.oidcApp(t, "Wiki", true)
	verifier := e.provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID})
	type claims struct {
		Acr      string
		Amr      []string
		AuthTime int64 `json:"auth_time"`
	}
	verify := func(tok *oauth2.Token) claims {
		t.Helper()
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		var c claims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	browser := e.browser(t)
	first := verify(e.tokens(t, cfg, browser))
	if first.Acr == "" || first.AuthTime == 0 || len(first.Amr) == 0 {
		t.Fatalf("first ID token %+v: want acr, amr and auth_time", first)
	}
	tok := e.tokens(t, cfg, browser)
	for range 2 {
		var err error
		if tok, err = refresh(cfg, tok.RefreshToken); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		got := verify(tok)
		if got.Acr != first.Acr || !slices.Equal(got.Amr, first.Amr) {
			t.Errorf("refreshed ID token acr %q amr %v, want acr %q amr %v", got.Acr, got.Amr, first.Acr, first.Amr)
		}
		if got.AuthTime == 0 || got.AuthTime > time.Now().Unix() {
			t.Errorf("refreshed ID token auth_time %d", got.AuthTime)
		}
	}
	// The same sign-in: the auth_time of the grant's first ID token.
	tok = e.tokens(t, cfg, browser)
	orig := verify(tok)
	next, err := refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := verify(next); got.AuthTime != orig.AuthTime {
		t.Errorf("refreshed ID token auth_time %d, want the original's %d", got.AuthTime, orig.AuthTime)
	}
}

// TestOIDCDiscoveryIsTrue: discovery advertises only what works: the code flow (no implicit or
// hybrid response types, no JWT-bearer grant, no device endpoint, no form_post), and every acr
// value an application may ask for, a custom strength created here included. The JWKS has a key
// on a fresh start, before any token is signed. response_mode=form_post is refused in plain words.
func TestOIDCDiscoveryIsTrue(t *testing.T) {
	e := startOIDC(t)
	resp, err := http.Get(e.base + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []struct{ Kid, Alg, Use string }
	}
	json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Kid == "" {
		t.Fatalf("JWKS on a fresh start, before any token: %+v, want one RS256 key", jwks)
	}

	custom, err := e.s.Policies.CreateStrength(context.Background(), latchkey.SystemActor, policy.Strength{Name: "Security key only",
		AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(e.base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	list := func(k string) []string {
		var out []string
		for _, v := range doc[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported %v, want [code]", got)
	}
	if got := list("grant_types_supported"); !slices.Equal(got, []string{"authorization_code", "refresh_token"}) {
		t.Errorf("grant_types_supported %v, want authorization_code and refresh_token", got)
	}
	if got := list("response_modes_supported"); slices.Contains(got, "form_post") || !slices.Contains(got, "query") {
		t.Errorf("response_modes_supported %v, want query and no form_post", got)
	}
	for _, k := range []string{"device_authorization_endpoint", "check_session_iframe"} {
		if v, ok := doc[k]; ok {
			t.Errorf("discovery has %s %v", k, v)
		}
	}
	acrs := list("acr_values_supported")
	for _, want := range []string{"phrh", "phr", policy.ACRAAL2, policy.ACRAAL1, policy.StrengthMFA, custom.ID} {
		if !slices.Contains(acrs, want) {
			t.Errorf("acr_values_supported %v lacks %q", acrs, want)
		}
	}
	if got := list("scopes_supported"); slices.Contains(got, "phone") || slices.Contains(got, "address") {
		t.Errorf("scopes_supported %v has scopes Latchkey does not serve", got)
	}
	// The device endpoint really is not there.
	if resp, err := http.Post(e.base+"/device_authorization", "application/x-www-form-urlencoded", nil); err != nil || resp.StatusCode != 404 {
		t.Errorf("POST /device_authorization: %v %v", resp, err)
	}

	// response_mode=form_post: the application gets an error, in the query, in plain words.
	cfg := e.oidcApp(t, "Wiki", true)
	signedIn := e.browser(t)
	q, _ := e.authorize(t, cfg, signedIn, oauth2.SetAuthURLParam("response_mode", "form_post"))
	if q.Get("error") != "invalid_request" || q.Get("code") != "" || !strings.Contains(q.Get("error_description"), "form_post") {
		t.Errorf("response_mode=form_post answered the application with %v, want invalid_request naming form_post", q)
	}
	// fragment works: the code comes back in the URL's fragment.
	browser := *signedIn
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), cfg.RedirectURL) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err = browser.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("response_mode", "fragment")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || !strings.Contains(loc.Fragment, "code=") {
		t.Errorf("response_mode=fragment: %d Location %q, want the code in the fragment", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestOIDCCallbackReloadPlainWords: the browser loads /authorize/callback again after the code
// went to the application (a reload, or someone replaying the URL): the application is told in
// plain words, with no store internals.
func TestOIDCCallbackReloadPlainWords(t *testing.T) {
	e := startOIDC(t)
	cfg := e.oidcApp(t, "Wiki", true)
	browser := e.browser(t)
	var callback string
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/authorize/callback" {
			callback = req.URL.String()
		}
		return nil
	}
	if q, _ := e.authorize(t, cfg, browser); q.Get("code") == "" || callback == "" {
		t.Fatalf("first pass: %v, callback %q", q, callback)
	}
	resp, err := browser.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case q := <-e.got:
		if q.Get("error") == "" || q.Get("code") != "" {
			t.Fatalf("reloaded callback answered the application with %v, want an error", q)
		}
		plainWords(t, "reloaded callback", q.Get("error_description"))
	default:
		t.Fatalf("reloaded callback did not answer the application: %d %s", resp.StatusCode, resp.Request.URL)
	}
}
