package policyadmin

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// caDirectory is a small realistic directory: a break-glass admin and a day-to-day admin with
// device-bound passkeys, an employee with a synced passkey, a new hire with only a pass, and a
// disabled leaver (whom the lint ignores).
type caDirectory struct {
	svc                               *Service
	breakGlass, admin, alice, newHire *latchkey.User
	engineering                       *latchkey.Group
	app                               *latchkey.Client
}

func addPasskey(t testing.TB, svc *Service, u *latchkey.User, kind, attestation string) {
	t.Helper()
	pk := &latchkey.Passkey{UserID: u.ID, CredentialID: []byte(latchkey.NewID()), PublicKey: []byte{1}, AAGUID: "00000000-0000-0000-0000-000000000000",
		AttestationFormat: "none", AttestationTrust: attestation, BackupEligible: kind == latchkey.KindSynced, BackupState: kind == latchkey.KindSynced,
		UserVerified: true, Kind: kind, Provider: "Test " + kind, Nickname: kind}
	if err := svc.Store.CreatePasskey(context.Background(), pk); err != nil {
		t.Fatal(err)
	}
}

func newCADirectory(t *testing.T) *caDirectory {
	t.Helper()
	svc, _ := newService(t)
	ctx := context.Background()
	d := &caDirectory{svc: svc}
	d.breakGlass = addUser(t, svc, "breakglass@example.com")
	d.admin = addUser(t, svc, "admin@example.com")
	for _, u := range []*latchkey.User{d.breakGlass, d.admin} {
		if _, err := svc.Store.UpdateUser(ctx, u.ID, func(x *latchkey.User) error { x.Roles = []string{latchkey.RoleGlobalAdmin}; return nil }); err != nil {
			t.Fatal(err)
		}
		addPasskey(t, svc, u, latchkey.KindDeviceBound, latchkey.AttestationNone)
	}
	d.alice = addUser(t, svc, "alice@example.com")
	addPasskey(t, svc, d.alice, latchkey.KindSynced, latchkey.AttestationNone)
	d.newHire = addUser(t, svc, "newhire@example.com")
	if _, _, err := svc.IssueAccessPass(ctx, d.newHire.ID, signin.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	leaver := addUser(t, svc, "leaver@example.com")
	if _, err := svc.Store.UpdateUser(ctx, leaver.ID, func(x *latchkey.User) error { x.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	d.engineering = &latchkey.Group{DisplayName: "Engineering"}
	if err := svc.Store.CreateGroup(ctx, d.engineering); err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.AddGroupMember(ctx, d.engineering.ID, d.alice.ID); err != nil {
		t.Fatal(err)
	}
	d.app = &latchkey.Client{ID: "payroll", Name: "Payroll", RedirectURIs: []string{"https://payroll.example.com/cb"}}
	if err := svc.Store.CreateClient(ctx, d.app); err != nil {
		t.Fatal(err)
	}
	return d
}

func prmfaAllApps(state string) policy.ConditionalAccessPolicy {
	return policy.ConditionalAccessPolicy{Name: "Phishing-resistant MFA for all apps", State: state,
		Users:        policy.Users{IncludeUsers: []string{policy.All}},
		Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant:        policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}}
}

func TestCAPolicyReferencesMustExist(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()
	base := prmfaAllApps(policy.CAStateDisabled)
	cases := []struct {
		name   string
		change func(p *policy.ConditionalAccessPolicy)
		code   string
	}{
		{"unknown user", func(p *policy.ConditionalAccessPolicy) { p.Users.ExcludeUsers = []string{"nobody@example.com"} }, "unknown_user"},
		{"unknown group", func(p *policy.ConditionalAccessPolicy) { p.Users.IncludeGroups = []string{"Nobody"} }, "unknown_group"},
		{"unknown role", func(p *policy.ConditionalAccessPolicy) { p.Users.ExcludeRoles = []string{"root"} }, "unknown_role"},
		{"unknown app", func(p *policy.ConditionalAccessPolicy) { p.Applications.IncludeApplications = []string{"nope"} }, "unknown_application"},
		{"unknown location", func(p *policy.ConditionalAccessPolicy) { p.Conditions.Locations.IncludeLocations = []string{"Mars"} }, "unknown_location"},
		{"unknown strength", func(p *policy.ConditionalAccessPolicy) { p.Grant.StrengthID = "strongest" }, "unknown_strength"},
		{"nobody covered", func(p *policy.ConditionalAccessPolicy) { p.Users.IncludeUsers = nil }, "invalid_policy"},
		{"no name", func(p *policy.ConditionalAccessPolicy) { p.Name = " " }, "invalid_name"},
		{"name with a right-to-left override", func(p *policy.ConditionalAccessPolicy) { p.Name = "Admins\u202e" }, "invalid_name"},
		{"bad state", func(p *policy.ConditionalAccessPolicy) { p.State = "sometimes" }, "invalid_policy"},
		{"block and strength", func(p *policy.ConditionalAccessPolicy) { p.Grant.Block = true }, "invalid_policy"},
		{"exclude All users", func(p *policy.ConditionalAccessPolicy) { p.Users.ExcludeUsers = []string{policy.All} }, "invalid_policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			p.Users.IncludeUsers = slices.Clone(base.Users.IncludeUsers)
			tc.change(&p)
			_, _, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0)
			wantCode(t, err, tc.code)
			if !latchkey.IsKind(err, latchkey.EINVALID) {
				t.Errorf("kind %q, want invalid", latchkey.ErrorKind(err))
			}
		})
	}
	if cfg, _ := d.svc.ConditionalAccess(ctx, latchkey.SystemActor); len(cfg.Policies) != 0 {
		t.Fatalf("refused policies were stored: %+v", cfg.Policies)
	}

	// UPNs, group names and strength names are resolved to ids; the id is new.
	p := base
	p.Users = policy.Users{IncludeGroups: []string{"engineering"}, ExcludeUsers: []string{"BreakGlass@example.com"}}
	p.Applications.IncludeApplications = []string{"payroll"}
	p.Grant.StrengthID = "Phishing-resistant MFA"
	got, ch, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || !slices.Equal(got.Users.IncludeGroups, []string{d.engineering.ID}) || !slices.Equal(got.Users.ExcludeUsers, []string{d.breakGlass.ID}) ||
		got.Grant.StrengthID != policy.StrengthPhishingResistantMFA || got.Users.IncludeRoles == nil {
		t.Fatalf("stored %+v", got)
	}
	if len(ch.Warnings) != 0 {
		t.Fatalf("a disabled policy was linted: %+v", ch.Warnings)
	}
	if _, _, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, got, 0); latchkey.ErrorCode(err) != "policy_exists" {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := d.svc.FindCAPolicy(ctx, latchkey.SystemActor, "missing"); latchkey.ErrorCode(err) != "policy_not_found" {
		t.Fatalf("find missing: %v", err)
	}
	if err := d.svc.DeleteCAPolicy(ctx, latchkey.SystemActor, got.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeleteCAPolicy(ctx, latchkey.SystemActor, got.ID); latchkey.ErrorCode(err) != "policy_not_found" {
		t.Fatalf("delete twice: %v", err)
	}
}

// lockout returns err as a *LockoutError, failing the test otherwise.
func lockout(t *testing.T, err error) *LockoutError {
	t.Helper()
	var le *LockoutError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a lockout refusal", err)
	}
	wantCode(t, le.Err, policy.CodeLockoutOverrideNeeded)
	return le
}

func findingUPNs(pl []PolicyLint, code string) []string {
	for _, p := range pl {
		for _, f := range p.Findings {
			if f.Code == code {
				return f.UserPrincipalNames
			}
		}
	}
	return nil
}

func TestCALintOnSave(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()

	// Report-only: stored, with the findings as warnings.
	p, ch, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, prmfaAllApps("reportOnly"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != policy.CAStateReportOnly {
		t.Fatalf("state %q", p.State)
	}
	if got := findingUPNs(ch.Warnings, policy.LintUsersCannotSatisfy); !slices.Equal(got, []string{"newhire@example.com"}) {
		t.Fatalf("users_cannot_satisfy names %v; warnings %+v", got, ch.Warnings)
	}
	if got := findingUPNs(ch.Warnings, policy.LintNoBreakGlass); !slices.Equal(got, []string{"admin@example.com", "breakglass@example.com"}) {
		t.Fatalf("no_break_glass_excluded names %v", got)
	}

	// Switching it on is refused: three people would be affected; a wrong count is refused too.
	for _, override := range []int{0, 2, 4} {
		_, _, err = d.svc.SetCAPolicyState(ctx, latchkey.SystemActor, p.ID, "enabled", override)
		le := lockout(t, err)
		if le.Affected != 3 || len(le.Policies) != 1 || le.Policies[0].Affected != 3 {
			t.Fatalf("override %d: affected %d, policies %+v", override, le.Affected, le.Policies)
		}
		if !strings.Contains(le.Err.Message, "3 people") {
			t.Fatalf("message %q", le.Err.Message)
		}
	}
	if got, _ := d.svc.FindCAPolicy(ctx, latchkey.SystemActor, p.ID); got.State != policy.CAStateReportOnly {
		t.Fatalf("a refused switch changed the state to %q", got.State)
	}
	// The right count turns it on, and the answer still lists what was overridden.
	got, ch, err := d.svc.SetCAPolicyState(ctx, latchkey.SystemActor, p.ID, "enabled", 3)
	if err != nil || got.State != policy.CAStateEnabled || len(ch.Warnings) != 1 {
		t.Fatalf("override 3: %v %+v %+v", err, got, ch)
	}

	// The fixed policy (break-glass excluded, the new hire given a passkey) passes with no
	// override at all.
	fixed := got
	fixed.Users.ExcludeUsers = []string{"breakglass@example.com"}
	_, _, err = d.svc.UpdateCAPolicy(ctx, latchkey.SystemActor, p.ID, fixed, 0)
	if le := lockout(t, err); le.Affected != 1 || !slices.Equal(findingUPNs(le.Policies, policy.LintUsersCannotSatisfy), []string{"newhire@example.com"}) {
		t.Fatalf("with break glass: %+v", le.Policies)
	}
	addPasskey(t, d.svc, d.newHire, latchkey.KindSynced, latchkey.AttestationNone)
	if _, ch, err = d.svc.UpdateCAPolicy(ctx, latchkey.SystemActor, p.ID, fixed, 0); err != nil || len(ch.Warnings) != 0 {
		t.Fatalf("fixed policy: %v %+v", err, ch)
	}
	lints, err := d.svc.LintAll(ctx, latchkey.SystemActor)
	if err != nil || len(lints) != 1 || len(lints[0].Findings) != 0 || lints[0].State != policy.CAStateEnabled {
		t.Fatalf("LintAll: %v %+v", err, lints)
	}

	// The register-security-info paradox, enabled: everybody in scope is named.
	paradox := policy.ConditionalAccessPolicy{Name: "Passkey to register", State: "enabled",
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: []string{d.breakGlass.ID}},
		Applications: policy.Applications{IncludeUserActions: []string{policy.UserActionRegisterSecurityInfo}},
		Grant:        policy.Grant{StrengthID: policy.StrengthPhishingResistantMFA}}
	_, _, err = d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, paradox, 0)
	le := lockout(t, err)
	if got := findingUPNs(le.Policies, policy.LintRegisterInfoParadox); !slices.Equal(got, []string{"admin@example.com", "alice@example.com", "newhire@example.com"}) {
		t.Fatalf("paradox names %v", got)
	}
	// Requiring MFA (which a pass meets) for registering is fine.
	paradox.Grant.StrengthID = policy.StrengthMFA
	if _, ch, err = d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, paradox, 0); err != nil || len(ch.Warnings) != 0 {
		t.Fatalf("MFA to register: %v %+v", err, ch)
	}
}

func TestCAStrengthsAndLocations(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()
	deviceBound := policy.Strength{Name: "Device-bound passkey", AllowedCombinations: []string{"passkey"},
		PasskeyConditions: &policy.PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}}}
	st, err := d.svc.CreateStrength(ctx, latchkey.SystemActor, deviceBound)
	if err != nil || st.ID == "" {
		t.Fatalf("create strength: %v %+v", err, st)
	}
	if _, err := d.svc.CreateStrength(ctx, latchkey.SystemActor, deviceBound); latchkey.ErrorCode(err) != "strength_exists" {
		t.Fatalf("same name twice: %v", err)
	}
	if _, err := d.svc.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Nothing"}); latchkey.ErrorCode(err) != "invalid_policy" {
		t.Fatalf("no combinations: %v", err)
	}
	if _, err := d.svc.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{ID: policy.StrengthMFA, Name: "Mine", AllowedCombinations: []string{"passkey"}}); latchkey.ErrorCode(err) != "strength_exists" {
		t.Fatalf("built-in id: %v", err)
	}
	office, err := d.svc.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Office", CIDRs: []string{"203.0.113.7/24", "2001:db8::1"}, IsTrusted: true})
	if err != nil || !slices.Equal(office.CIDRs, []string{"203.0.113.0/24", "2001:db8::1/128"}) {
		t.Fatalf("create location: %v %+v", err, office)
	}
	if _, err := d.svc.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Bad", CIDRs: []string{"not-an-address"}}); latchkey.ErrorCode(err) != "invalid_policy" {
		t.Fatalf("bad CIDR: %v", err)
	}

	// A report-only policy for payroll outside the office demanding the custom strength.
	p := policy.ConditionalAccessPolicy{Name: "Payroll from outside", State: "reportOnly",
		Users:        policy.Users{IncludeUsers: []string{policy.All}, ExcludeUsers: []string{"breakglass@example.com"}},
		Applications: policy.Applications{IncludeApplications: []string{"payroll"}},
		Conditions:   policy.Conditions{Locations: policy.Locations{IncludeLocations: []string{policy.All}, ExcludeLocations: []string{"office"}}},
		Grant:        policy.Grant{StrengthID: "Device-bound passkey"}}
	p, _, err = d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 0)
	if err != nil || p.Grant.StrengthID != st.ID || !slices.Equal(p.Conditions.Locations.ExcludeLocations, []string{office.ID}) {
		t.Fatalf("create policy: %v %+v", err, p)
	}

	// In use: refused, naming the policy.
	err = d.svc.DeleteStrength(ctx, latchkey.SystemActor, st.ID)
	wantCode(t, err, "strength_in_use")
	if !strings.Contains(err.(*latchkey.Error).Message, `"Payroll from outside"`) {
		t.Fatalf("message %q", err.(*latchkey.Error).Message)
	}
	err = d.svc.DeleteNamedLocation(ctx, latchkey.SystemActor, office.ID)
	wantCode(t, err, "location_in_use")
	if err := d.svc.DeleteStrength(ctx, latchkey.SystemActor, policy.StrengthMFA); latchkey.ErrorCode(err) != "invalid_policy" {
		t.Fatalf("delete built-in: %v", err)
	}

	// Narrowing a strength that an enabled policy demands goes through the lint.
	if _, _, err := d.svc.SetCAPolicyState(ctx, latchkey.SystemActor, p.ID, "enabled", 2); err != nil {
		t.Fatal(err) // alice (synced) and the new hire (pass) cannot; the admin can
	}
	wider := deviceBound
	wider.AllowedCombinations = []string{"passkey", "temporaryAccessPass"}
	wider.PasskeyConditions = nil
	if _, _, err := d.svc.UpdateStrength(ctx, latchkey.SystemActor, st.ID, wider, 0); err != nil {
		t.Fatalf("widen: %v", err)
	}
	narrower := deviceBound
	_, _, err = d.svc.UpdateStrength(ctx, latchkey.SystemActor, st.ID, narrower, 0)
	if le := lockout(t, err); !slices.Equal(findingUPNs(le.Policies, policy.LintUsersCannotSatisfy), []string{"alice@example.com", "newhire@example.com"}) {
		t.Fatalf("narrow: %+v", le.Policies)
	}

	// Once the policy is gone, both can be removed.
	if err := d.svc.DeleteCAPolicy(ctx, latchkey.SystemActor, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeleteStrength(ctx, latchkey.SystemActor, st.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeleteNamedLocation(ctx, latchkey.SystemActor, office.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.svc.DeleteNamedLocation(ctx, latchkey.SystemActor, office.ID); latchkey.ErrorCode(err) != "location_not_found" {
		t.Fatalf("delete twice: %v", err)
	}
}

// Two admins changing conditional access at once on one node never lose each other's change.
func TestCAConcurrentChangesAreNotLost(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.svc.CreateNamedLocation(ctx, latchkey.SystemActor, policy.NamedLocation{Name: "Site " + string(rune('A'+i)), CIDRs: []string{"198.51.100.0/24"}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := d.svc.ConditionalAccess(ctx, latchkey.SystemActor)
	if err != nil || len(cfg.NamedLocations) != 20 {
		t.Fatalf("%v: %d locations, want 20", err, len(cfg.NamedLocations))
	}
}

func TestCAWhatIfDeviceBoundStrength(t *testing.T) {
	d := newCADirectory(t)
	ctx := context.Background()
	st, err := d.svc.CreateStrength(ctx, latchkey.SystemActor, policy.Strength{Name: "Device-bound passkey", AllowedCombinations: []string{"passkey"},
		PasskeyConditions: &policy.PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}}})
	if err != nil {
		t.Fatal(err)
	}
	p := policy.ConditionalAccessPolicy{Name: "Payroll on hardware", State: "enabled",
		Users:        policy.Users{IncludeGroups: []string{"Engineering"}},
		Applications: policy.Applications{IncludeApplications: []string{"payroll"}},
		Grant:        policy.Grant{StrengthID: st.ID}}
	if _, _, err := d.svc.CreateCAPolicy(ctx, latchkey.SystemActor, p, 1); err != nil {
		t.Fatal(err)
	}
	in := WhatIfInput{User: "alice@example.com", App: "payroll", Platform: "Windows", PlatformVersion: "10.0.22631", IP: "203.0.113.7"}
	rep, err := d.svc.WhatIf(ctx, latchkey.SystemActor, in)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result.CanMeet || rep.Result.Blocked || !slices.Equal(rep.Result.Demanded, []string{st.ID}) || len(rep.Policies) != 1 ||
		rep.Policies[0].Result != policy.ResultFailure || rep.Policies[0].Grant != "Device-bound passkey" {
		t.Fatalf("synced only: %+v", rep)
	}
	if len(rep.Methods) != 1 || rep.Methods[0].MeetsEnforced || rep.Strengths[st.ID] != "Device-bound passkey" {
		t.Fatalf("methods %+v strengths %v", rep.Methods, rep.Strengths)
	}
	if want := "alice@example.com cannot meet what application Payroll demands (Device-bound passkey)"; !strings.HasPrefix(rep.Verdict, want) {
		t.Fatalf("verdict %q", rep.Verdict)
	}

	addPasskey(t, d.svc, d.alice, latchkey.KindDeviceBound, latchkey.AttestationNone)
	rep, err = d.svc.WhatIf(ctx, latchkey.SystemActor, in)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Result.CanMeet || len(rep.Methods) != 2 || rep.Methods[0].MeetsEnforced || !rep.Methods[1].MeetsEnforced {
		t.Fatalf("with a device-bound passkey: %+v", rep)
	}
	if want := "alice@example.com can meet what application Payroll demands (Device-bound passkey) with passkey: Test device-bound"; !strings.HasPrefix(rep.Verdict, want) {
		t.Fatalf("verdict %q", rep.Verdict)
	}

	// Not in scope: nothing demanded. Registering security info: nothing applies.
	rep, err = d.svc.WhatIf(ctx, latchkey.SystemActor, WhatIfInput{User: "newhire@example.com", App: "payroll"})
	if err != nil || len(rep.Policies) != 0 || !rep.Result.CanMeet || !strings.HasPrefix(rep.Verdict, "No enforced policy demands anything more") {
		t.Fatalf("new hire: %v %+v", err, rep)
	}

	for _, bad := range []struct {
		in   WhatIfInput
		code string
	}{
		{WhatIfInput{App: "payroll"}, "invalid_request"},
		{WhatIfInput{User: "nobody@example.com", App: "payroll"}, "unknown_user"},
		{WhatIfInput{User: "alice@example.com"}, "invalid_request"},
		{WhatIfInput{User: "alice@example.com", App: "nope"}, "unknown_application"},
		{WhatIfInput{User: "alice@example.com", App: "payroll", UserAction: policy.UserActionRegisterSecurityInfo}, "invalid_request"},
		{WhatIfInput{User: "alice@example.com", UserAction: "dance"}, "invalid_request"},
		{WhatIfInput{User: "alice@example.com", App: "payroll", IP: "999.1.1.1"}, "invalid_request"},
		{WhatIfInput{User: "alice@example.com", App: "payroll", Platform: "amiga"}, "invalid_request"},
		{WhatIfInput{User: "alice@example.com", App: "payroll", ClientType: "telnet"}, "invalid_request"},
	} {
		_, err := d.svc.WhatIf(ctx, latchkey.SystemActor, bad.in)
		wantCode(t, err, bad.code)
	}
}
