package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/web"
)

// createGroup stores a group and returns it.
func (h *harness) createGroup(name string) *latchkey.Group {
	h.t.Helper()
	g := &latchkey.Group{DisplayName: name}
	if err := g.Validate(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.CreateGroup(context.Background(), g); err != nil {
		h.t.Fatalf("create group %s: %v", name, err)
	}
	return g
}

// storedPolicy returns the policy the service reads.
func (h *harness) storedPolicy() policy.MethodsPolicy {
	h.t.Helper()
	p, err := h.svc.MethodsPolicy(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// postForm posts fields with c's CSRF token.
func (c *client) postForm(path string, fields url.Values) *response {
	c.h.t.Helper()
	v := url.Values{web.CSRFField: {c.formCSRF()}}
	for k, vs := range fields {
		v[k] = vs
	}
	return c.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

const yubiKey5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8"

func TestPolicyPage(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	admins := h.createGroup("Admins")
	h.createGroup("Contractors")

	r := admin.get("/admin/policy")
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/policy: %d %.500s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{`href="/admin/policy"`, `id="policy-methods"`, `id="add-profile"`, `id="policy-default"`,
		"Default", `id="default-profile"`, "Device-bound and synced passkeys", "Admins", "Contractors", `name="csrf"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the policy page lacks %q", want)
		}
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
		t.Error("the policy page has inline styles or scripts")
	}

	// The field guide's model: Tier 0 admins, then Workforce as the default.
	r = admin.postForm("/admin/policy/profiles", url.Values{"name": {"Tier 0 admins"}, "groups": {admins.ID},
		"passkeyTypes": {"deviceBound"}, "attestation": {"yes"}, "keyRestrictions": {"yes"}, "enforcementType": {"allow"},
		"aaguids": {strings.ToUpper(yubiKey5) + "\r\n\r\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add Tier 0: %d %.800s", r.status, r.body)
	}
	r = admin.postForm("/admin/policy/profiles", url.Values{"name": {"Workforce"}, "passkeyTypes": {"both"},
		"enforcementType": {"block"}, "default": {"yes"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add Workforce: %d %.800s", r.status, r.body)
	}
	p := h.storedPolicy()
	if len(p.Passkey.Profiles) != 3 {
		t.Fatalf("profiles %+v", p.Passkey.Profiles)
	}
	tier0, work := p.Passkey.Profiles[1], p.Passkey.Profiles[2]
	if tier0.Name != "Tier 0 admins" || len(tier0.TargetGroupIDs) != 1 || tier0.TargetGroupIDs[0] != admins.ID ||
		tier0.PasskeyTypes != policy.PasskeyTypesDeviceBound || tier0.AttestationEnforcement != policy.AttestationEnforcementRegistrationOnly ||
		!tier0.KeyRestrictions.IsEnforced || tier0.KeyRestrictions.EnforcementType != policy.EnforcementAllow ||
		len(tier0.KeyRestrictions.AAGUIDs) != 1 || tier0.KeyRestrictions.AAGUIDs[0] != yubiKey5 {
		t.Errorf("Tier 0 stored as %+v", tier0)
	}
	if work.Name != "Workforce" || work.PasskeyTypes != policy.PasskeyTypesBoth || p.Passkey.DefaultProfileID != work.ID || work.ID == "" {
		t.Errorf("Workforce stored as %+v, default %q", work, p.Passkey.DefaultProfileID)
	}

	// The page shows them with group names and the default marked.
	body = string(admin.get("/admin/policy").body)
	for _, want := range []string{"Tier 0 admins", "Device-bound passkeys only", "required at registration", yubiKey5, `data-profile-id="` + work.ID} {
		if !strings.Contains(body, want) {
			t.Errorf("the policy page lacks %q", want)
		}
	}

	// Delete the old default, edit Tier 0, change the methods.
	if r := admin.postForm("/admin/policy/profiles/default/delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete Default: %d %.800s", r.status, r.body)
	}
	r = admin.postForm("/admin/policy/profiles/"+tier0.ID, url.Values{"name": {"Tier 0"}, "groups": {admins.ID},
		"passkeyTypes": {"deviceBound"}, "enforcementType": {"block"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit Tier 0: %d %.800s", r.status, r.body)
	}
	r = admin.postForm("/admin/policy/methods", url.Values{"passkeyState": {"enabled"}, "passkeyInclude": {policy.AllUsers},
		"passkeyExclude": {admins.ID}, "selfService": {"yes"}, "guestRegistration": {"yes"},
		"tapState": {"disabled"}, "tapInclude": {admins.ID}, "tapDefaultLifetime": {"30"}, "tapMinLifetime": {"10"},
		"tapMaxLifetime": {"60"}, "tapLength": {"12"}, "tapOneTime": {"yes"},
		// passes off: the admin, signed in with one and without a passkey, confirms locking themselves out.
		"lockoutOverride": {"1"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("methods: %d %.800s", r.status, r.body)
	}
	p = h.storedPolicy()
	if len(p.Passkey.Profiles) != 2 || p.Passkey.Profiles[0].Name != "Tier 0" || p.Passkey.Profiles[0].AttestationEnforcement != policy.AttestationEnforcementDisabled ||
		p.Passkey.Profiles[0].KeyRestrictions.IsEnforced {
		t.Errorf("profiles after edit and delete: %+v", p.Passkey.Profiles)
	}
	pm, tm := p.Passkey, p.TemporaryAccessPass
	if pm.IsUserVerificationRequired || !pm.IsGuestRegistrationAllowed || len(pm.ExcludeTargets) != 1 || pm.ExcludeTargets[0].ID != admins.ID ||
		tm.State != policy.StateDisabled || tm.DefaultLifetimeInMinutes != 30 || tm.MinimumLifetimeInMinutes != 10 ||
		tm.MaximumLifetimeInMinutes != 60 || tm.DefaultLength != 12 || !tm.IsUsableOnce || tm.IncludeTargets[0].ID != admins.ID {
		t.Errorf("methods stored as %+v / %+v", pm, tm)
	}
	// Choose the default.
	if r := admin.postForm("/admin/policy/default", url.Values{"profile": {tier0.ID}}); r.status != http.StatusSeeOther {
		t.Fatalf("default: %d %.800s", r.status, r.body)
	}
	if got := h.storedPolicy().Passkey.DefaultProfileID; got != tier0.ID {
		t.Errorf("default %q, want %q", got, tier0.ID)
	}
}

func TestPolicyPageRefusals(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	h.createGroup("Admins")
	before := h.storedPolicy()

	cases := []struct {
		name, path string
		fields     url.Values
		status     int
		code       string
	}{
		{"allow-list without AAGUIDs", "/admin/policy/profiles", url.Values{"name": {"Empty"}, "passkeyTypes": {"both"},
			"keyRestrictions": {"yes"}, "enforcementType": {"allow"}}, 400, "invalid_policy"},
		{"not an AAGUID", "/admin/policy/profiles", url.Values{"name": {"Bad"}, "passkeyTypes": {"both"},
			"enforcementType": {"block"}, "aaguids": {"yubikey"}}, 400, "invalid_policy"},
		{"no passkey types", "/admin/policy/profiles", url.Values{"name": {"None"}}, 400, "invalid_policy"},
		{"duplicate name", "/admin/policy/profiles", url.Values{"name": {"default"}, "passkeyTypes": {"both"}}, 409, "profile_exists"},
		{"unknown group", "/admin/policy/profiles", url.Values{"name": {"Ghosts"}, "passkeyTypes": {"both"},
			"groups": {latchkey.NewID()}}, 400, "unknown_group"},
		{"delete the default", "/admin/policy/profiles/default/delete", nil, 400, "invalid_policy"},
		{"unknown default", "/admin/policy/default", url.Values{"profile": {"nope"}}, 400, "invalid_policy"},
		{"methods: bad state", "/admin/policy/methods", url.Values{"passkeyState": {"on"}, "tapState": {"enabled"},
			"tapDefaultLifetime": {"60"}, "tapMinLifetime": {"60"}, "tapMaxLifetime": {"480"}, "tapLength": {"8"}}, 400, "invalid_choice"},
		{"methods: lifetime not a number", "/admin/policy/methods", url.Values{"passkeyState": {"enabled"}, "tapState": {"enabled"},
			"tapDefaultLifetime": {"an hour"}, "tapMinLifetime": {"60"}, "tapMaxLifetime": {"480"}, "tapLength": {"8"}}, 400, "invalid_policy"},
		{"methods: unknown group", "/admin/policy/methods", url.Values{"passkeyState": {"enabled"}, "passkeyInclude": {"ghosts"},
			"tapState": {"enabled"}, "tapDefaultLifetime": {"60"}, "tapMinLifetime": {"60"}, "tapMaxLifetime": {"480"}, "tapLength": {"8"}}, 400, "unknown_group"},
		{"unknown profile", "/admin/policy/profiles/nope", url.Values{"name": {"X"}, "passkeyTypes": {"both"}}, 404, "profile_not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.postForm(tc.path, tc.fields)
			if r.status != tc.status {
				t.Errorf("status %d, want %d", r.status, tc.status)
			}
			checkErrorPage(t, r, tc.code)
			if tc.status == 400 && !strings.Contains(string(r.body), `id="policy-methods"`) {
				t.Error("the refusal did not re-render the policy page")
			}
			after := h.storedPolicy()
			if len(after.Passkey.Profiles) != len(before.Passkey.Profiles) || after.Passkey.DefaultProfileID != before.Passkey.DefaultProfileID ||
				after.Passkey.State != before.Passkey.State || after.TemporaryAccessPass.DefaultLifetimeInMinutes != before.TemporaryAccessPass.DefaultLifetimeInMinutes ||
				len(after.Passkey.IncludeTargets) != 1 || after.Passkey.IncludeTargets[0].ID != policy.AllUsers {
				t.Errorf("a refused change was stored: %+v", after)
			}
		})
	}
}

func TestPolicyPageNotAdmin(t *testing.T) {
	h := newHarness(t)
	bob, _ := h.signedInClient("bob@example.com", false)
	r := bob.get("/admin/policy")
	if r.status != http.StatusForbidden {
		t.Errorf("GET /admin/policy as a member: %d", r.status)
	}
	checkErrorPage(t, r, authz.CodeNotAllowed)
	if strings.Contains(string(r.body), `href="/admin/policy"`) {
		t.Error("a member's page links to the policy page")
	}
	r = bob.postForm("/admin/policy/profiles", url.Values{"name": {"Mine"}, "passkeyTypes": {"both"}})
	if r.status != http.StatusForbidden {
		t.Errorf("POST /admin/policy/profiles as a member: %d", r.status)
	}
	checkErrorPage(t, r, authz.CodeNotAllowed)
	if n := len(h.storedPolicy().Passkey.Profiles); n != 1 {
		t.Errorf("%d profiles after a member's post", n)
	}
	// Signed out: sent to sign in.
	if r := h.newClient().get("/admin/policy"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/signin" {
		t.Errorf("GET /admin/policy signed out: %d %q", r.status, r.header.Get("Location"))
	}
}
