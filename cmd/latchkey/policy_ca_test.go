package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/loadtest"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// caDir is a realistic directory in a data folder: a break-glass account and an everyday admin
// (global admins, security keys), engineers alice (iCloud Keychain, synced) and bob (Windows
// Hello, device-bound), carol in sales (Google Password Manager, synced), a new hire with only a
// temporary access pass, and a partner's guest with nothing registered here.
type caDir struct {
	data, d string
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
	}
	return out
}

// storePasskey registers a passkey for upn directly in the store, as a completed registration
// leaves it: aaguid from the software authenticator, kind from its backup flags.
func storePasskey(t *testing.T, data, upn, provider string, synced bool) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.FindUserByUPN(ctx, upn)
	if err != nil {
		t.Fatal(err)
	}
	a, err := loadtest.NewAuthenticator("http://localhost:8080", synced)
	if err != nil {
		t.Fatal(err)
	}
	pk := &latchkey.Passkey{UserID: u.ID, CredentialID: a.CredentialID(), PublicKey: []byte{0xa5}, AAGUID: "00000000-0000-0000-0000-000000000000",
		AttestationFormat: "none", AttestationTrust: latchkey.AttestationNone, BackupEligible: synced, BackupState: synced, UserVerified: true,
		Kind: latchkey.KindOf(synced), Provider: provider, Nickname: provider}
	if err := st.CreatePasskey(ctx, pk); err != nil {
		t.Fatal(err)
	}
}

func newCADir(t *testing.T) caDir {
	t.Helper()
	data := t.TempDir()
	c := caDir{data: data, d: "--data=" + data}
	runOK(t, "user", "add", "breakglass@example.com", "--global-admin", c.d)
	runOK(t, "user", "add", "admin@example.com", "--global-admin", c.d)
	for _, u := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "newhire@example.com"} {
		runOK(t, "user", "add", u, c.d)
	}
	runOK(t, "user", "add", "guest@partner.example", "--guest", c.d)
	for _, g := range [][]string{{"Engineering", "alice@example.com", "bob@example.com"}, {"Sales", "carol@example.com", "newhire@example.com"}, {"New hires", "newhire@example.com"}} {
		runOK(t, "group", "add", g[0], c.d)
		for _, u := range g[1:] {
			runOK(t, "group", "add-member", g[0], u, c.d)
		}
	}
	storePasskey(t, data, "breakglass@example.com", "YubiKey 5", false)
	storePasskey(t, data, "admin@example.com", "YubiKey 5", false)
	storePasskey(t, data, "alice@example.com", "iCloud Keychain", true)
	storePasskey(t, data, "bob@example.com", "Windows Hello", false)
	storePasskey(t, data, "carol@example.com", "Google Password Manager", true)
	runOK(t, "tap", "issue", "newhire@example.com", c.d)
	return c
}

// file writes a JSON document into the data folder and returns its path.
func (c caDir) file(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(c.data, name+".json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func caPolicy(name, state string, users policy.Users, apps policy.Applications, grant policy.Grant) policy.ConditionalAccessPolicy {
	return policy.ConditionalAccessPolicy{Name: name, State: state, Users: users, Applications: apps, Grant: grant}
}

var (
	allApps        = policy.Applications{IncludeApplications: []string{policy.All}}
	registerInfo   = policy.Applications{IncludeUserActions: []string{policy.UserActionRegisterSecurityInfo}}
	prMFA          = policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}
	everyone       = policy.Users{IncludeUsers: []string{policy.All}}
	allButBreak    = policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: []string{"breakglass@example.com"}}
	everybodyUPNs  = []string{"admin@example.com", "alice@example.com", "bob@example.com", "breakglass@example.com", "carol@example.com", "guest@partner.example", "newhire@example.com"}
	lintReportJSON = func(t *testing.T, out string) map[string]map[string][]string {
		t.Helper()
		var v struct {
			Policies []struct {
				Name     string `json:"displayName"`
				Findings []struct {
					Code               string
					UserPrincipalNames []string
				}
			}
			EnabledWithFindings int
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		m := map[string]map[string][]string{}
		for _, p := range v.Policies {
			m[p.Name] = map[string][]string{}
			for _, f := range p.Findings {
				m[p.Name][f.Code] = f.UserPrincipalNames
			}
		}
		return m
	}
)

func TestCLILintDetectsEachFindingAndFixedVersionPasses(t *testing.T) {
	c := newCADir(t)

	// (a) Phishing-resistant MFA for all apps, on at once: the new hire (a pass only) and the
	// guest (nothing registered) cannot meet it. Refused, naming them, with the count to type.
	pa := caPolicy("Phishing-resistant MFA for all apps", "enabled", allButBreak, allApps, prMFA)
	out, errOut, code := run(t, "policy", "ca", "add", c.file(t, "a", pa), c.d)
	if code != 1 || !strings.Contains(out, "users_cannot_satisfy") || !strings.Contains(out, "guest@partner.example, newhire@example.com") ||
		!strings.Contains(out, "--lockout-override 2") || !strings.Contains(errOut, "could lock out 2 people") {
		t.Fatalf("enabled (a): %d\n%s\n%s", code, out, errOut)
	}
	// The same, report-only: stored, with the findings as warnings.
	pa.State = "reportOnly"
	out = runOK(t, "policy", "ca", "add", c.file(t, "a", pa), c.d)
	if !strings.Contains(out, "report-only") || !strings.Contains(out, "guest@partner.example, newhire@example.com") {
		t.Fatalf("report-only (a):\n%s", out)
	}
	// (b) a passkey to register a passkey; (c) all users with no break-glass; (d) block everybody.
	runOK(t, "policy", "ca", "add", c.file(t, "b", caPolicy("Passkey to register", "reportOnly", allButBreak, registerInfo, prMFA)), c.d)
	runOK(t, "policy", "ca", "add", c.file(t, "c", caPolicy("MFA everywhere", "reportOnly", everyone, allApps, policy.Grant{StrengthID: policy.StrengthMFA})), c.d)
	runOK(t, "policy", "ca", "add", c.file(t, "d", caPolicy("Block everyone", "reportOnly", everyone, allApps, policy.Grant{Block: true})), c.d)

	// Only report-only policies have findings: lint says so and exits 0.
	out, errOut, code = run(t, "policy", "lint", c.d)
	if code != 0 || !strings.Contains(out, "No enabled policy locks anyone out (4 policies checked; 4 report-only with findings).") {
		t.Fatalf("lint: %d\n%s\n%s", code, out, errOut)
	}
	out = runOK(t, "policy", "lint", "--json", c.d)
	got := lintReportJSON(t, out)
	want := map[string]map[string][]string{
		"Phishing-resistant MFA for all apps": {policy.LintUsersCannotSatisfy: {"guest@partner.example", "newhire@example.com"}},
		"Passkey to register": {
			policy.LintUsersCannotSatisfy:  {"guest@partner.example", "newhire@example.com"},
			policy.LintRegisterInfoParadox: {"admin@example.com", "alice@example.com", "bob@example.com", "carol@example.com", "guest@partner.example", "newhire@example.com"}},
		"MFA everywhere": {
			policy.LintUsersCannotSatisfy: {"guest@partner.example"},
			policy.LintNoBreakGlass:       {"admin@example.com", "breakglass@example.com"}},
		"Block everyone": {
			policy.LintNoBreakGlass:   {"admin@example.com", "breakglass@example.com"},
			policy.LintBlocksEveryone: everybodyUPNs},
	}
	for name, codes := range want {
		if len(got[name]) != len(codes) {
			t.Errorf("%s: findings %v, want %v", name, got[name], codes)
		}
		for code, upns := range codes {
			if !slices.Equal(got[name][code], upns) {
				t.Errorf("%s %s: %v, want %v", name, code, got[name][code], upns)
			}
		}
	}

	// Switching (d) on: refused; with the count it goes on, and lint now fails.
	out, errOut, code = run(t, "policy", "ca", "state", "Block everyone", "enabled", c.d)
	if code != 1 || !strings.Contains(out, "blocks_everyone") || !strings.Contains(out, strings.Join(everybodyUPNs, ", ")) || !strings.Contains(out, "--lockout-override 7") {
		t.Fatalf("enable (d): %d\n%s\n%s", code, out, errOut)
	}
	if _, _, code = run(t, "policy", "ca", "state", "Block everyone", "enabled", "--lockout-override", "6", c.d); code != 1 {
		t.Fatal("a wrong count was accepted")
	}
	runOK(t, "policy", "ca", "state", "Block everyone", "enabled", "--lockout-override", "7", c.d)
	out, errOut, code = run(t, "policy", "lint", c.d)
	if code != 1 || !strings.Contains(errOut, `1 enabled policies would lock people out: "Block everyone"`) || !strings.Contains(out, "blocks_everyone") {
		t.Fatalf("lint with (d) on: %d\n%s\n%s", code, out, errOut)
	}
	_, _, code = run(t, "policy", "lint", "--json", c.d)
	if code != 1 {
		t.Fatalf("lint --json with (d) on: exit %d", code)
	}

	// The fixed version: (b), (c), (d) removed; (a) leaves out the break-glass account, guests
	// (who sign in through their own organisation) and new hires until they have a passkey; and
	// registering security info needs MFA, which a pass meets. Both go on without an override.
	for _, name := range []string{"Passkey to register", "MFA everywhere", "Block everyone"} {
		runOK(t, "policy", "ca", "remove", name, c.d)
	}
	pa.State = "enabled"
	pa.Users.ExcludeGroups = []string{"New hires"}
	pa.Users.ExcludeGuests = true
	out = runOK(t, "policy", "ca", "set", "Phishing-resistant MFA for all apps", c.file(t, "a", pa), c.d)
	if !strings.Contains(out, "Stored conditional access policy") || strings.Contains(out, "Lint") {
		t.Fatalf("fixed (a):\n%s", out)
	}
	register := caPolicy("MFA to register security info", "enabled", allButBreak, registerInfo, policy.Grant{StrengthID: policy.StrengthMFA})
	register.Users.ExcludeGuests = true // guests register nothing here (the methods policy's default)
	runOK(t, "policy", "ca", "add", c.file(t, "r", register), c.d)
	out, errOut, code = run(t, "policy", "lint", c.d)
	if code != 0 || out != "No enabled policy locks anyone out (2 policies checked; 0 report-only with findings).\n" {
		t.Fatalf("lint of the fixed version: %d\n%s\n%s", code, out, errOut)
	}
	out = runOK(t, "policy", "ca", "list", c.d)
	if !strings.Contains(out, "Phishing-resistant MFA for all apps") || !strings.Contains(out, "enabled") || !strings.Contains(out, "MFA to register security info") {
		t.Fatalf("ca list:\n%s", out)
	}
	// The new hire can register a passkey with their pass; apps ask for more.
	out = runOK(t, "policy", "whatif", "--user", "newhire@example.com", "--action", "registerSecurityInformation", c.d)
	if !strings.HasPrefix(out, "newhire@example.com can meet what registering security info demands (MFA) with temporary access pass.") {
		t.Fatalf("whatif new hire:\n%s", out)
	}
}

func TestCLIWhatIfAndCustomStrength(t *testing.T) {
	c := newCADir(t)
	var app struct{ ClientID string }
	if err := json.Unmarshal([]byte(runOK(t, "app", "add", "Payroll", "--redirect-uri", "https://payroll.example.com/cb", "--json", c.d)), &app); err != nil {
		t.Fatal(err)
	}
	strength := policy.Strength{Name: "Device-bound passkey", Description: "A passkey that never leaves its device", AllowedCombinations: []string{"passkey"},
		PasskeyConditions: &policy.PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}}}
	var st policy.Strength
	if err := json.Unmarshal([]byte(runOK(t, "policy", "strength", "add", c.file(t, "s", strength), "--json", c.d)), &st); err != nil || st.ID == "" {
		t.Fatalf("strength add: %v %+v", err, st)
	}
	if out := runOK(t, "policy", "strength", "list", c.d); !strings.Contains(out, "Phishing-resistant MFA") || !strings.Contains(out, "kinds device-bound") {
		t.Fatalf("strength list:\n%s", out)
	}
	out := runOK(t, "policy", "location", "add", "Office", "203.0.113.0/24", "2001:db8::/48", "--trusted", c.d)
	if !strings.Contains(out, `Added named location "Office"`) {
		t.Fatalf("location add: %s", out)
	}
	if _, errOut, code := run(t, "policy", "location", "add", "Moon", "the-moon", c.d); code != 1 || !strings.Contains(errOut, "not an address range") {
		t.Fatalf("bad range: %d %s", code, errOut)
	}

	// Engineering, Payroll, outside the office: the device-bound strength. Alice (synced) is the
	// one person it would lock out.
	p := caPolicy("Payroll on device-bound passkeys", "enabled", policy.Users{IncludeGroups: []string{"Engineering"}},
		policy.Applications{IncludeApplications: []string{app.ClientID}}, policy.Grant{StrengthID: "Device-bound passkey"})
	p.Conditions.Locations = policy.Locations{IncludeLocations: []string{policy.All}, ExcludeLocations: []string{"Office"}}
	if out, _, code := run(t, "policy", "ca", "add", c.file(t, "p", p), c.d); code != 1 || !strings.Contains(out, "alice@example.com") {
		t.Fatalf("add: %d\n%s", code, out)
	}
	runOK(t, "policy", "ca", "add", c.file(t, "p", p), "--lockout-override", "1", c.d)

	whatif := func(user, ip string) map[string]any {
		t.Helper()
		var v map[string]any
		out := runOK(t, "policy", "whatif", "--user", user, "--app", app.ClientID, "--platform", "windows", "--platform-version", "10.0.22631", "--ip", ip, "--client-type", "browser", "--json", c.d)
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := whatif("alice@example.com", "198.51.100.20")
	if res := v["result"].(map[string]any); res["canMeet"] != false || !strings.HasPrefix(v["verdict"].(string),
		"alice@example.com cannot meet what application Payroll demands (Device-bound passkey)") {
		t.Fatalf("alice: %v", v)
	}
	v = whatif("bob@example.com", "198.51.100.20")
	if res := v["result"].(map[string]any); res["canMeet"] != true || v["verdict"] != "bob@example.com can meet what application Payroll demands (Device-bound passkey) with passkey: Windows Hello (device-bound, attestation none)." {
		t.Fatalf("bob: %v", v)
	}
	// From the office nothing applies.
	if v = whatif("alice@example.com", "203.0.113.50"); len(v["policies"].([]any)) != 0 {
		t.Fatalf("alice at the office: %v", v)
	}
	// Human output: the verdict, the policy and each method.
	out = runOK(t, "policy", "whatif", "--user", "alice@example.com", "--app", app.ClientID, "--ip", "198.51.100.20", c.d)
	for _, want := range []string{"cannot meet", "Payroll on device-bound passkeys", "passkey: iCloud Keychain (synced, attestation none): meets what is enforced: no"} {
		if !strings.Contains(out, want) {
			t.Errorf("whatif output lacks %q:\n%s", want, out)
		}
	}
	// Alice gets a security key: now she can.
	storePasskey(t, c.data, "alice@example.com", "YubiKey 5", false)
	if v = whatif("alice@example.com", "198.51.100.20"); v["result"].(map[string]any)["canMeet"] != true {
		t.Fatalf("alice with a security key: %v", v)
	}
	if _, errOut, code := run(t, "policy", "whatif", "--user", "alice@example.com", c.d); code != 2 || !strings.Contains(errOut, "--app or --action") {
		t.Fatalf("whatif without a target: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "policy", "whatif", "--user", "zed@example.com", "--app", app.ClientID, c.d); code != 1 || !strings.Contains(errOut, "unknown_user") {
		t.Fatalf("whatif unknown user: %d %s", code, errOut)
	}

	// In use: the strength and the location cannot be removed; the policy can, then they can.
	if _, errOut, code := run(t, "policy", "strength", "remove", "Device-bound passkey", c.d); code != 1 || !strings.Contains(errOut, `"Payroll on device-bound passkeys"`) {
		t.Fatalf("strength remove in use: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "policy", "location", "remove", "Office", c.d); code != 1 || !strings.Contains(errOut, "location_in_use") {
		t.Fatalf("location remove in use: %d %s", code, errOut)
	}
	out = runOK(t, "policy", "ca", "show", "Payroll on device-bound passkeys", c.d)
	var shown policy.ConditionalAccessPolicy
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Grant.StrengthID != st.ID || len(shown.Users.IncludeGroups) != 1 {
		t.Fatalf("ca show: %v\n%s", err, out)
	}
	runOK(t, "policy", "ca", "state", shown.ID, "disabled", c.d)
	runOK(t, "policy", "ca", "remove", shown.ID, c.d)
	runOK(t, "policy", "strength", "remove", st.ID, c.d)
	runOK(t, "policy", "location", "remove", "Office", c.d)
	if out := runOK(t, "policy", "location", "list", "--json", c.d); strings.TrimSpace(out) != "[]" {
		t.Fatalf("locations left: %s", out)
	}
	for _, args := range [][]string{{"policy", "ca"}, {"policy", "ca", "state", "x", "sometimes"}, {"policy", "ca", "fly"}, {"policy", "strength", "fly"}, {"policy", "location", "add", "Office"}} {
		if _, _, code := run(t, append(args, c.d)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if _, errOut, code := run(t, "policy", "ca", "add", c.file(t, "bad", map[string]any{"displayName": "x", "stat": "on"}), c.d); code != 1 || !strings.Contains(errOut, "unknown field") {
		t.Fatalf("unknown field: %d %s", code, errOut)
	}
}
