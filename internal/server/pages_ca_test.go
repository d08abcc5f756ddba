package server

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

var lockoutCountRE = regexp.MustCompile(`id="lockout-count">(\d+)<`)

// pageText returns the body with tags removed and spaces collapsed, for plain-words checks.
func pageText(r *response) string {
	s := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(r.body), " ")
	return html.UnescapeString(strings.Join(strings.Fields(s), " "))
}

func TestCAPages(t *testing.T) {
	e := newCAEnv(t)
	c := e.admin
	ctx := context.Background()
	for _, p := range []string{"/admin/ca", "/admin/ca/new", "/admin/strengths", "/admin/locations", "/admin/whatif"} {
		if r := c.get(p); r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	if r := c.get("/admin/ca"); !strings.Contains(string(r.body), `id="nav-ca"`) || !strings.Contains(pageText(r), "No conditional access policies yet") {
		t.Fatalf("empty list page: %s", r.body)
	}

	// A named location and a custom strength through their forms.
	if r := c.postForm("/admin/locations", url.Values{"name": {"Office"}, "ranges": {"203.0.113.0/24\n198.51.100.7"}, "trusted": {"yes"}}); r.status != http.StatusSeeOther {
		t.Fatalf("add location: %d %s", r.status, r.body)
	}
	r := c.postForm("/admin/locations", url.Values{"name": {"Bad"}, "ranges": {"nowhere"}})
	checkErrorPage(t, r, "invalid_policy")
	if !strings.Contains(string(r.body), "nowhere") {
		t.Fatal("the refused form lost what was typed")
	}
	if r := c.postForm("/admin/strengths", url.Values{"name": {"Hardware passkey"}, "combinations": {"passkey"}, "kinds": {"device-bound"}}); r.status != http.StatusSeeOther {
		t.Fatalf("add strength: %d %s", r.status, r.body)
	}
	checkErrorPage(t, c.postForm("/admin/strengths", url.Values{"name": {"Empty"}}), "invalid_policy")
	cfg, err := e.h.svc.ConditionalAccess(ctx)
	if err != nil || len(cfg.NamedLocations) != 1 || len(cfg.Strengths) != 1 || cfg.Strengths[0].PasskeyConditions == nil {
		t.Fatalf("stored %v %+v", err, cfg)
	}
	office, hw := cfg.NamedLocations[0], cfg.Strengths[0]
	if r := c.get("/admin/strengths"); !strings.Contains(pageText(r), "Passkey (any kind, with PIN or biometric)") || !strings.Contains(pageText(r), "passkeys of kind device-bound only") {
		t.Fatalf("strengths page: %s", pageText(r))
	}

	// Create a policy through the form: all users but the break-glass account, all apps except
	// from the office, phishing-resistant MFA, report-only.
	form := url.Values{"name": {"Phishing-resistant MFA for all apps"}, "state": {policy.CAStateReportOnly},
		"users": {"all"}, "excludeUsers": {"breakglass@example.com"}, "target": {"all"},
		"includeLocations": {"All"}, "excludeLocations": {office.ID}, "clientTypes": {"browser"},
		"grant": {"strength"}, "strength": {policy.StrengthPhishingResistantMFA}, "signInFrequencyHours": {"12"},
		"includePlatforms": {"windows"}, "minVersion_windows": {"10.0.19045"}}
	if r := c.postForm("/admin/ca", form); r.status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.status, pageText(r))
	}
	cfg, _ = e.h.svc.ConditionalAccess(ctx)
	p := cfg.Policies[0]
	if p.State != policy.CAStateReportOnly || p.Users.ExcludeUsers[0] != e.breakGlass || p.SignInFrequency.Hours() != 12 ||
		p.Conditions.Platforms.MinimumVersions["windows"] != "10.0.19045" || p.Conditions.Locations.ExcludeLocations[0] != office.ID {
		t.Fatalf("stored %+v", p)
	}
	list := c.get("/admin/ca")
	text := pageText(list)
	for _, want := range []string{"Phishing-resistant MFA for all apps", "Report-only", "All users, except breakglass@example.com",
		"All applications, on Windows 10.0.19045 or later, from anywhere except Office, from browser clients",
		"Require Phishing-resistant MFA; sign in again every 12 hours",
		`These people have no sign-in method that meets "Phishing-resistant MFA", so they would be locked out: admin@example.com`} {
		if !strings.Contains(text, want) {
			t.Errorf("list page lacks %q:\n%s", want, text)
		}
	}
	// The edit form shows it as stored.
	edit := c.get("/admin/ca/" + p.ID)
	for _, want := range []string{`>breakglass@example.com</textarea>`, `value="10.0.19045"`, `name="signInFrequencyHours" min="1" step="any" value="12"`} {
		if !strings.Contains(string(edit.body), want) {
			t.Errorf("edit form lacks %q", want)
		}
	}

	// Quick switch to On: refused, the page names the person and asks for the count.
	r = c.postForm("/admin/ca/"+p.ID+"/state", url.Values{"state": {"enabled"}})
	checkErrorPage(t, r, policy.CodeLockoutOverrideNeeded)
	text = pageText(r)
	if m := lockoutCountRE.FindSubmatch(r.body); m == nil || string(m[1]) != "1" || !strings.Contains(text, "admin@example.com") ||
		!strings.Contains(text, "could lock out 1 person") || !strings.Contains(string(r.body), `action="/admin/ca/`+p.ID+`/state"`) {
		t.Fatalf("lockout page: %s", text)
	}
	// A wrong count is refused; the right one switches it on.
	checkErrorPage(t, c.postForm("/admin/ca/"+p.ID+"/state", url.Values{"state": {"enabled"}, "lockoutOverride": {"2"}}), policy.CodeLockoutOverrideNeeded)
	checkErrorPage(t, c.postForm("/admin/ca/"+p.ID+"/state", url.Values{"state": {"enabled"}, "lockoutOverride": {"one"}}), "invalid_request")
	if got, _ := e.h.policies.FindCAPolicy(ctx, latchkey.SystemActor, p.ID); got.State != policy.CAStateReportOnly {
		t.Fatalf("state %q after refusals", got.State)
	}
	if r := c.postForm("/admin/ca/"+p.ID+"/state", url.Values{"state": {"enabled"}, "lockoutOverride": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("override: %d %s", r.status, pageText(r))
	}
	if got, _ := e.h.policies.FindCAPolicy(ctx, latchkey.SystemActor, p.ID); got.State != policy.CAStateEnabled {
		t.Fatalf("state %q", got.State)
	}

	// Editing it to cover registering security info with it: the paradox, everyone named; the
	// form comes back as posted with the override field.
	form.Set("state", policy.CAStateEnabled)
	form.Set("target", "register")
	r = c.postForm("/admin/ca/"+p.ID, form)
	checkErrorPage(t, r, policy.CodeLockoutOverrideNeeded)
	text = pageText(r)
	if !strings.Contains(text, "Registering security info would need more than a temporary access pass") ||
		!strings.Contains(text, "admin@example.com bob@example.com carol@example.com") || !strings.Contains(string(r.body), `name="lockoutOverride"`) ||
		!strings.Contains(string(r.body), `value="register" checked`) {
		t.Fatalf("paradox page: %s", text)
	}
	// Requiring MFA instead passes without an override.
	form.Set("strength", policy.StrengthMFA)
	if r := c.postForm("/admin/ca/"+p.ID, form); r.status != http.StatusSeeOther {
		t.Fatalf("MFA to register: %d %s", r.status, pageText(r))
	}

	// A new enabled policy through the form with an unknown user, then the lint.
	bad := url.Values{"name": {"Block guests"}, "state": {"enabled"}, "users": {"selected"}, "includeUsers": {"zed@example.com"},
		"target": {"all"}, "grant": {"block"}}
	r = c.postForm("/admin/ca", bad)
	checkErrorPage(t, r, "unknown_user")
	if !strings.Contains(pageText(r), `"zed@example.com"`) {
		t.Fatalf("unknown user page: %s", pageText(r))
	}
	checkErrorPage(t, c.postForm("/admin/ca", url.Values{"name": {"Nobody"}, "state": {"enabled"}, "users": {"selected"}, "target": {"all"}, "grant": {"block"}}), "invalid_policy")
	checkErrorPage(t, c.postForm("/admin/ca", url.Values{"name": {"x"}, "state": {"enabled"}, "users": {"all"}, "target": {"all"}, "grant": {"strength"}, "signInFrequencyHours": {"-3"}, "strength": {"mfa"}}), "invalid_policy")
	// Blocking everybody: blocks_everyone and no break-glass, four people; 4 confirms.
	everyone := url.Values{"name": {"Block all"}, "state": {"enabled"}, "users": {"all"}, "target": {"all"}, "grant": {"block"}}
	r = c.postForm("/admin/ca", everyone)
	if m := lockoutCountRE.FindSubmatch(r.body); m == nil || string(m[1]) != "4" || !strings.Contains(pageText(r), "The policy blocks everybody, everywhere") {
		t.Fatalf("block everyone: %s", pageText(r))
	}
	everyone.Set("lockoutOverride", "3")
	checkErrorPage(t, c.postForm("/admin/ca", everyone), policy.CodeLockoutOverrideNeeded)
	everyone.Set("lockoutOverride", "4")
	if r := c.postForm("/admin/ca", everyone); r.status != http.StatusSeeOther {
		t.Fatalf("confirmed: %d %s", r.status, pageText(r))
	}
	cfg, _ = e.h.svc.ConditionalAccess(ctx)
	if len(cfg.Policies) != 2 {
		t.Fatalf("%d policies", len(cfg.Policies))
	}
	blockAll := cfg.Policies[1]

	// What-if, through its form: the admin is blocked by "Block all".
	r = c.postForm("/admin/whatif", url.Values{"user": {"carol@example.com"}, "target": {"app:" + e.appID}, "platform": {"windows"},
		"platformVersion": {"10.0.22631"}, "ip": {"192.0.2.1"}, "clientType": {"browser"}})
	if r.status != http.StatusOK || !strings.Contains(pageText(r), `carol@example.com would be blocked from application Payroll by "Block all".`) {
		t.Fatalf("what-if: %d %s", r.status, pageText(r))
	}
	checkErrorPage(t, c.postForm("/admin/whatif", url.Values{"user": {"zed@example.com"}, "target": {"app:" + e.appID}}), "unknown_user")

	// Delete it; strengths and locations in use cannot be deleted.
	if r := c.postForm("/admin/ca/"+blockAll.ID+"/delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.status)
	}
	r = c.postForm("/admin/locations/"+office.ID+"/delete", nil)
	checkErrorPage(t, r, "location_in_use")
	if r := c.postForm("/admin/strengths/"+hw.ID+"/delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete unused strength: %d %s", r.status, pageText(r))
	}
	if r := c.postForm("/admin/locations/"+office.ID, url.Values{"name": {"HQ"}, "ranges": {"203.0.113.0/24"}}); r.status != http.StatusSeeOther {
		t.Fatalf("rename location: %d", r.status)
	}
	r = c.postForm("/admin/whatif", url.Values{"user": {"bob@example.com"}, "target": {"action:registerSecurityInformation"},
		"platform": {"windows"}, "platformVersion": {"10.0.22631"}, "ip": {"192.0.2.1"}, "clientType": {"browser"}})
	if text := pageText(r); !strings.Contains(text, "bob@example.com can meet what registering security info demands (MFA)") || !strings.Contains(text, "yes") {
		t.Fatalf("what-if register: %s", text)
	}
	errorPageMissing := c.get("/admin/ca/nope")
	checkErrorPage(t, errorPageMissing, "policy_not_found")
}

// caFormRoute has formRoute's fields (TestBadFormInput declares that type inside itself).
type caFormRoute struct {
	name   string
	path   string
	c      *client
	token  string
	fields url.Values
}

// caFormRoutes are the conditional access forms for TestBadFormInput, in an order in which, sent
// properly, each works; it creates what their paths name.
func caFormRoutes(t *testing.T, h *harness, c *client, token string) []caFormRoute {
	t.Helper()
	ctx := context.Background()
	p, _, err := h.policies.CreateCAPolicy(ctx, latchkey.SystemActor, policy.ConditionalAccessPolicy{Name: "Off", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{Block: true}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.policies.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Passkey", AllowedCombinations: []string{"passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	var locs []policy.NamedLocation
	for _, name := range []string{"Office", "Lab"} {
		l, err := h.policies.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: name, CIDRs: []string{"203.0.113.0/24"}})
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, l)
	}
	pol := url.Values{"name": {"Report MFA"}, "state": {policy.CAStateReportOnly}, "users": {"all"}, "target": {"all"}, "grant": {"strength"}, "strength": {"mfa"}}
	return []caFormRoute{
		{"POST /admin/ca", "/admin/ca", c, token, pol},
		{"POST /admin/ca/{id}", "/admin/ca/" + p.ID, c, token, url.Values{"name": {"Off, renamed"}, "state": {"disabled"}, "users": {"all"}, "target": {"all"}, "grant": {"block"}}},
		{"POST /admin/ca/{id}/state", "/admin/ca/" + p.ID + "/state", c, token, url.Values{"state": {"disabled"}}},
		{"POST /admin/strengths", "/admin/strengths", c, token, url.Values{"name": {"Key"}, "combinations": {"passkey"}, "kinds": {"device-bound"}}},
		{"POST /admin/strengths/{id}/delete", "/admin/strengths/" + st.ID + "/delete", c, token, url.Values{}},
		{"POST /admin/locations", "/admin/locations", c, token, url.Values{"name": {"Home"}, "ranges": {"192.0.2.0/24"}}},
		{"POST /admin/locations/{id}", "/admin/locations/" + locs[0].ID, c, token, url.Values{"name": {"HQ"}, "ranges": {"198.51.100.0/24"}}},
		{"POST /admin/locations/{id}/delete", "/admin/locations/" + locs[1].ID + "/delete", c, token, url.Values{}},
		{"POST /admin/whatif", "/admin/whatif", c, token, url.Values{"user": {"admin@example.com"}, "target": {"action:registerSecurityInformation"}}},
		{"POST /admin/ca/{id}/delete", "/admin/ca/" + p.ID + "/delete", c, token, url.Values{}},
	}
}

// caSnapshot is the stored conditional access document, to check that refused posts wrote nothing.
func caSnapshot(t *testing.T, h *harness) string {
	t.Helper()
	raw, err := h.store.GetSetting(context.Background(), signin.ConditionalAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
