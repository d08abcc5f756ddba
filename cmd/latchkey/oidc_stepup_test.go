package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/passkey/passkeytest"
)

// TestOIDCStepUpPHRH: an application asking for acr_values=phrh. A person signed in with a synced
// passkey and no other gets the explanatory page (strength_not_met); once they have an attested
// device-bound passkey they are sent to sign in again with it; signing in again with the synced
// one shows the page (step_up_required), with the attested one passes, and the ID token's acr is
// phrh.
func TestOIDCStepUpPHRH(t *testing.T) {
	e := startOIDC(t)
	s, data, pass, base, redirect, got, ctx := e.s, e.data, e.pass, e.base, e.redirect, e.got, context.Background()
	stdout, errOut, code := run(t, "app", "add", "Payroll", "--redirect-uri", redirect, "--public", "--data", data, "--json")
	var app struct {
		ClientID string `json:"clientId"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &app) != nil {
		t.Fatalf("app add: %d %s %s", code, stdout, errOut)
	}
	provider := e.provider
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	ep.AuthURL += "?acr_values=phrh"
	cfg := &oauth2.Config{ClientID: app.ClientID, Endpoint: ep, RedirectURL: redirect, Scopes: []string{gooidc.ScopeOpenID, "profile"}}

	// The admin signs in with the bootstrap TAP and registers a synced passkey.
	newBrowser := func() (*http.Client, *loadtest.Client) {
		jar, _ := cookiejar.New(nil)
		b := &http.Client{Jar: jar}
		c := loadtest.NewClient(base, nil)
		c.HTTP = b
		return b, c
	}
	_, setup := newBrowser()
	if err := setup.SignInTAP(ctx, "admin", pass); err != nil {
		t.Fatalf("TAP sign-in: %v", err)
	}
	synced, err := loadtest.NewAuthenticator(base, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Register(ctx, synced); err != nil {
		t.Fatalf("register synced passkey: %v", err)
	}

	// authorize starts a flow in browser and returns the page it lands on.
	authorize := func(browser *http.Client) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	refused := func(resp *http.Response, body, code string) {
		t.Helper()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="page-error"`) || !strings.Contains(body, `data-code="`+code+`"`) {
			t.Fatalf("want the %s page (403), got %d %s:\n%s", code, resp.StatusCode, resp.Request.URL, body)
		}
		if !strings.Contains(body, "security key or a passkey that stays on one device") || !strings.Contains(body, "can&#39;t be used for it") {
			t.Fatalf("the %s page does not say which passkey would do:\n%s", code, body)
		}
		select {
		case q := <-got:
			t.Fatalf("the application got a callback %v", q)
		default:
		}
	}

	// Signed in with the synced passkey, and no other passkey would do: the explanatory page.
	browser, pc := newBrowser()
	if err := pc.SignIn(ctx, synced, "admin"); err != nil {
		t.Fatalf("synced passkey sign-in: %v", err)
	}
	resp, body := authorize(browser)
	refused(resp, body, "strength_not_met")
	if !strings.Contains(body, "Ask IT for a security key") {
		t.Fatalf("strength_not_met page does not say to ask IT:\n%s", body)
	}

	// The admin registers an attested device-bound passkey: a listed model, packed attestation
	// chaining to the imported test metadata's attestation root.
	mds := passkeytest.NewMDS(t)
	if _, err := passkey.ImportMDS(ctx, s.Store, mds.BLOB, mds.Root.Cert, time.Now()); err != nil {
		t.Fatalf("import MDS: %v", err)
	}
	key, err := loadtest.NewAuthenticator(base, false)
	if err != nil {
		t.Fatal(err)
	}
	key.SetAAGUID(mds.AttestedAAGUID)
	var options []byte
	if err := setup.Do(ctx, "POST", "/api/v1/webauthn/registration/options", "{}", &options); err != nil {
		t.Fatalf("registration options: %v", err)
	}
	att, err := key.Attest(options)
	if err != nil {
		t.Fatal(err)
	}
	resigned, err := passkeytest.ResignPacked([]byte(att), mds.AttestationRoot.NewAttestationLeaf(t, mds.AttestedAAGUID))
	if err != nil {
		t.Fatal(err)
	}
	var pk struct{ Kind, Attestation string }
	if err := setup.Do(ctx, "POST", "/api/v1/webauthn/registration/verify", string(resigned), &pk); err != nil {
		t.Fatalf("register attested passkey: %v", err)
	}
	if pk.Kind != latchkey.KindDeviceBound || pk.Attestation != latchkey.AttestationAttested {
		t.Fatalf("registered passkey %+v, want an attested device-bound one", pk)
	}

	// Still signed in with the synced passkey: sent to sign in again, saying with what.
	resp, body = authorize(browser)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/signin" || !strings.Contains(body, `id="stepup-notice"`) ||
		!strings.Contains(body, "security key") {
		t.Fatalf("want the step-up sign-in page, got %d %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	next := resp.Request.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/oidc/login?authRequestID=") || !strings.Contains(next, "stepup=1") {
		t.Fatalf("step-up next = %q", next)
	}
	// Signing in again with the synced passkey does not loop: the page, step_up_required.
	if err := pc.SignIn(ctx, synced, "admin"); err != nil {
		t.Fatalf("synced passkey sign-in: %v", err)
	}
	if resp, err = browser.Get(base + next); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	refused(resp, string(b), "step_up_required")

	// With the attested device-bound passkey it passes, and the ID token says phrh.
	_, claims, _ := codeFlow(t, ctx, base, provider, cfg, got, browser, func() {
		if err := pc.SignIn(ctx, key, "admin"); err != nil {
			t.Fatalf("attested passkey sign-in: %v", err)
		}
	})
	if claims.Acr != "phrh" {
		t.Fatalf("acr %q amr %v, want phrh", claims.Acr, claims.Amr)
	}

	// acr_values is a list: phr or phrh is met by the synced passkey.
	cfg.Endpoint.AuthURL = provider.Endpoint().AuthURL + "?acr_values=" + url.QueryEscape("phrh phr")
	jar, _ := cookiejar.New(nil)
	fresh := &http.Client{Jar: jar}
	fc := loadtest.NewClient(base, nil)
	fc.HTTP = fresh
	if _, claims, _ = codeFlow(t, ctx, base, provider, cfg, got, fresh, func() {
		if err := fc.SignIn(ctx, synced, "admin"); err != nil {
			t.Fatalf("synced passkey sign-in: %v", err)
		}
	}); claims.Acr != "phr" {
		t.Fatalf("acr_values \"phrh phr\" with a synced passkey: acr %q", claims.Acr)
	}
}
