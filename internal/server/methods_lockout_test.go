package server

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/policyadmin"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/web"
)

// lockoutEnv is a directory for the methods lockout lint: the only global admin, whose one
// passkey is synced (their one-time pass is used up), and alice, also on a synced passkey, both
// in Admins or not; carol holds a usable pass and no passkey; dave has nothing at all.
type lockoutEnv struct {
	h      *harness
	admin  *client
	admins *latchkey.Group
}

func newLockoutEnv(t *testing.T) *lockoutEnv {
	h := newHarness(t)
	withSyncedPasskey := func(upn string, admin bool) (*client, *latchkey.User) {
		u := h.createUser(upn, admin)
		c := h.newClient()
		c.mustSignInTAP(upn, h.issueTAP(u.ID, signin.IssueOptions{OneTime: true}))
		if pk := c.mustRegister(h.newSyncedDevice()); pk.Kind != latchkey.KindSynced {
			t.Fatalf("%s's passkey is %s, want synced", upn, pk.Kind)
		}
		return c, u
	}
	admin, adminUser := withSyncedPasskey("admin@example.com", true)
	withSyncedPasskey("alice@example.com", false)
	carol := h.createUser("carol@example.com", false)
	h.issueTAP(carol.ID, signin.IssueOptions{})
	h.createUser("dave@example.com", false)
	return &lockoutEnv{h: h, admin: admin, admins: h.newGroup("Admins", adminUser)}
}

var (
	mlPanelRE   = regexp.MustCompile(`(?s)<div class="card lockout" id="lockout".*?</form>`)
	mlFindingRE = regexp.MustCompile(`(?s)<div class="finding" data-code="([a-z_]+)">.*?</div>`)
	mlPersonRE  = regexp.MustCompile(`<li>([^<]+)</li>`)
	mlConfirmRE = regexp.MustCompile(`<form id="lockout-confirm" method="post" action="([^"]+)">`)
	mlHiddenRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	mlCountRE   = regexp.MustCompile(`<strong id="lockout-count">(\d+)</strong>`)
)

// pageLockout is the lockout panel of a refused policy page.
type pageLockout struct {
	people map[string][]string // finding code -> UPNs
	count  string
	action string
	fields url.Values // the confirm form's hidden fields, CSRF token left out
}

// lockoutOfPage checks that r is the policy page refusing with lockout_override_required and
// returns its lockout panel.
func lockoutOfPage(t *testing.T, r *response) pageLockout {
	t.Helper()
	if code := checkErrorPage(t, r, policy.CodeLockoutOverrideNeeded); code != policy.CodeLockoutOverrideNeeded {
		t.Fatalf("refusal %q: %.3000s", code, r.body)
	}
	panel := mlPanelRE.Find(r.body)
	if panel == nil {
		t.Fatalf("no lockout panel: %s", r.body)
	}
	out := pageLockout{people: map[string][]string{}, fields: url.Values{}}
	for _, f := range mlFindingRE.FindAllSubmatch(panel, -1) {
		people := []string{}
		for _, p := range mlPersonRE.FindAllSubmatch(f[0], -1) {
			people = append(people, html.UnescapeString(string(p[1])))
		}
		out.people[string(f[1])] = people
	}
	if m := mlCountRE.FindSubmatch(panel); m != nil {
		out.count = string(m[1])
	}
	m := mlConfirmRE.FindSubmatch(panel)
	if m == nil {
		t.Fatalf("no confirm form in %s", panel)
	}
	out.action = html.UnescapeString(string(m[1]))
	for _, f := range mlHiddenRE.FindAllSubmatch(panel, -1) {
		if name := string(f[1]); name != web.CSRFField {
			out.fields.Add(name, html.UnescapeString(string(f[2])))
		}
	}
	return out
}

// methodsFormPost is what a browser sends from the methods form of the default policy as the
// page shows it, with the passkey include boxes as given (an unticked box sends nothing).
func methodsFormPost(passkeyInclude ...string) url.Values {
	v := url.Values{"passkeyState": {"enabled"}, "selfService": {"yes"}, "userVerification": {"yes"},
		"tapState": {"enabled"}, "tapInclude": {policy.AllUsers}, "tapDefaultLifetime": {"60"}, "tapMinLifetime": {"60"},
		"tapMaxLifetime": {"480"}, "tapLength": {"8"}}
	if len(passkeyInclude) > 0 {
		v["passkeyInclude"] = passkeyInclude
	}
	return v
}

// TestMethodsLockoutPage: the two one-click lockouts of the hardening issue, as the admin's
// browser posts them to /admin/policy, are refused with the people named; the refusal keeps
// what was entered, a wrong number is refused again, the right one stores the change.
func TestMethodsLockoutPage(t *testing.T) {
	t.Run("unticking every passkey include group", func(t *testing.T) {
		e := newLockoutEnv(t)
		before := e.h.storedPolicy()
		// The page as the admin sees it offers All users ticked; they untick it and save.
		if page := string(e.admin.get("/admin/policy").body); !strings.Contains(page, `name="passkeyInclude" value="all_users" checked`) {
			t.Fatalf("the methods form does not tick All users for passkeys: %s", page)
		}
		sent := methodsFormPost()
		r := e.admin.postForm("/admin/policy/methods", sent)
		l := lockoutOfPage(t, r)
		want := map[string][]string{
			policy.LintNoWayToSignIn:   {"admin@example.com", "alice@example.com"},
			policy.LintLastGlobalAdmin: {"admin@example.com"},
		}
		if d := cmp.Diff(l.people, want); d != "" {
			t.Errorf("people named (-got +want):\n%s", d)
		}
		if l.count != "2" || !strings.Contains(string(r.body), "the last global admin among them") {
			t.Errorf("count %q; page %.2000s", l.count, r.body)
		}
		if d := cmp.Diff(e.h.storedPolicy(), before); d != "" {
			t.Fatalf("the refused change was stored:\n%s", d)
		}
		// No work lost: the methods form shows All users unticked, and the confirm form carries
		// exactly what was posted.
		if strings.Contains(string(r.body), `name="passkeyInclude" value="all_users" checked`) {
			t.Error("the refused page ticks All users again: the admin's change is lost")
		}
		if l.action != "/admin/policy/methods" {
			t.Errorf("confirm posts to %q", l.action)
		}
		if d := cmp.Diff(l.fields, sent); d != "" {
			t.Errorf("confirm form fields (-got +sent):\n%s", d)
		}
		// A wrong number is refused again, the right one stores it.
		l.fields.Set("lockoutOverride", "3")
		lockoutOfPage(t, e.admin.postForm(l.action, l.fields))
		if d := cmp.Diff(e.h.storedPolicy(), before); d != "" {
			t.Fatalf("a wrong override stored the change:\n%s", d)
		}
		l.fields.Set("lockoutOverride", "2")
		if r := e.admin.postForm(l.action, l.fields); r.status != http.StatusSeeOther {
			t.Fatalf("with the right override: %d %.2000s", r.status, r.body)
		}
		if got := e.h.storedPolicy().Passkey.IncludeTargets; len(got) != 0 {
			t.Errorf("passkey include targets %+v, want none", got)
		}
	})

	t.Run("the README's Tier 0 profile with the only admin on a synced passkey", func(t *testing.T) {
		e := newLockoutEnv(t)
		sent := url.Values{"name": {"Tier 0 admins"}, "groups": {e.admins.ID}, "passkeyTypes": {"deviceBound"},
			"attestation": {"yes"}, "keyRestrictions": {"yes"}, "enforcementType": {"allow"},
			"aaguids": {"cb69481e-8ff7-4039-93ec-0a2729a154a8\r\nee882879-721c-4913-9775-3dfcce97072a"}}
		r := e.admin.postForm("/admin/policy/profiles", sent)
		l := lockoutOfPage(t, r)
		want := map[string][]string{
			policy.LintNoWayToSignIn:   {"admin@example.com"},
			policy.LintLastGlobalAdmin: {"admin@example.com"},
		}
		if d := cmp.Diff(l.people, want); d != "" {
			t.Errorf("people named (-got +want):\n%s", d)
		}
		if n := len(e.h.storedPolicy().Passkey.Profiles); n != 1 {
			t.Fatalf("the refused profile was stored: %d profiles", n)
		}
		// The add form keeps the name and the allow-list.
		body := string(r.body)
		addForm := body[strings.Index(body, `<form id="add-profile"`):]
		for _, w := range []string{`value="Tier 0 admins"`, "cb69481e-8ff7-4039-93ec-0a2729a154a8\nee882879-721c-4913-9775-3dfcce97072a",
			`value="deviceBound" checked`, `name="attestation" value="yes" checked`, `value="` + e.admins.ID + `" checked`} {
			if !strings.Contains(addForm, w) {
				t.Errorf("the add form lost %q", w)
			}
		}
		l.fields.Set("lockoutOverride", "2")
		lockoutOfPage(t, e.admin.postForm(l.action, l.fields))
		l.fields.Set("lockoutOverride", "1")
		if r := e.admin.postForm(l.action, l.fields); r.status != http.StatusSeeOther {
			t.Fatalf("with the right override: %d %.2000s", r.status, r.body)
		}
		p := e.h.storedPolicy()
		if len(p.Passkey.Profiles) != 2 || p.Passkey.Profiles[1].Name != "Tier 0 admins" ||
			len(p.Passkey.Profiles[1].KeyRestrictions.AAGUIDs) != 2 {
			t.Errorf("stored profiles %+v", p.Passkey.Profiles)
		}
	})

	t.Run("a change that takes nobody's way in is never refused", func(t *testing.T) {
		e := newLockoutEnv(t)
		// Passes off for Admins only: carol keeps hers, the admin's is used up anyway.
		v := methodsFormPost(policy.AllUsers)
		v["tapExclude"] = []string{e.admins.ID}
		v.Set("tapMaxLifetime", "240")
		if r := e.admin.postForm("/admin/policy/methods", v); r.status != http.StatusSeeOther {
			t.Fatalf("%d %.2000s", r.status, r.body)
		}
	})
}

// TestMethodsLockoutAPI: the same two changes through PUT /api/v1/policies/authenticationMethods.
func TestMethodsLockoutAPI(t *testing.T) {
	const path = "/api/v1/policies/authenticationMethods"
	t.Run("no passkey include target", func(t *testing.T) {
		e := newLockoutEnv(t)
		doc := `{"passkey": {"state": "enabled", "includeTargets": []}}`
		a := lockoutOfResponse(t, e.admin.send(http.MethodPut, path, doc))
		if a.AffectedUsers != 2 || !slices.Equal(a.names(policy.LintNoWayToSignIn), []string{"admin@example.com", "alice@example.com"}) ||
			!slices.Equal(a.names(policy.LintLastGlobalAdmin), []string{"admin@example.com"}) {
			t.Errorf("refusal %+v", a)
		}
		for _, f := range a.Findings {
			if f.PolicyName != policyadmin.MethodsPolicyLintName {
				t.Errorf("finding %s names policy %q", f.Code, f.PolicyName)
			}
		}
		lockoutOfResponse(t, e.admin.send(http.MethodPut, path+"?lockoutOverride=1", doc))
		errorBody(t, e.admin.send(http.MethodPut, path+"?lockoutOverride=two", doc), http.StatusBadRequest, "invalid_request")
		if got := e.h.storedPolicy().Passkey.IncludeTargets; len(got) != 1 {
			t.Fatalf("a refused change was stored: %+v", got)
		}
		if r := e.admin.send(http.MethodPut, path+"?lockoutOverride=2", doc); r.status != http.StatusOK {
			t.Fatalf("with the right override: %d %s", r.status, r.body)
		}
		if got := e.h.storedPolicy().Passkey.IncludeTargets; len(got) != 0 {
			t.Errorf("stored include targets %+v", got)
		}
	})
	t.Run("the README's Tier 0 profile", func(t *testing.T) {
		e := newLockoutEnv(t)
		doc := tier0PolicyJSON(e.admins.ID)
		a := lockoutOfResponse(t, e.admin.send(http.MethodPut, path, doc))
		if a.AffectedUsers != 1 || !slices.Equal(a.names(policy.LintNoWayToSignIn), []string{"admin@example.com"}) ||
			!strings.Contains(a.Message, "last global admin") {
			t.Errorf("refusal %+v", a)
		}
		lockoutOfResponse(t, e.admin.send(http.MethodPut, path+"?lockoutOverride=2", doc))
		if r := e.admin.send(http.MethodPut, path+"?lockoutOverride=1", doc); r.status != http.StatusOK {
			t.Fatalf("with the right override: %d %s", r.status, r.body)
		}
		if n := len(e.h.storedPolicy().Passkey.Profiles); n != 2 {
			t.Errorf("%d profiles stored", n)
		}
	})
	t.Run("a change that takes nobody's way in", func(t *testing.T) {
		e := newLockoutEnv(t)
		if r := e.admin.send(http.MethodPut, path, `{"temporaryAccessPass": {"state": "enabled", "includeTargets": [{"id": "all_users"}],
		  "defaultLifetimeInMinutes": 60, "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 120, "defaultLength": 10}}`); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}
