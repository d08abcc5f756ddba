package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of a page's forms.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// TestOIDCRPInitiatedLogout: an application's RP-initiated logout with a valid id_token_hint
// ends Latchkey's session in that browser (the next /authorize for any application asks the
// person to sign in) and that application's refresh tokens, not another's, and returns to its
// registered post_logout_redirect_uri with its state. Without a valid hint (none, or one whose
// signature is forged) the person is asked on a page whose form carries a CSRF token; forged
// posts of that form are refused. An unregistered post_logout_redirect_uri is never followed.
func TestOIDCRPInitiatedLogout(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	rpBase := strings.TrimSuffix(e.redirect, "/callback")
	signedOut := rpBase + "/signed-out"
	stdout, errOut, code := run(t, "app", "add", "Wiki", "--redirect-uri", e.redirect, "--post-logout-redirect-uri", signedOut,
		"--public", "--data", e.data, "--json")
	var app struct {
		ClientID string `json:"clientId"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &app) != nil {
		t.Fatalf("app add: %d %s %s", code, stdout, errOut)
	}
	ep := e.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	wiki := &oauth2.Config{ClientID: app.ClientID, Endpoint: ep, RedirectURL: e.redirect, Scopes: []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}}
	mail := addApp(t, e, "Mail")
	mail.Scopes = wiki.Scopes

	// Pat, with a pass that works more than once.
	admin := newPerson(e.base)
	if err := admin.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	patID, err := admin.api.CreateUser(ctx, "pat@example.com")
	if err != nil {
		t.Fatal(err)
	}
	pass, err := admin.api.IssueTAP(ctx, patID, 480)
	if err != nil {
		t.Fatal(err)
	}
	p := newPerson(e.base)
	noFollow := &http.Client{Jar: p.http.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func() {
		if err := p.api.SignInTAP(ctx, "pat@example.com", pass); err != nil {
			t.Fatal(err)
		}
	}
	isSignedIn := func() bool {
		resp, err := p.http.Get(e.base + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	// tokens signs in to cfg in p's browser, already signed in to Latchkey.
	tokens := func(cfg *oauth2.Config) *oauth2.Token {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		resp, err := p.http.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if err != nil {
			t.Fatal(err)
		}
		q := callback(t, e, "single sign-on", resp, readBody(t, resp))
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v %+v", err, tok)
		}
		return tok
	}
	// refreshes reports whether the token's refresh token still works (and keeps the new one).
	refreshes := func(cfg *oauth2.Config, tok *oauth2.Token) bool {
		next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
		if err != nil {
			return false
		}
		tok.RefreshToken = next.RefreshToken
		return true
	}
	endSession := func(params url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := noFollow.Get(e.base + "/end_session?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}

	wikiTok, _, _ := codeFlow(t, ctx, e.base, e.provider, wiki, e.got, p.http, signIn)
	mailTok := tokens(mail)
	hint, _ := wikiTok.Extra("id_token").(string)

	// With a valid hint: back to the application with its state, signed out of Latchkey.
	resp, body := endSession(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {signedOut}, "state": {"s-1"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != signedOut+"?state=s-1" {
		t.Fatalf("logout with a valid hint: %d Location %q, want 302 to %s?state=s-1:\n%s", resp.StatusCode, resp.Header.Get("Location"), signedOut, body)
	}
	if isSignedIn() {
		t.Fatal("after logout with a valid hint, Latchkey's session in the browser still works")
	}
	resp, err = p.http.Get(mail.AuthCodeURL("after", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/signin" {
		t.Fatalf("after logout, another application's /authorize landed on %s, want the sign-in page", resp.Request.URL)
	}
	noCallback(t, e, "another application after logout")
	if refreshes(wiki, wikiTok) {
		t.Error("the application's refresh token works after its logout")
	}
	if !refreshes(mail, mailTok) {
		t.Error("another application's refresh token stopped working after the first one's logout")
	}

	signIn()
	wikiTok = tokens(wiki)
	// A post_logout_redirect_uri the application has not registered: refused, not followed,
	// and nothing ends.
	resp, body = endSession(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s0"}})
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, `data-code="invalid_logout_request"`) {
		t.Fatalf("unregistered post_logout_redirect_uri: %d Location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if !isSignedIn() {
		t.Fatal("a refused logout request ended the session")
	}

	// Without a hint: the person is asked, and nothing ends until they confirm.
	resp, body = endSession(url.Values{"client_id": {wiki.ClientID}, "post_logout_redirect_uri": {signedOut}, "state": {"s-2"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="end-session-form"`) || !strings.Contains(body, "Wiki") {
		t.Fatalf("logout without a hint: %d %s, want the confirmation page:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	form := hiddenFields(body)
	if form.Get("csrf") == "" || form.Get("state") != "s-2" {
		t.Fatalf("confirmation form fields %v", form)
	}
	// A hint whose signature is forged (another subject in the payload) counts as none.
	parts := strings.Split(hint, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	claims["sub"] = "someone-else"
	forged, _ := json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(forged)
	resp, body = endSession(url.Values{"id_token_hint": {strings.Join(parts, ".")}, "post_logout_redirect_uri": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="end-session-form"`) || strings.Contains(body, `href="https://evil.example/`) {
		t.Fatalf("logout with a forged hint: %d %s, want the confirmation page, no link to the unregistered address:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if !isSignedIn() || !refreshes(wiki, wikiTok) {
		t.Fatal("asking the person ended the session or the application's refresh tokens")
	}

	// Forged confirmations: from another site, and without the form's CSRF token.
	post := func(origin string, v url.Values) (*http.Response, string) {
		req, _ := http.NewRequest("POST", e.base+"/end_session/confirm", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", map[bool]string{true: "same-origin", false: "cross-site"}[origin == e.base])
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	noCSRF := url.Values{"client_id": {wiki.ClientID}, "post_logout_redirect_uri": {signedOut}, "state": {"s-2"}}
	if resp, body := post("https://evil.example", form); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cross_origin_request") {
		t.Fatalf("cross-site confirmation: %d:\n%s", resp.StatusCode, body)
	}
	if resp, body := post("", noCSRF); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "csrf_failed") {
		t.Fatalf("confirmation without the CSRF token: %d:\n%s", resp.StatusCode, body)
	}
	if !isSignedIn() {
		t.Fatal("a forged confirmation ended the session")
	}

	// The person confirms: signed out, the application's refresh tokens gone, and a page that
	// moves on to the registered address with the state.
	resp, body = post(e.base, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="continue-link" href="`+signedOut+`?state=s-2"`) {
		t.Fatalf("confirmed logout: %d %s, want the page moving on to %s?state=s-2:\n%s", resp.StatusCode, resp.Header.Get("Location"), signedOut, body)
	}
	if isSignedIn() || refreshes(wiki, wikiTok) {
		t.Fatal("after the person confirmed, the session or the application's refresh token still works")
	}

	// Confirming a request whose post_logout_redirect_uri could not be checked (no application
	// named) ends at Latchkey's signed-out page, never at that address.
	signIn()
	_, body = endSession(url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "state": {"s-3"}})
	resp, body = post(e.base, hiddenFields(body))
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/signin?signedout=1" || strings.Contains(body, "evil.example") {
		t.Fatalf("confirmed logout with an unchecked address: %d Location %q:\n%s", resp.StatusCode, loc, body)
	}
	if isSignedIn() {
		t.Fatal("still signed in after confirming")
	}
}

// TestOIDCSessionRoutesBadInput: the routes that now answer with the browser's session take bad
// input with a clear 4xx page, never a 5xx or a redirect to an application.
func TestOIDCSessionRoutesBadInput(t *testing.T) {
	e := startOIDC(t)
	a := newAttacker(t, e.base, nil)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/authorize/callback", 400, "missing_auth_request"},
		{"GET", "/authorize/callback?id=no-such-request", 404, "auth_request_expired"},
		{"POST", "/authorize/callback?id=no-such-request", 404, "auth_request_expired"},
		{"GET", "/authorize/callback?id=%zz", 400, "malformed_callback"},
		{"GET", "/oidc/login/back", 404, "auth_request_expired"},
		{"GET", "/oidc/login/back?authRequestID=no-such-request", 404, "auth_request_expired"},
		{"PUT", "/end_session", 405, "method_not_allowed"},
		{"GET", "/end_session?client_id=no-such-app&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F", 400, "unknown_application"},
		{"GET", "/end_session?ui_locales=%zz", 400, "invalid_logout_request"},
		{"POST", "/end_session/confirm", 403, "csrf_failed"},
	} {
		req, _ := http.NewRequest(tc.method, e.base+tc.path, nil)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != "" || !strings.Contains(body, `data-code="`+tc.code+`"`) {
			t.Errorf("%s %s: %d Location %q, want %d %s:\n%s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.code, body)
		}
	}
	// A hint Latchkey did not sign, from a browser with no session: nothing to end, and no
	// application to return to, so the signed-out page.
	resp, err := a.http.Get(e.base + "/end_session?id_token_hint=not.a.token&state=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/signin?signedout=1" {
		t.Errorf("end_session with a garbage hint and no session: %d Location %q", resp.StatusCode, loc)
	}
}
