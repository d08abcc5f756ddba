package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authz"
	"github.com/latchkey/latchkey/internal/policy"
)

func TestAPIPolicyGetDefault(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	r := admin.get("/api/v1/policies/authenticationMethods")
	if r.status != http.StatusOK {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	m := r.object(t)
	pk, _ := m["passkey"].(map[string]any)
	tap, _ := m["temporaryAccessPass"].(map[string]any)
	if pk == nil || tap == nil {
		t.Fatalf("shape %s", r.body)
	}
	for _, k := range []string{"state", "includeTargets", "excludeTargets", "isSelfServiceRegistrationAllowed",
		"isUserVerificationRequired", "isGuestRegistrationAllowed", "passkeyProfiles", "defaultPasskeyProfileId"} {
		if _, ok := pk[k]; !ok {
			t.Errorf("passkey lacks %s", k)
		}
	}
	for _, k := range []string{"state", "includeTargets", "excludeTargets", "defaultLifetimeInMinutes", "minimumLifetimeInMinutes",
		"maximumLifetimeInMinutes", "isUsableOnce", "defaultLength"} {
		if _, ok := tap[k]; !ok {
			t.Errorf("temporaryAccessPass lacks %s", k)
		}
	}
	var p policy.MethodsPolicy
	r.decode(t, &p)
	def := policy.DefaultMethodsPolicy()
	if p.Passkey.State != policy.StateEnabled || p.Passkey.DefaultProfileID != policy.DefaultProfileID || len(p.Passkey.Profiles) != 1 ||
		p.Passkey.Profiles[0].PasskeyTypes != policy.PasskeyTypesBoth || !p.Passkey.IsUserVerificationRequired ||
		p.TemporaryAccessPass.DefaultLifetimeInMinutes != def.TemporaryAccessPass.DefaultLifetimeInMinutes {
		t.Errorf("default policy %+v", p)
	}
}

// tier0 is the field guide's model for group admins.
func tier0PolicyJSON(admins string) string {
	return `{"passkey": {"state": "enabled", "includeTargets": [{"id": "all_users", "targetType": "group"}],
  "isSelfServiceRegistrationAllowed": true, "isUserVerificationRequired": true,
  "passkeyProfiles": [
    {"id": "tier0", "name": "Tier 0 admins", "targetGroupIds": ["` + admins + `"], "passkeyTypes": "deviceBound",
     "attestationEnforcement": "registrationOnly",
     "keyRestrictions": {"isEnforced": true, "enforcementType": "allow", "aaGuids": ["CB69481E-8FF7-4039-93EC-0A2729A154A8"]}},
    {"id": "workforce", "name": "Workforce", "targetGroupIds": [], "passkeyTypes": "both", "attestationEnforcement": "disabled",
     "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []}}],
  "defaultPasskeyProfileId": "workforce"}}`
}

func TestAPIPolicyPut(t *testing.T) {
	h := newHarness(t)
	admin, _ := h.signedInClient("admin@example.com", true)
	admins := h.createGroup("Admins")

	r := admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", tier0PolicyJSON(admins.ID))
	if r.status != http.StatusOK {
		t.Fatalf("PUT Tier 0: %d %s", r.status, r.body)
	}
	p := h.storedPolicy()
	if len(p.Passkey.Profiles) != 2 || p.Passkey.DefaultProfileID != "workforce" {
		t.Fatalf("stored %+v", p.Passkey)
	}
	t0 := p.Passkey.Profiles[0]
	if t0.TargetGroupIDs[0] != admins.ID || t0.PasskeyTypes != policy.PasskeyTypesDeviceBound ||
		t0.KeyRestrictions.AAGUIDs[0] != yubiKey5 || t0.AttestationEnforcement != policy.AttestationEnforcementRegistrationOnly {
		t.Errorf("Tier 0 stored as %+v", t0)
	}
	// Left-out fields keep their defaults: the TAP method.
	if p.TemporaryAccessPass.DefaultLifetimeInMinutes != 60 {
		t.Errorf("TAP %+v", p.TemporaryAccessPass)
	}
	var echoed policy.MethodsPolicy
	r.decode(t, &echoed)
	if echoed.Passkey.Profiles[0].KeyRestrictions.AAGUIDs[0] != yubiKey5 {
		t.Errorf("answer %s", r.body)
	}

	// Refusals store nothing.
	bad := strings.Replace(tier0PolicyJSON(admins.ID), `"deviceBound"`, `"hardware"`, 1)
	r = admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", bad)
	e := errorBody(t, r, http.StatusBadRequest, "invalid_policy")
	if !strings.Contains(e.Detail, "hardware") {
		t.Errorf("detail %q", e.Detail)
	}
	r = admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", tier0PolicyJSON("no-such-group"))
	errorBody(t, r, http.StatusBadRequest, "unknown_group")
	r = admin.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{"passkey": {"colour": "blue"}}`)
	errorBody(t, r, http.StatusBadRequest, "invalid_policy")
	after := h.storedPolicy()
	if b1, b2 := policyJSONOf(t, p), policyJSONOf(t, after); b1 != b2 {
		t.Errorf("a refused PUT changed the policy:\n%s\n%s", b1, b2)
	}
}

func policyJSONOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIPolicyNotAdmin(t *testing.T) {
	h := newHarness(t)
	bob, _ := h.signedInClient("bob@example.com", false)
	errorBody(t, bob.get("/api/v1/policies/authenticationMethods"), http.StatusForbidden, authz.CodeNotAllowed)
	errorBody(t, bob.send(http.MethodPut, "/api/v1/policies/authenticationMethods", `{}`), http.StatusForbidden, authz.CodeNotAllowed)
	if n := len(h.storedPolicy().Passkey.Profiles); n != 1 {
		t.Errorf("%d profiles", n)
	}
	errorBody(t, h.newClient().get("/api/v1/policies/authenticationMethods"), http.StatusUnauthorized, "not_signed_in")
}
