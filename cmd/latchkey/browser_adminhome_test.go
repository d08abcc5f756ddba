package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
)

// seedConsole gives a server the data an admin console shows: Bob and Carol with usable passes
// and no passkey, Dave disabled, a report-only policy blocking everyone but the admin, sign-ins
// it would have blocked, a report-only policy demanding phishing-resistant MFA (a lint finding:
// people with only a pass cannot meet it), three recent failures and one failure too old for the home page. It
// returns the report-only policy.
func seedConsole(t *testing.T, s *testServer) policy.ConditionalAccessPolicy {
	t.Helper()
	ctx := context.Background()
	bob, _ := newUser(t, s, "bob@example.com", "Bob Smith")
	newUser(t, s, "carol@example.com", "Carol Jones")
	dave, _ := newUser(t, s, "dave@example.com", "Dave Leaver")
	if _, err := s.Store.UpdateUser(ctx, dave.ID, func(u *latchkey.User) error { u.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	block := policy.ConditionalAccessPolicy{ID: "block-everyone", Name: "Block everyone but the admin", State: policy.CAStateReportOnly,
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: []string{s.user(t, "admin").ID}},
		Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant:        policy.Grant{Block: true}}
	// People with only a pass cannot meet it: a lint finding.
	phr := policy.ConditionalAccessPolicy{ID: "require-phr", Name: "Phishing-resistant sign-in for everyone", State: policy.CAStateReportOnly,
		Users:        policy.Users{IncludeUsers: []string{policy.All}},
		Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant:        policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}}
	if err := s.Policies.PutConditionalAccess(ctx, latchkey.SystemActor, &policy.ConditionalAccessConfig{Policies: []policy.ConditionalAccessPolicy{block, phr}}); err != nil {
		t.Fatal(err)
	}
	would := []latchkey.PolicyResult{{PolicyID: block.ID, Name: block.Name, Result: policy.ResultReportOnlyFailure, Detail: "block"}}
	now := time.Now()
	for _, e := range []*latchkey.SignInEvent{
		{UserID: bob.ID, UPN: bob.UserPrincipalName, Method: "passkey", Result: latchkey.SignInSuccess, AppID: "wiki", ConditionalAccess: would,
			IP: "192.0.2.10", Platform: policy.PlatformLinux, PlatformVersion: "6.1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140", CorrelationID: "c-1", ACR: policy.ACRPhishingResistant, AMR: []string{"pop", "user", "mfa", "swk"}},
		{UserID: bob.ID, UPN: bob.UserPrincipalName, Method: "passkey", Result: latchkey.SignInSuccess, AppID: "wiki", ConditionalAccess: would, CorrelationID: "c-2"},
		{UPN: "mallory@example.com", Method: "tap", Result: latchkey.SignInFailure, ErrorCode: "tap_invalid", Detail: "no such user", CorrelationID: "c-3"},
		{UserID: bob.ID, UPN: bob.UserPrincipalName, Method: "tap", Result: latchkey.SignInFailure, ErrorCode: "tap_invalid", Detail: "wrong pass", CorrelationID: "c-4"},
		{UserID: bob.ID, UPN: bob.UserPrincipalName, Method: "passkey", Result: latchkey.SignInFailure, ErrorCode: "passkey_unknown", CorrelationID: "c-5"},
		{UPN: "old@example.com", Method: "tap", Result: latchkey.SignInFailure, ErrorCode: "tap_invalid", CorrelationID: "c-old", CreatedAt: now.Add(-10 * 24 * time.Hour)},
	} {
		if err := s.Store.RecordSignIn(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return block
}

// TestBrowserAdminHome: the global admin's /admin is the home page; each count is right and
// its link leads to a list of exactly what it counted. The pages of the console are laid out at
// 1280 and 390 px (saved to LATCHKEY_SCREENSHOT_DIR when set).
func TestBrowserAdminHome(t *testing.T) {
	s := startServer(t)
	block := seedConsole(t, s)
	b := startBrowser(t)
	// The admin signs in with the one-time bootstrap pass, which is then used: the admin has no
	// passkey and no usable pass.
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	b.click("#nav-admin")
	b.waitPage("/admin", "#attention")

	lints, err := s.Policies.LintAll(context.Background(), latchkey.SystemActor)
	if err != nil {
		t.Fatal(err)
	}
	findings := 0
	for _, l := range lints {
		findings += len(l.Findings)
	}
	if findings == 0 {
		t.Fatal("the report-only block has no lint finding; the test needs one")
	}
	for sel, want := range map[string]int{"#att-no-passkey": 3, "#att-active-passes": 2, "#att-report-only": 2,
		"#att-lint": findings, "#att-failures": 3} {
		if got := b.attr(sel, "data-count"); got != strconv.Itoa(want) {
			t.Errorf("%s counts %s, want %d", sel, got, want)
		}
	}
	if got := b.attr(`#att-report-only li[data-policy="`+block.ID+`"]`, "data-would-block"); got != "2" {
		t.Errorf("the report-only policy would have blocked %q sign-ins, want 2", got)
	}
	if n := b.count(`#att-report-only li[data-policy="require-phr"] a`); n != 0 {
		t.Error("a policy that would have blocked nothing links to a list")
	}
	screenshots(t, b, "admin-home")

	// Each link leads to what it counted.
	for _, c := range []struct {
		link, path, rows string
		want             []string
	}{
		{"#att-no-passkey a", "/admin/users", "#users tbody tr", []string{"admin", "bob@example.com", "carol@example.com"}},
		{"#att-active-passes a", "/admin/users", "#users tbody tr", []string{"bob@example.com", "carol@example.com"}},
		{"#att-failures a", "/admin/signins", "#signin-log [data-signin-id]", []string{"c-5", "c-4", "c-3"}},
		{`#att-report-only li[data-policy="block-everyone"] a`, "/admin/signins", "#signin-log [data-signin-id]", []string{"c-2", "c-1"}},
	} {
		b.navigate(s.URL + "/admin")
		b.waitVisible("#attention")
		b.click(c.link)
		b.waitPage(c.path, c.rows)
		got := eval[[]string](b, `[...document.querySelectorAll(`+js(c.rows)+`)].map(r => r.dataset.correlationId || r.querySelector("a, td").textContent.trim())`)
		if !equalStrings(got, c.want) {
			t.Errorf("%s leads to %s listing %v, want %v", c.link, b.location(), got, c.want)
		}
	}
}

// equalStrings reports whether a and b hold the same strings in the same order.
func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// screenshots saves the tab at 1280 and 390 px wide as name-1280.png and name-390.png, full
// height, when LATCHKEY_SCREENSHOT_DIR is set; the window is left at 1280 px.
func screenshots(t *testing.T, b *browser, name string) {
	t.Helper()
	for _, w := range []int64{390, 1280} {
		b.step("set the window to "+strconv.FormatInt(w, 10)+" px", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(w, 900))
			return err
		})
		dir := os.Getenv("LATCHKEY_SCREENSHOT_DIR")
		if dir == "" {
			continue
		}
		var png []byte
		b.step("full-page screenshot", func(ctx context.Context) error {
			var err error
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
			return err
		})
		if err := os.WriteFile(filepath.Join(dir, name+"-"+strconv.FormatInt(w, 10)+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBrowserConsoleScreenshots shows the console's pages, with data, at 1280 and 390 px, and
// checks that none is wider than the window on a phone; that every page links a favicon that is
// served as an SVG; and that the applications page gives the issuer and the discovery URL that
// serves the issuer's discovery document.
func TestBrowserConsoleScreenshots(t *testing.T) {
	s := startServer(t)
	seedConsole(t, s)
	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	for _, p := range []struct{ path, name string }{
		{"/admin/users", "users"}, {"/admin/signins", "signins"}, {"/admin/policy", "policy"}, {"/admin/ca", "ca"},
		{"/admin/strengths", "strengths"}, {"/admin/apps", "apps"},
	} {
		b.navigate(s.URL + p.path)
		b.waitPage(p.path, "main h1")
		screenshots(t, b, "console-"+p.name)
		b.step("phone width", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 900))
			return err
		})
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s is %d px wide on a 390 px phone", p.path, w)
		}
		if href := b.attr(`link[rel=icon]`, "href"); href != "/static/favicon.svg" {
			t.Errorf("%s links the favicon %q", p.path, href)
		}
		b.step("desktop width", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900))
			return err
		})
	}
	// The methods form, opened: who may use a method, who is excepted, and its options are
	// three separate boxes.
	b.navigate(s.URL + "/admin/policy")
	b.click("#change-methods > summary")
	b.waitVisible("#policy-methods")
	for _, sel := range []string{"fieldset.targets:not(.exclude)", "fieldset.targets.exclude", "fieldset.options"} {
		if n := b.count("#policy-methods " + sel); n != 2 {
			t.Errorf("the methods form has %d %s, want one for passkeys and one for passes", n, sel)
		}
	}
	screenshots(t, b, "console-policy-methods-open")

	icon := awaitJS[string](b, `fetch("/static/favicon.svg").then(r => r.status + " " + r.headers.get("Content-Type"))`)
	if icon != "200 image/svg+xml" {
		t.Errorf("favicon answers %q, want 200 image/svg+xml", icon)
	}

	b.navigate(s.URL + "/admin/apps")
	b.waitPage("/admin/apps", "#oidc-issuer")
	if got := b.text("#oidc-issuer"); got != s.URL {
		t.Errorf("applications page gives the issuer %q, want %q", got, s.URL)
	}
	discovery := b.text("#oidc-discovery")
	if discovery != s.URL+"/.well-known/openid-configuration" {
		t.Errorf("applications page gives the discovery URL %q", discovery)
	}
	if iss := awaitJS[string](b, `fetch(`+js(discovery)+`).then(r => r.json()).then(d => d.issuer)`); iss != s.URL {
		t.Errorf("the discovery URL names the issuer %q, want %q", iss, s.URL)
	}

	// Deleting an application asks first, naming it and saying what happens; "Keep it" keeps it.
	b.typeInto(`#add-app input[name="name"]`, "Payroll")
	b.typeInto(`#add-app textarea[name="redirectUris"]`, "https://payroll.example.com/callback")
	b.click(`#add-app button[type="submit"]`)
	b.waitPage("/admin/apps", "#apps")
	b.navigate(s.URL + "/admin/apps")
	b.waitPage("/admin/apps", "a.delete-app")
	b.click("a.delete-app")
	b.waitPage("/admin/apps", "#delete-app")
	if got := b.text("#delete-app h2"); got != "Delete Payroll?" {
		t.Errorf("the confirmation asks %q", got)
	}
	screenshots(t, b, "console-apps-delete")
	b.click("#delete-app a")
	b.waitPage("/admin/apps", "#apps")
	if !strings.Contains(b.text("#apps"), "Payroll") {
		t.Errorf("Keep it removed the application")
	}
}
