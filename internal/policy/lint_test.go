package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
)

// directory: a passkey user, a password+TOTP user, a new hire with nothing, a break-glass
// global admin with a hardware key, and a guest with a trusted partner.
var directory = LintDirectory{Users: []DirectoryUser{
	{Principal: alice, Registered: []AuthenticationContext{ctxSynced}},
	{Principal: bob, Registered: []AuthenticationContext{ctxPasswordTOTP}},
	{Principal: Principal{ID: "newhire", GroupIDs: []string{"sales"}}},
	{Principal: root, Registered: []AuthenticationContext{ctxDeviceBoundAttested}},
	{Principal: guest, Registered: []AuthenticationContext{ctxFedPR}},
}}

func TestLint(t *testing.T) {
	s := BuiltInStrengths()
	type f struct {
		code  string
		users []string
	}
	tests := []struct {
		name string
		p    ConditionalAccessPolicy
		want []f
	}{
		{"(a)+(c) phishing-resistant for all users, no break-glass",
			caPolicy("pr", CAStateEnabled, nil),
			[]f{{LintUsersCannotSatisfy, []string{"bob", "newhire"}}, {LintNoBreakGlass, []string{"breakglass"}}}},
		{"(a) fixed: newhire and bob excluded until they register, break-glass excluded",
			caPolicy("pr", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Users.ExcludeUsers = []string{"breakglass", "bob", "newhire"} }),
			nil},
		{"(b) paradox: phishing-resistant to register security info",
			caPolicy("reg", CAStateEnabled, func(p *ConditionalAccessPolicy) {
				p.Users = Users{IncludeGroups: []string{"sales"}}
				p.Applications = Applications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
			}),
			[]f{{LintUsersCannotSatisfy, []string{"newhire"}}, {LintRegisterInfoParadox, []string{"alice", "newhire"}}}},
		{"(b) fixed: MFA, which a TAP meets (newhire still needs one issued)",
			caPolicy("reg", CAStateEnabled, func(p *ConditionalAccessPolicy) {
				p.Users = Users{IncludeGroups: []string{"sales"}}
				p.Applications = Applications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
				p.Grant.StrengthID = StrengthMFA
			}),
			[]f{{LintUsersCannotSatisfy, []string{"newhire"}}}},
		{"(c) break-glass excluded by role does not count",
			caPolicy("mfa", CAStateEnabled, func(p *ConditionalAccessPolicy) {
				p.Grant.StrengthID = StrengthMFA
				p.Users.ExcludeRoles = []string{latchkey.RoleGlobalAdmin}
				p.Users.ExcludeUsers = []string{"newhire"}
			}),
			[]f{{LintNoBreakGlass, nil}}},
		{"(d) blocks everyone",
			caPolicy("block", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Grant = Grant{Block: true} }),
			[]f{{LintNoBreakGlass, []string{"breakglass"}}, {LintBlocksEveryone, []string{"alice", "bob", "breakglass", "gina", "newhire"}}}},
		{"(d) fixed: block outside the office, break-glass excluded",
			caPolicy("block", CAStateEnabled, func(p *ConditionalAccessPolicy) {
				p.Grant = Grant{Block: true}
				p.Users.ExcludeUsers = []string{"breakglass"}
				p.Conditions.Locations = Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{"office"}}
			}),
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []f
			findings := Lint(tt.p, nil, s, directory, 0)
			for _, x := range findings {
				got = append(got, f{x.Code, x.Users})
				if x.Message == "" || x.Severity != SeverityError {
					t.Errorf("finding %+v", x)
				}
			}
			if d := cmp.Diff(got, tt.want, cmp.AllowUnexported(f{})); d != "" {
				t.Errorf("findings (-got +want):\n%s", d)
			}
			err := Refuse(findings, 0)
			if n := len(AffectedUsers(findings)); (err != nil) != (n > 0) {
				t.Errorf("Refuse with %d affected users: %v", n, err)
			} else if n > 0 {
				if e := err.(*latchkey.Error); e.Code != CodeLockoutOverrideNeeded {
					t.Errorf("code %s", e.Code)
				}
				if err := Refuse(findings, n); err != nil {
					t.Errorf("Refuse with override %d: %v", n, err)
				}
				if err := Refuse(findings, n+1); err == nil {
					t.Errorf("Refuse accepted the wrong override")
				}
			}
		})
	}
}

func TestLintBreakGlassCaughtElsewhere(t *testing.T) {
	p := caPolicy("pr", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Users.ExcludeUsers = []string{"breakglass"} })
	blockAdmins := caPolicy("block-admins", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Users = Users{IncludeRoles: []string{latchkey.RoleGlobalAdmin}}
		p.Grant = Grant{Block: true}
	})
	var codes []string
	for _, x := range Lint(p, []ConditionalAccessPolicy{p, blockAdmins}, BuiltInStrengths(), directory, 0) {
		codes = append(codes, x.Code)
	}
	if d := cmp.Diff(codes, []string{LintUsersCannotSatisfy, LintNoBreakGlass}); d != "" {
		t.Errorf("codes (-got +want):\n%s", d)
	}
}

func TestWhatIf(t *testing.T) {
	s := BuiltInStrengths()
	policies := []ConditionalAccessPolicy{
		caPolicy("mfa-all", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = StrengthMFA }),
		caPolicy("pr-report", CAStateReportOnly, nil),
		caPolicy("block-guests", CAStateEnabled, func(p *ConditionalAccessPolicy) {
			p.Users = Users{IncludeGuests: true}
			p.Grant = Grant{Block: true}
		}),
		caPolicy("payroll-only", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Applications.IncludeApplications = []string{"payroll"} }),
	}
	tests := []struct {
		name       string
		user       Principal
		registered []AuthenticationContext
		applied    []string
		demanded   []string
		reportOnly []string
		meeting    []int
		blocked    bool
		canMeet    bool
	}{
		{"password+TOTP user", bob, []AuthenticationContext{ctxPassword, ctxPasswordTOTP},
			[]string{"mfa-all", "pr-report"}, []string{StrengthMFA}, []string{StrengthPhishingResistantMFA}, []int{1}, false, true},
		{"new hire with nothing", Principal{ID: "newhire"}, nil,
			[]string{"mfa-all", "pr-report"}, []string{StrengthMFA}, []string{StrengthPhishingResistantMFA}, []int{}, false, false},
		{"guest", guest, []AuthenticationContext{ctxFedPR},
			[]string{"mfa-all", "pr-report", "block-guests"}, []string{StrengthMFA}, []string{StrengthPhishingResistantMFA}, []int{0}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := WhatIf(policies, s, Request{User: tt.user, App: "crm", Presented: ctxDeviceBoundAttested}, tt.registered)
			var applied []string
			for _, a := range r.Applied {
				applied = append(applied, a.PolicyID)
			}
			got := []any{applied, r.Demanded, r.ReportOnlyDemanded, r.Meeting, r.Blocked, r.CanMeet}
			want := []any{tt.applied, tt.demanded, tt.reportOnly, tt.meeting, tt.blocked, tt.canMeet}
			if d := cmp.Diff(got, want); d != "" {
				t.Errorf("what-if (-got +want):\n%s", d)
			}
		})
	}
}

// TestLintPoliciesTogether: one sign-in must meet every enforced policy that applies, so a
// person who can meet each of two strengths with a different passkey, but none with one, is
// locked out by the two together; the lint names them on the policy that completes the pair,
// and only where both policies are sure to apply.
func TestLintPoliciesTogether(t *testing.T) {
	s := BuiltInStrengths()
	kinds := func(id, kind string) Strength {
		return Strength{ID: id, Name: id, AllowedCombinations: []string{CombinationPasskey}, PasskeyConditions: &PasskeyConditions{Kinds: []string{kind}}}
	}
	s["synced-only"], s["device-bound-only"] = kinds("synced-only", latchkey.KindSynced), kinds("device-bound-only", latchkey.KindDeviceBound)
	// carol has one synced and one device-bound passkey; dave has a device-bound one only.
	dir := LintDirectory{Users: []DirectoryUser{
		{Principal: Principal{ID: "carol", GroupIDs: []string{"sales"}}, Registered: []AuthenticationContext{ctxSynced, ctxDeviceBoundAttested}},
		{Principal: Principal{ID: "dave", GroupIDs: []string{"sales"}}, Registered: []AuthenticationContext{ctxDeviceBoundAttested}},
		{Principal: root, Registered: []AuthenticationContext{ctxDeviceBoundAttested}},
	}}
	saved := caPolicy("synced-everywhere", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Grant.StrengthID = "synced-only"
		p.Users.ExcludeUsers = []string{root.ID}
	})
	other := func(change func(p *ConditionalAccessPolicy)) ConditionalAccessPolicy {
		return caPolicy("hardware-for-payroll", CAStateEnabled, func(p *ConditionalAccessPolicy) {
			p.Users = Users{IncludeGroups: []string{"sales"}}
			p.Applications = Applications{IncludeApplications: []string{"payroll"}}
			p.Grant.StrengthID = "device-bound-only"
			if change != nil {
				change(p)
			}
		})
	}
	type f struct {
		code  string
		users []string
	}
	dave := f{LintUsersCannotSatisfy, []string{"dave"}} // no synced passkey at all
	for _, tc := range []struct {
		name  string
		saved ConditionalAccessPolicy
		other ConditionalAccessPolicy
		want  []f
	}{
		{"both apply to payroll: carol cannot meet both with one passkey", saved, other(nil),
			[]f{dave, {LintUsersCannotSatisfy, []string{"carol"}}}},
		{"the other one is report-only", saved, other(func(p *ConditionalAccessPolicy) { p.State = CAStateReportOnly }), []f{dave}},
		{"the other one only on Windows: it may not apply", saved,
			other(func(p *ConditionalAccessPolicy) { p.Conditions.Platforms.IncludePlatforms = []string{PlatformWindows} }), []f{dave}},
		{"the other one covers every application but two: they still share the rest", saved,
			other(func(p *ConditionalAccessPolicy) {
				p.Applications = Applications{IncludeApplications: []string{All}, ExcludeApplications: []string{"payroll", "wiki"}}
			}),
			[]f{dave, {LintUsersCannotSatisfy, []string{"carol"}}}},
		{"the saved one is for the wiki only and the other for payroll only", func() ConditionalAccessPolicy {
			p := saved
			p.Applications = Applications{IncludeApplications: []string{"wiki"}}
			return p
		}(), other(nil), []f{dave}},
		{"the other one demands MFA, which the synced passkey also meets", saved,
			other(func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = StrengthMFA }), []f{dave}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []f
			findings := Lint(tc.saved, []ConditionalAccessPolicy{tc.saved, tc.other}, s, dir, 0)
			for _, x := range findings {
				got = append(got, f{x.Code, x.Users})
			}
			if d := cmp.Diff(got, tc.want, cmp.AllowUnexported(f{})); d != "" {
				t.Errorf("findings (-got +want):\n%s", d)
			}
			if len(findings) == 2 && !strings.Contains(findings[1].Message, `"hardware-for-payroll"`) {
				t.Errorf("the finding does not name the other policy: %s", findings[1].Message)
			}
		})
	}
}
