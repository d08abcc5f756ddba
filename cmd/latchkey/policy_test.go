package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/policy"
)

// policyOf reads the stored policy through `policy show --json`.
func policyOf(t *testing.T, d string) policy.MethodsPolicy {
	t.Helper()
	out, errOut, code := run(t, "policy", "show", "--json", d)
	if code != 0 {
		t.Fatalf("policy show: %d %s", code, errOut)
	}
	var p policy.MethodsPolicy
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return p
}

func TestCLIPolicy(t *testing.T) {
	d := "--data=" + t.TempDir()
	if _, errOut, code := run(t, "group", "add", "Admins", d); code != 0 {
		t.Fatal(errOut)
	}

	p := policyOf(t, d)
	if len(p.Passkey.Profiles) != 1 || p.Passkey.DefaultProfileID != policy.DefaultProfileID {
		t.Fatalf("default policy %+v", p.Passkey)
	}
	out, _, code := run(t, "policy", "show", d)
	if code != 0 || !strings.Contains(out, "Default (default)") || !strings.Contains(out, "Temporary access passes: enabled") ||
		!strings.Contains(out, "Passwords (migration only): disabled") || !strings.Contains(out, "Authenticator apps (TOTP, migration only): disabled") {
		t.Errorf("policy show: %d\n%s", code, out)
	}

	// The field guide's model.
	out, errOut, code := run(t, "policy", "profile", "add", "Tier 0 admins", "--groups", "Admins", "--types", "deviceBound",
		"--attestation", "registrationOnly", "--allow", "CB69481E-8FF7-4039-93EC-0A2729A154A8", d)
	if code != 0 || !strings.Contains(out, "Added passkey profile Tier 0 admins") {
		t.Fatalf("profile add: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "policy", "profile", "add", "Workforce", "--types", "both", "--default", d); code != 0 {
		t.Fatalf("profile add Workforce: %s", errOut)
	}
	if _, errOut, code := run(t, "policy", "profile", "remove", "Default", d); code != 0 {
		t.Fatalf("profile remove: %s", errOut)
	}
	p = policyOf(t, d)
	if len(p.Passkey.Profiles) != 2 {
		t.Fatalf("profiles %+v", p.Passkey.Profiles)
	}
	t0, wf := p.Passkey.Profiles[0], p.Passkey.Profiles[1]
	if t0.Name != "Tier 0 admins" || len(t0.TargetGroupIDs) != 1 || t0.PasskeyTypes != "deviceBound" || t0.AttestationEnforcement != "registrationOnly" ||
		!t0.KeyRestrictions.IsEnforced || t0.KeyRestrictions.EnforcementType != "allow" || t0.KeyRestrictions.AAGUIDs[0] != "cb69481e-8ff7-4039-93ec-0a2729a154a8" {
		t.Errorf("Tier 0 %+v", t0)
	}
	if wf.Name != "Workforce" || p.Passkey.DefaultProfileID != wf.ID {
		t.Errorf("Workforce %+v, default %s", wf, p.Passkey.DefaultProfileID)
	}
	out, _, _ = run(t, "policy", "show", d)
	for _, want := range []string{"Tier 0 admins", "groups: Admins", "Workforce (default)", "allow only", "cb69481e-8ff7-4039-93ec-0a2729a154a8"} {
		if !strings.Contains(out, want) {
			t.Errorf("policy show lacks %q:\n%s", want, out)
		}
	}

	// Refusals: exit 1 with the plain message and the detail, and nothing stored.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "profile", "add", "Ghosts", "--groups", "Nobody"}, "unknown_group"},
		{[]string{"policy", "profile", "add", "Bad", "--types", "hardware"}, "invalid_policy"},
		{[]string{"policy", "profile", "add", "workforce"}, "profile_exists"},
		{[]string{"policy", "profile", "add", "Bad", "--block", "yubikey"}, "invalid_policy"},
		{[]string{"policy", "profile", "remove", "Workforce"}, "invalid_policy"},
		{[]string{"policy", "profile", "remove", "Nope"}, "profile_not_found"},
	} {
		_, errOut, code := run(t, append(tc.args, d)...)
		if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "latchkey: ") {
			t.Errorf("%v: exit %d, stderr %s", tc.args, code, errOut)
		}
	}
	if after := policyOf(t, d); len(after.Passkey.Profiles) != 2 || after.Passkey.DefaultProfileID != wf.ID {
		t.Errorf("a refused change was stored: %+v", after.Passkey)
	}
	if _, _, code := run(t, "policy", "profile", "add", "X", "--allow", "a", "--block", "b", d); code != 2 {
		t.Errorf("--allow with --block: exit %d, want 2", code)
	}

	// set: the JSON document round-trips; a bad one is refused with the error.
	doc, _, _ := run(t, "policy", "show", "--json", d)
	doc = strings.Replace(doc, `"isGuestRegistrationAllowed": false`, `"isGuestRegistrationAllowed": true`, 1)
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, "policy", "set", file, d); code != 0 || !strings.Contains(out, "Stored") {
		t.Fatalf("policy set: %d %s %s", code, out, errOut)
	}
	if !policyOf(t, d).Passkey.IsGuestRegistrationAllowed {
		t.Error("policy set did not store the change")
	}
	if err := os.WriteFile(file, []byte(`{"passkey": {"state": "sometimes"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "policy", "set", file, d)
	if code != 1 || !strings.Contains(errOut, "not valid") || !strings.Contains(errOut, "invalid_policy") || !strings.Contains(errOut, "sometimes") {
		t.Errorf("bad policy set: %d %s", code, errOut)
	}
	if p := policyOf(t, d); p.Passkey.State != "enabled" || len(p.Passkey.Profiles) != 2 {
		t.Errorf("a refused set was stored: %+v", p.Passkey)
	}
}

// inspectVerdict is what `passkey inspect --user --json` adds.
type inspectVerdict struct {
	OK       bool   `json:"ok"`
	Kind     string `json:"kind"`
	Profiles []struct {
		Profile, Name, Code, Detail string
		Allowed                     bool
	} `json:"profiles"`
	Policy *struct {
		User, Code, Message, Detail, Attestation string
		Allowed                                  bool
	} `json:"policy"`
}

func TestCLIPasskeyInspectUser(t *testing.T) {
	d := "--data=" + t.TempDir()
	for _, args := range [][]string{
		{"group", "add", "Admins"}, {"user", "add", "ann@example.com"}, {"user", "add", "bob@example.com"},
		{"group", "add-member", "Admins", "ann@example.com"},
		{"policy", "profile", "add", "Tier 0 admins", "--groups", "Admins", "--types", "deviceBound", "--attestation", "registrationOnly"},
		{"policy", "profile", "add", "Attested", "--groups", "Admins", "--types", "both", "--attestation", "registrationOnly"},
	} {
		if _, errOut, code := run(t, append(args, d)...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	file, _ := writeVector(t, "spire-touchid-1-registration") // synced, attestation none, user verified
	inspect := func(user string) inspectVerdict {
		t.Helper()
		out, errOut, code := run(t, "passkey", "inspect", file, "--user", user, "--json", d)
		if code != 0 {
			t.Fatalf("inspect --user %s: %d %s", user, code, errOut)
		}
		var v inspectVerdict
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return v
	}
	v := inspect("ann@example.com")
	if !v.OK || v.Kind != "synced" || v.Policy == nil || v.Policy.Allowed || v.Policy.Attestation != "none" {
		t.Fatalf("ann: %+v", v)
	}
	// Tier 0 refuses the kind first; Attested accepts the kind but not the missing attestation;
	// the overall code is the most relevant of them.
	if len(v.Profiles) != 2 || v.Profiles[0].Name != "Tier 0 admins" || v.Profiles[0].Allowed || v.Profiles[0].Code != policy.CodeKindNotAllowed ||
		v.Profiles[1].Allowed || v.Profiles[1].Code != policy.CodeAttestationRequired {
		t.Errorf("ann's profiles: %+v", v.Profiles)
	}
	if v.Policy.Code != policy.CodeKindNotAllowed || v.Policy.Message == "" || !strings.Contains(v.Policy.Detail, "Tier 0 admins") {
		t.Errorf("ann's verdict: %+v", v.Policy)
	}

	// Bob is in no targeted group: the default profile accepts the synced passkey.
	v = inspect("bob@example.com")
	if v.Policy == nil || !v.Policy.Allowed || len(v.Profiles) != 1 || !v.Profiles[0].Allowed || v.Profiles[0].Profile != policy.DefaultProfileID {
		t.Errorf("bob: %+v", v)
	}

	// Human output names the verdict; an unknown user is refused.
	out, _, code := run(t, "passkey", "inspect", file, "--user", "ann@example.com", d)
	if code != 0 || !strings.Contains(out, "Policy verdict: REFUSED kind_not_allowed") || !strings.Contains(out, "Tier 0 admins refuses (kind_not_allowed)") {
		t.Errorf("human output: %d\n%s", code, out)
	}
	if _, errOut, code := run(t, "passkey", "inspect", file, "--user", "nobody@example.com", d); code != 1 || !strings.Contains(errOut, "user_not_found") {
		t.Errorf("unknown user: %d %s", code, errOut)
	}
}
