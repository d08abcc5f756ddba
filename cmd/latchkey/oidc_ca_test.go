package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/policy"
)

// person is someone with a browser (cookie jar) of their own.
type person struct {
	http *http.Client
	api  *loadtest.Client
}

func newPerson(base string) *person {
	jar, _ := cookiejar.New(nil)
	p := &person{http: &http.Client{Jar: jar}, api: loadtest.NewClient(base, nil)}
	p.api.HTTP = p.http
	return p
}

// visit starts an authorization request for cfg in p's browser, with extra parameters, and
// returns where the browser ended up, its status and body. A callback to the application lands
// on got.
func (p *person) visit(t *testing.T, cfg *oauth2.Config, extra ...oauth2.AuthCodeOption) (*http.Response, string) {
	t.Helper()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}, extra...)
	resp, err := p.http.Get(cfg.AuthCodeURL("st", opts...))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// addApp registers a public application and returns its client configuration.
func addApp(t *testing.T, e *oidcEnv, name string) *oauth2.Config {
	t.Helper()
	stdout, errOut, code := run(t, "app", "add", name, "--redirect-uri", e.redirect, "--public", "--data", e.data, "--json")
	var app struct {
		ClientID string `json:"clientId"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &app) != nil {
		t.Fatalf("app add: %d %s %s", code, stdout, errOut)
	}
	ep := e.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: app.ClientID, Endpoint: ep, RedirectURL: e.redirect, Scopes: []string{gooidc.ScopeOpenID}}
}

// callback returns the application's callback query, or fails.
func callback(t *testing.T, e *oidcEnv, what string, resp *http.Response, body string) url.Values {
	t.Helper()
	select {
	case q := <-e.got:
		return q
	default:
		t.Fatalf("%s: no callback to the application; landed on %d %s:\n%s", what, resp.StatusCode, resp.Request.URL, body)
	}
	return nil
}

func noCallback(t *testing.T, e *oidcEnv, what string) {
	t.Helper()
	select {
	case q := <-e.got:
		t.Fatalf("%s: the application got a callback %v", what, q)
	default:
	}
}

// lastAppEvent returns the newest sign-in event of user for app.
func lastAppEvent(t *testing.T, e *oidcEnv, userID, app string) *latchkey.SignInEvent {
	t.Helper()
	events, err := e.s.Store.ListSignInsFiltered(context.Background(), latchkey.SignInFilter{UserID: userID, AppID: app, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("sign-in event of %s for %s: %v %v", userID, app, events, err)
	}
	return events[0]
}

func resultOf(e *latchkey.SignInEvent, policyID string) string {
	for _, r := range e.ConditionalAccess {
		if r.PolicyID == policyID {
			return r.Result
		}
	}
	return "(none)"
}

// TestOIDCRolloutPhishingResistantMFA stages the field guide's "require phishing-resistant MFA
// for all apps" without locking anyone out: report-only first (the sign-in log shows who would
// pass, who would be interrupted and who would fail), the lockout lint names the one person with
// no passkey, a registerSecurityInformation policy demanding MFA lets that new hire register a
// passkey with a temporary access pass, and once enforced a pass session is stepped up to the
// passkey, while someone with nothing but a pass is told what to do.
func TestOIDCRolloutPhishingResistantMFA(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := addApp(t, e, "Payroll")
	app := cfg.ClientID

	admin := newPerson(e.base)
	if err := admin.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	adminKey, _ := loadtest.NewAuthenticator(e.base, false)
	if _, err := admin.api.Register(ctx, adminKey); err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	passes := map[string]string{}
	for _, upn := range []string{"alice@example.com", "newhire@example.com", "bob@example.com"} {
		id, err := admin.api.CreateUser(ctx, upn)
		if err != nil {
			t.Fatal(err)
		}
		if passes[upn], err = admin.api.IssueTAP(ctx, id, 480); err != nil {
			t.Fatal(err)
		}
		users[upn] = id
	}
	// Alice has a synced passkey.
	alice := newPerson(e.base)
	if err := alice.api.SignInTAP(ctx, "alice@example.com", passes["alice@example.com"]); err != nil {
		t.Fatal(err)
	}
	aliceKey, _ := loadtest.NewAuthenticator(e.base, true)
	if _, err := alice.api.Register(ctx, aliceKey); err != nil {
		t.Fatal(err)
	}

	adminUser, err := e.s.Store.FindUserByUPN(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	breakGlass := []string{adminUser.ID}
	pr := policy.ConditionalAccessPolicy{ID: "pr-all", Name: "Require phishing-resistant MFA for all apps", State: policy.CAStateReportOnly,
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: breakGlass},
		Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant:        policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}}
	reg := policy.ConditionalAccessPolicy{ID: "reg-mfa", Name: "Registering security info needs MFA", State: policy.CAStateEnabled,
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: breakGlass},
		Applications: policy.Applications{IncludeUserActions: []string{policy.UserActionRegisterSecurityInfo}},
		Grant:        policy.Grant{StrengthID: policy.StrengthMFA}}
	ca := &policy.ConditionalAccessConfig{Policies: []policy.ConditionalAccessPolicy{pr, reg}}
	if err := e.s.Policies.PutConditionalAccess(ctx, latchkey.SystemActor, ca); err != nil {
		t.Fatal(err)
	}

	// Report-only. Alice with her passkey: reportOnlySuccess. Alice with a pass, although she has a
	// passkey: reportOnlyInterrupted (she would have been asked for it). The new hire with a pass
	// and nothing else: reportOnlyFailure. Everyone gets in.
	a2 := newPerson(e.base)
	if err := a2.api.SignIn(ctx, aliceKey, ""); err != nil {
		t.Fatal(err)
	}
	resp, body := a2.visit(t, cfg)
	callback(t, e, "report-only, passkey", resp, body)
	if ev := lastAppEvent(t, e, users["alice@example.com"], app); ev.Result != latchkey.SignInSuccess ||
		resultOf(ev, "pr-all") != policy.ResultReportOnlySuccess || ev.ACR != policy.ACRPhishingResistant {
		t.Fatalf("report-only, passkey: %+v", ev)
	}
	resp, body = alice.visit(t, cfg)
	callback(t, e, "report-only, Alice's pass", resp, body)
	if ev := lastAppEvent(t, e, users["alice@example.com"], app); resultOf(ev, "pr-all") != policy.ResultReportOnlyInterrupted {
		t.Fatalf("report-only, Alice's pass: %+v", ev.ConditionalAccess)
	}
	newhire := newPerson(e.base)
	if err := newhire.api.SignInTAP(ctx, "newhire@example.com", passes["newhire@example.com"]); err != nil {
		t.Fatal(err)
	}
	resp, body = newhire.visit(t, cfg)
	callback(t, e, "report-only, new hire's pass", resp, body)
	ev := lastAppEvent(t, e, users["newhire@example.com"], app)
	if ev.Result != latchkey.SignInSuccess || resultOf(ev, "pr-all") != policy.ResultReportOnlyFailure ||
		ev.ACR != policy.ACRAAL1 || !slices.Equal(ev.AMR, []string{"otp"}) {
		t.Fatalf("report-only, new hire's pass: %+v", ev)
	}

	// The lint, as if pr-all were enforced, names the new hire and Bob (passes but no passkey).
	dir, _, err := e.s.Policies.LintDirectory(ctx, latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	findings := policy.Lint(pr, ca.Policies, ca.StrengthMap(), dir, 0)
	stuck := policy.AffectedUsers(findings)
	want := []string{users["newhire@example.com"], users["bob@example.com"]}
	slices.Sort(want)
	if !slices.Equal(stuck, want) || findings[0].Code != policy.LintUsersCannotSatisfy {
		t.Fatalf("lint findings %+v, want users_cannot_satisfy for the new hire and Bob", findings)
	}

	// The new hire registers a passkey with the pass: the registerSecurityInformation policy
	// demands MFA, which a pass meets, and the attempt is in the log.
	newhireKey, _ := loadtest.NewAuthenticator(e.base, true)
	if _, err := newhire.api.Register(ctx, newhireKey); err != nil {
		t.Fatalf("register with a pass under the MFA policy: %v", err)
	}
	if ev := lastAppEvent(t, e, users["newhire@example.com"], policy.UserActionRegisterSecurityInfo); ev.Result != latchkey.SignInSuccess ||
		resultOf(ev, "reg-mfa") != policy.ResultSuccess {
		t.Fatalf("registration's policy event %+v", ev)
	}

	// Enforced. The new hire, still in the pass session, is sent to sign in with the passkey,
	// and then gets in with phishing-resistant MFA met.
	ca.Policies[0].State = policy.CAStateEnabled
	if err := e.s.Policies.PutConditionalAccess(ctx, latchkey.SystemActor, ca); err != nil {
		t.Fatal(err)
	}
	resp, body = newhire.visit(t, cfg)
	noCallback(t, e, "enforced, new hire's pass")
	if resp.Request.URL.Path != "/signin" || resp.Request.URL.Query().Get("stepup") != policy.StrengthPhishingResistantMFA ||
		!strings.Contains(body, `id="stepup-notice"`) || !strings.Contains(body, "needs a passkey") {
		t.Fatalf("enforced, new hire's pass: want the step-up sign-in page, got %d %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if ev := lastAppEvent(t, e, users["newhire@example.com"], app); ev.Result != latchkey.SignInFailure ||
		ev.ErrorCode != policy.CodeStrengthRequired || resultOf(ev, "pr-all") != policy.ResultFailure {
		t.Fatalf("enforced, new hire's pass: event %+v", ev)
	}
	if err := newhire.api.SignIn(ctx, newhireKey, ""); err != nil {
		t.Fatal(err)
	}
	next := resp.Request.URL.Query().Get("next")
	r2, err := newhire.http.Get(e.base + next)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	callback(t, e, "enforced, new hire's passkey", r2, string(b2))
	if ev := lastAppEvent(t, e, users["newhire@example.com"], app); ev.Result != latchkey.SignInSuccess ||
		ev.Strength != policy.StrengthPhishingResistantMFA || resultOf(ev, "pr-all") != policy.ResultSuccess {
		t.Fatalf("enforced, new hire's passkey: event %+v", ev)
	}

	// Bob has only a pass: no step-up can help, so the page says what to do.
	bob := newPerson(e.base)
	if err := bob.api.SignInTAP(ctx, "bob@example.com", passes["bob@example.com"]); err != nil {
		t.Fatal(err)
	}
	resp, body = bob.visit(t, cfg)
	noCallback(t, e, "enforced, Bob's pass")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `data-code="strength_required"`) ||
		!strings.Contains(body, "This needs a passkey") || !strings.Contains(body, "ask IT") {
		t.Fatalf("enforced, Bob's pass: got %d %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}

	// The break-glass admin is excluded: in with the bootstrap pass.
	resp, body = admin.visit(t, cfg)
	callback(t, e, "enforced, break-glass admin", resp, body)
}

// TestOIDCPromptAndMaxAge: prompt=login and an exceeded max_age send a signed-in person to sign
// in again; prompt=none without a session answers the application with login_required.
func TestOIDCPromptAndMaxAge(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := addApp(t, e, "Wiki")
	p := newPerson(e.base)

	// prompt=none, not signed in: back to the application with login_required.
	resp, body := p.visit(t, cfg, oauth2.SetAuthURLParam("prompt", "none"))
	q := callback(t, e, "prompt=none", resp, body)
	if q.Get("error") != "login_required" || q.Get("code") != "" || q.Get("state") != "st" {
		t.Fatalf("prompt=none without a session: callback %v", q)
	}

	if err := p.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	key, _ := loadtest.NewAuthenticator(e.base, false)
	if _, err := p.api.Register(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := p.api.SignIn(ctx, key, ""); err != nil {
		t.Fatal(err)
	}
	// Signed in: prompt=none works, and so does a plain request.
	resp, body = p.visit(t, cfg, oauth2.SetAuthURLParam("prompt", "none"))
	if q := callback(t, e, "prompt=none signed in", resp, body); q.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v", q)
	}

	// prompt=login: the sign-in page, even though signed in; after signing in again, the code.
	resp, body = p.visit(t, cfg, oauth2.SetAuthURLParam("prompt", "login"))
	noCallback(t, e, "prompt=login")
	if resp.Request.URL.Path != "/signin" {
		t.Fatalf("prompt=login landed on %s", resp.Request.URL)
	}
	next := resp.Request.URL.Query().Get("next")
	if err := p.api.SignIn(ctx, key, ""); err != nil {
		t.Fatal(err)
	}
	r, err := p.http.Get(e.base + next)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if q := callback(t, e, "prompt=login after signing in", r, ""); q.Get("code") == "" {
		t.Fatalf("prompt=login after signing in: %v", q)
	}

	// max_age: a sign-in older than it sends the person to sign in; max_age generous enough passes.
	time.Sleep(1100 * time.Millisecond) // the sign-in must be more than a second old
	resp, _ = p.visit(t, cfg, oauth2.SetAuthURLParam("max_age", "1"))
	noCallback(t, e, "max_age=1")
	if resp.Request.URL.Path != "/signin" {
		t.Fatalf("max_age=1 with an older sign-in landed on %s", resp.Request.URL)
	}
	resp, body = p.visit(t, cfg, oauth2.SetAuthURLParam("max_age", "3600"))
	callback(t, e, "max_age=3600", resp, body)
}

// TestOIDCKeyRotation: `latchkey keys rotate` makes every new token carry the new key's kid; the
// old key stays in the JWKS, so a token it signed still verifies.
func TestOIDCKeyRotation(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	cfg := addApp(t, e, "Reports")
	verifier := e.provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID})
	p := newPerson(e.base)
	if err := p.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	token := func() (string, string) {
		t.Helper()
		v := oauth2.GenerateVerifier()
		resp, err := p.http.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		q := callback(t, e, "token", resp, "")
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		raw := tok.Extra("id_token").(string)
		hdr, _ := jwsHeader(raw)
		return raw, hdr
	}
	oldToken, oldKid := token()
	stdout, errOut, code := run(t, "keys", "rotate", "--data", e.data, "--json")
	var rotated struct{ Kid string }
	if code != 0 || json.Unmarshal([]byte(stdout), &rotated) != nil || rotated.Kid == "" || rotated.Kid == oldKid {
		t.Fatalf("keys rotate: %d %s %s", code, stdout, errOut)
	}
	newToken, newKid := token()
	if newKid != rotated.Kid {
		t.Fatalf("after rotation the token's kid is %q, want the new key %q", newKid, rotated.Kid)
	}
	for what, raw := range map[string]string{"old": oldToken, "new": newToken} {
		if _, err := verifier.Verify(ctx, raw); err != nil {
			t.Errorf("the %s key's token no longer verifies: %v", what, err)
		}
	}
	stdout, _, _ = run(t, "keys", "list", "--data", e.data)
	if !strings.Contains(stdout, rotated.Kid) || !strings.Contains(stdout, "retired, still published") {
		t.Fatalf("keys list:\n%s", stdout)
	}
}

// jwsHeader returns the kid of a compact JWS.
func jwsHeader(raw string) (string, error) {
	part, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return "", err
	}
	var h struct{ Kid string }
	return h.Kid, json.Unmarshal(b, &h)
}

// TestOIDCCustomStrengthInACRValues: an application names a custom strength (device-bound
// passkeys only, added with `latchkey policy strength add`) in acr_values. A person whose only
// passkey is synced gets the page saying what would do; with a device-bound passkey they pass.
func TestOIDCCustomStrengthInACRValues(t *testing.T) {
	e := startOIDC(t)
	ctx := context.Background()
	file := t.TempDir() + "/strength.json"
	doc := `{"id":"deviceBoundPasskey","displayName":"Device-bound passkey","allowedCombinations":["passkey"],
		"passkeyConditions":{"kinds":["deviceBound"]}}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "policy", "strength", "add", file, "--data", e.data); code != 0 {
		t.Fatalf("policy strength add: %d %s", code, errOut)
	}
	cfg := addApp(t, e, "Treasury")
	cfg.Endpoint.AuthURL += "?acr_values=deviceBoundPasskey"

	p := newPerson(e.base)
	if err := p.api.SignInTAP(ctx, "admin", e.pass); err != nil {
		t.Fatal(err)
	}
	syncedKey, _ := loadtest.NewAuthenticator(e.base, true)
	if _, err := p.api.Register(ctx, syncedKey); err != nil {
		t.Fatal(err)
	}
	if err := p.api.SignIn(ctx, syncedKey, ""); err != nil {
		t.Fatal(err)
	}
	resp, body := p.visit(t, cfg)
	noCallback(t, e, "synced passkey")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `data-code="strength_not_met"`) ||
		!strings.Contains(body, "Device-bound passkey") {
		t.Fatalf("synced passkey against the custom strength: %d %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}

	key, _ := loadtest.NewAuthenticator(e.base, false)
	if err := p.api.SignIn(ctx, syncedKey, ""); err != nil { // a fresh sign-in may register
		t.Fatal(err)
	}
	if _, err := p.api.Register(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := p.api.SignIn(ctx, key, ""); err != nil {
		t.Fatal(err)
	}
	resp, body = p.visit(t, cfg)
	callback(t, e, "device-bound passkey", resp, body)
}
