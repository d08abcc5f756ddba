package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// AAGUIDs of the README's Tier 0 allow-list (YubiKey 5 series) and of a synced provider.
const (
	yubiKey5    = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
	yubiKey5NFC = "ee882879-721c-4913-9775-3dfcce97072a"
	iCloud      = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
)

var (
	syncedPK      = Passkey{AAGUID: iCloud, Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone}
	yubiPK        = Passkey{AAGUID: yubiKey5, Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationAttested}
	otherKeyPK    = Passkey{AAGUID: "00000000-1111-2222-3333-444444444444", Kind: latchkey.KindDeviceBound, Attestation: latchkey.AttestationAttested}
	flaggedPK     = Passkey{AAGUID: iCloud, Kind: latchkey.KindSynced, Attestation: latchkey.AttestationNone, PossibleClone: true}
	revokedPK     = Passkey{AAGUID: yubiKey5NFC, Kind: latchkey.KindDeviceBound, Attestation: AttestationRevoked}
	onlyAdmin     = SignInUser{Principal: Principal{ID: "admin", GroupIDs: []string{"admins"}, Roles: []string{latchkey.RoleGlobalAdmin}}, Passkeys: []Passkey{syncedPK}}
	breakGlassPK  = SignInUser{Principal: Principal{ID: "root", Roles: []string{latchkey.RoleGlobalAdmin}}, Passkeys: []Passkey{yubiPK}, BreakGlass: true}
	salesSynced   = SignInUser{Principal: Principal{ID: "alice", GroupIDs: []string{"sales"}}, Passkeys: []Passkey{syncedPK}}
	engHardware   = SignInUser{Principal: Principal{ID: "bob", GroupIDs: []string{"engineering"}}, Passkeys: []Passkey{otherKeyPK}}
	salesPassOnly = SignInUser{Principal: Principal{ID: "carol", GroupIDs: []string{"sales"}}, PassUsable: true}
	nothing       = SignInUser{Principal: Principal{ID: "dave", GroupIDs: []string{"sales"}}}
	passwordOnly  = SignInUser{Principal: Principal{ID: "erin", GroupIDs: []string{"legacy"}}, HasPassword: true}
	flaggedOnly   = SignInUser{Principal: Principal{ID: "frank", GroupIDs: []string{"sales"}}, Passkeys: []Passkey{flaggedPK, revokedPK}}
	guestSynced   = SignInUser{Principal: Principal{ID: "gina", IsGuest: true}, Passkeys: []Passkey{syncedPK}}
	mixed         = SignInUser{Principal: Principal{ID: "hugo", GroupIDs: []string{"admins", "sales"}}, Passkeys: []Passkey{syncedPK, yubiPK}}
)

// methodsScenario builds a policy from the default.
func methodsScenario(change func(p *MethodsPolicy)) MethodsPolicy {
	p := DefaultMethodsPolicy()
	change(&p)
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return p
}

// tier0 is the README's typical model: "Tier 0 admins" (device-bound, attested, allow-list of
// two YubiKeys) for the Admins group, and "Workforce" (both kinds) as the default.
var tier0 = methodsScenario(func(p *MethodsPolicy) {
	p.Passkey.Profiles = []PasskeyProfile{
		{ID: "tier0", Name: "Tier 0 admins", TargetGroupIDs: []string{"admins"}, PasskeyTypes: PasskeyTypesDeviceBound,
			AttestationEnforcement: AttestationEnforcementRegistrationOnly,
			KeyRestrictions:        KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGUIDs: []string{yubiKey5, yubiKey5NFC}}},
		{ID: "workforce", Name: "Workforce", TargetGroupIDs: []string{}, PasskeyTypes: PasskeyTypesBoth,
			AttestationEnforcement: AttestationEnforcementDisabled, KeyRestrictions: KeyRestrictions{EnforcementType: EnforcementBlock}},
	}
	p.Passkey.DefaultProfileID = "workforce"
})

// methodsPolicies are the before and after policies of the table, by name.
var methodsPolicies = map[string]MethodsPolicy{
	"default": DefaultMethodsPolicy(),
	// every include group of passkeys unticked on /admin/policy: the form posts none.
	"no passkey include": methodsScenario(func(p *MethodsPolicy) { p.Passkey.IncludeTargets = nil }),
	"tier0":              tier0,
	// affects nobody's way in: pass lifetimes, self-service registration, guest registration.
	"settings only": methodsScenario(func(p *MethodsPolicy) {
		p.TemporaryAccessPass.MaximumLifetimeInMinutes = 240
		p.Passkey.IsSelfServiceRegistrationAllowed = false
		p.Passkey.IsGuestRegistrationAllowed = true
	}),
	"sales excluded from passkeys": methodsScenario(func(p *MethodsPolicy) {
		p.Passkey.ExcludeTargets = []Target{{ID: "sales"}}
	}),
	"passes off": methodsScenario(func(p *MethodsPolicy) { p.TemporaryAccessPass.State = StateDisabled }),
	"passwords on for legacy": methodsScenario(func(p *MethodsPolicy) {
		p.Password.State = StateEnabled
		p.Password.IncludeTargets = []Target{{ID: "legacy"}}
	}),
	"synced only, YubiKey blocked": methodsScenario(func(p *MethodsPolicy) {
		p.Passkey.Profiles[0].PasskeyTypes = PasskeyTypesSynced
		p.Passkey.Profiles = append(p.Passkey.Profiles, PasskeyProfile{ID: "eng", Name: "Engineering", TargetGroupIDs: []string{"engineering", "admins"},
			PasskeyTypes: PasskeyTypesBoth, AttestationEnforcement: AttestationEnforcementDisabled,
			KeyRestrictions: KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGUIDs: []string{strings.ToUpper(yubiKey5)}}})
	}),
	"passkeys off": methodsScenario(func(p *MethodsPolicy) { p.Passkey.State = StateDisabled }),
}

// oracleCanSignIn decides from the README's rules, written out again without the package's
// evaluation, whether u has a way in under p.
func oracleCanSignIn(p MethodsPolicy, u SignInUser) bool {
	mine := append([]string{AllUsers}, u.GroupIDs...)
	hits := func(ts []Target) bool {
		return slices.ContainsFunc(ts, func(t Target) bool { return slices.Contains(mine, t.ID) })
	}
	on := func(state string, include, exclude []Target) bool {
		return state == StateEnabled && hits(include) && !hits(exclude)
	}
	if on(p.Passkey.State, p.Passkey.IncludeTargets, p.Passkey.ExcludeTargets) {
		var profiles []PasskeyProfile
		for _, pr := range p.Passkey.Profiles {
			if slices.ContainsFunc(pr.TargetGroupIDs, func(g string) bool { return slices.Contains(mine, g) }) {
				profiles = append(profiles, pr)
			}
		}
		if len(profiles) == 0 {
			for _, pr := range p.Passkey.Profiles {
				if pr.ID == p.Passkey.DefaultProfileID {
					profiles = append(profiles, pr)
				}
			}
		}
		for _, pk := range u.Passkeys {
			if pk.PossibleClone || pk.Attestation == AttestationRevoked {
				continue
			}
			for _, pr := range profiles {
				kindOK := pr.PasskeyTypes == PasskeyTypesBoth ||
					pr.PasskeyTypes == PasskeyTypesDeviceBound && pk.Kind == latchkey.KindDeviceBound ||
					pr.PasskeyTypes == PasskeyTypesSynced && pk.Kind == latchkey.KindSynced
				listed := slices.ContainsFunc(pr.KeyRestrictions.AAGUIDs, func(a string) bool { return strings.EqualFold(a, pk.AAGUID) })
				keyOK := !pr.KeyRestrictions.IsEnforced || (pr.KeyRestrictions.EnforcementType == EnforcementAllow) == listed
				if kindOK && keyOK { // attestation is checked at registration only
					return true
				}
			}
		}
	}
	if u.PassUsable && on(p.TemporaryAccessPass.State, p.TemporaryAccessPass.IncludeTargets, p.TemporaryAccessPass.ExcludeTargets) {
		return true
	}
	return u.HasPassword && on(p.Password.State, p.Password.IncludeTargets, p.Password.ExcludeTargets)
}

// TestLintMethodsChangeOracle compares the lint with the oracle for every user of a directory
// and every ordered pair of policies of the table.
func TestLintMethodsChangeOracle(t *testing.T) {
	users := []SignInUser{onlyAdmin, breakGlassPK, salesSynced, engHardware, salesPassOnly, nothing, passwordOnly, flaggedOnly, guestSynced, mixed}
	refused := 0
	for bn, before := range methodsPolicies {
		for an, after := range methodsPolicies {
			var wantLocked, wantAdmins, wantBG []string
			adminAfter := false
			for _, u := range users {
				admin := slices.Contains(u.Roles, latchkey.RoleGlobalAdmin)
				adminAfter = adminAfter || admin && oracleCanSignIn(after, u)
				if oracleCanSignIn(before, u) && !oracleCanSignIn(after, u) {
					wantLocked = append(wantLocked, u.ID)
					if admin {
						wantAdmins = append(wantAdmins, u.ID)
					}
					if u.BreakGlass {
						wantBG = append(wantBG, u.ID)
					}
				}
			}
			slices.Sort(wantLocked)
			slices.Sort(wantAdmins)
			slices.Sort(wantBG)
			want := map[string][]string{}
			if len(wantLocked) > 0 {
				want[LintNoWayToSignIn] = wantLocked
			}
			if len(wantAdmins) > 0 && !adminAfter {
				want[LintLastGlobalAdmin] = wantAdmins
			}
			if len(wantBG) > 0 {
				want[LintBreakGlassLockedOut] = wantBG
			}
			got := map[string][]string{}
			fs := LintMethodsChange(users, before, after)
			for _, f := range fs {
				got[f.Code] = f.Users
			}
			if d := cmp.Diff(got, want); d != "" {
				t.Errorf("%s -> %s (-lint +oracle):\n%s", bn, an, d)
			}
			if err := RefuseMethodsChange(fs, 0); (err != nil) != (len(wantLocked) > 0) {
				t.Errorf("%s -> %s: refused %v with %d locked out", bn, an, err, len(wantLocked))
			} else if err != nil {
				refused++
			}
			if bn == an && len(fs) > 0 {
				t.Errorf("%s -> %s: a change to the same policy has findings %+v", bn, an, fs)
			}
		}
	}
	if refused == 0 {
		t.Fatal("no pair of the table locks anybody out: the table tests nothing")
	}
}

// TestLintMethodsChange: the literal scenarios of the hardening issue, with what the lint must
// name.
func TestLintMethodsChange(t *testing.T) {
	// The only admin's passkey is synced; alice has a synced passkey, carol a pass, dave nothing.
	dir := []SignInUser{onlyAdmin, salesSynced, salesPassOnly, nothing, passwordOnly}
	for _, tc := range []struct {
		name          string
		before, after MethodsPolicy
		want          map[string][]string
	}{
		{"unticking every include group of passkeys: everyone with a passkey and no pass, the admin too",
			DefaultMethodsPolicy(), methodsPolicies["no passkey include"],
			map[string][]string{LintNoWayToSignIn: {"admin", "alice"}, LintLastGlobalAdmin: {"admin"}}},
		{"the README's Tier 0 profile with the only admin on a synced passkey",
			DefaultMethodsPolicy(), tier0,
			map[string][]string{LintNoWayToSignIn: {"admin"}, LintLastGlobalAdmin: {"admin"}}},
		{"a change that affects nobody's way in", DefaultMethodsPolicy(), methodsPolicies["settings only"], map[string][]string{}},
		{"passes off: carol had a way in (her pass), dave had none and is not counted",
			DefaultMethodsPolicy(), methodsPolicies["passes off"], map[string][]string{LintNoWayToSignIn: {"carol"}}},
		{"erin's password: on -> off locks her out, off -> on locks nobody out",
			methodsPolicies["passwords on for legacy"], DefaultMethodsPolicy(), map[string][]string{LintNoWayToSignIn: {"erin"}}},
		{"passwords turned on", DefaultMethodsPolicy(), methodsPolicies["passwords on for legacy"], map[string][]string{}},
		{"from passkeys off to Tier 0: nobody had a passkey way in before, nobody is counted",
			methodsPolicies["passkeys off"], tier0, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := LintMethodsChange(dir, tc.before, tc.after)
			got := map[string][]string{}
			for _, f := range fs {
				got[f.Code] = f.Users
				if f.Severity != SeverityError || f.Message == "" {
					t.Errorf("finding %+v", f)
				}
			}
			if d := cmp.Diff(got, tc.want); d != "" {
				t.Fatalf("findings (-got +want):\n%s", d)
			}
			n := len(AffectedUsers(fs))
			err := RefuseMethodsChange(fs, 0)
			if n == 0 {
				if err != nil {
					t.Fatalf("a change that takes nobody's way in was refused: %v", err)
				}
				if err := RefuseMethodsChange(fs, 7); err != nil {
					t.Fatalf("a stray override refused a change that locks nobody out: %v", err)
				}
				return
			}
			var le *latchkey.Error
			if e, ok := err.(*latchkey.Error); !ok || e.Code != CodeLockoutOverrideNeeded {
				t.Fatalf("refusal %v, want %s", err, CodeLockoutOverrideNeeded)
			} else {
				le = e
			}
			if !strings.Contains(le.Message, fmt.Sprintf("entering %d as the override", n)) || !strings.Contains(le.Message, People(n)) {
				t.Errorf("message %q does not give the count %d", le.Message, n)
			}
			if _, admin := tc.want[LintLastGlobalAdmin]; admin != strings.Contains(le.Message, "last global admin") {
				t.Errorf("message %q and the last global admin (%v)", le.Message, admin)
			}
			if err := RefuseMethodsChange(fs, n+1); err == nil {
				t.Errorf("override %d accepted for %d people", n+1, n)
			}
			if err := RefuseMethodsChange(fs, n); err != nil {
				t.Errorf("override %d refused: %v", n, err)
			}
		})
	}
}
