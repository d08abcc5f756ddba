package policy

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/internal/latchkey"
)

var namedLocations = map[string][]netip.Prefix{
	"office": {netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")},
}

var (
	alice = Principal{ID: "alice", GroupIDs: []string{"sales"}}
	bob   = Principal{ID: "bob", GroupIDs: []string{"engineering"}}
	root  = Principal{ID: "breakglass", Roles: []string{latchkey.RoleGlobalAdmin}}
	guest = Principal{ID: "gina", IsGuest: true}
)

func caPolicy(id, state string, change func(p *ConditionalAccessPolicy)) ConditionalAccessPolicy {
	p := ConditionalAccessPolicy{ID: id, Name: id, State: state,
		Users:        Users{IncludeUsers: []string{All}},
		Applications: Applications{IncludeApplications: []string{All}},
		Grant:        Grant{StrengthID: StrengthPhishingResistantMFA}}
	if change != nil {
		change(&p)
	}
	return p
}

func TestEvaluateConditionalAccess(t *testing.T) {
	strengths := BuiltInStrengths()
	prAll := caPolicy("pr-all", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Users.ExcludeUsers = []string{root.ID} })
	prReport := caPolicy("pr-report", CAStateReportOnly, nil)
	blockGuestsPayroll := caPolicy("block-guests-payroll", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Users = Users{IncludeGuests: true}
		p.Applications.IncludeApplications = []string{"payroll"}
		p.Grant = Grant{Block: true}
	})
	mfaOutsideOffice := caPolicy("mfa-outside-office", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Grant.StrengthID = StrengthMFA
		p.Conditions.Locations = Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{"office"}}
	})
	prModernMac := caPolicy("pr-modern-mac", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Users = Users{IncludeGroups: []string{"engineering"}}
		p.Conditions.Platforms = Platforms{IncludePlatforms: []string{PlatformMacOS}, MinimumVersions: map[string]string{PlatformMacOS: "13"}}
	})
	regInfo := caPolicy("reg-info", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Applications = Applications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
		p.Grant.StrengthID = StrengthMFA
	})
	blockLinuxReport := caPolicy("block-linux-report", CAStateReportOnly, func(p *ConditionalAccessPolicy) {
		p.Grant = Grant{Block: true}
		p.Conditions.Platforms = Platforms{IncludePlatforms: []string{PlatformLinux}}
		p.Conditions.ClientTypes = []string{ClientBrowser}
	})
	off := caPolicy("off", CAStateDisabled, func(p *ConditionalAccessPolicy) { p.Grant = Grant{Block: true} })
	freq := caPolicy("freq", CAStateEnabled, func(p *ConditionalAccessPolicy) {
		p.Grant.StrengthID = StrengthMFA
		p.Applications.IncludeApplications = []string{"admin-portal"}
		p.SignInFrequency = &Duration{time.Hour}
	})

	type want struct {
		decision string
		stepUp   []string
		results  map[string]string // policy id → result; others unchecked
		codes    []string
	}
	tests := []struct {
		name     string
		policies []ConditionalAccessPolicy
		req      Request
		want     want
	}{
		{"enforced, synced passkey meets phishing-resistant", []ConditionalAccessPolicy{prAll},
			Request{User: alice, App: "crm", Presented: ctxSynced},
			want{DecisionAllow, nil, map[string]string{"pr-all": ResultSuccess}, nil}},
		{"enforced, password+TOTP steps up", []ConditionalAccessPolicy{prAll},
			Request{User: alice, App: "crm", Presented: ctxPasswordTOTP},
			want{DecisionStepUp, []string{StrengthPhishingResistantMFA}, map[string]string{"pr-all": ResultFailure}, []string{CodeStrengthRequired}}},
		{"exclusion wins: break-glass excluded", []ConditionalAccessPolicy{prAll},
			Request{User: root, App: "crm", Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"pr-all": ResultNotApplied}, nil}},
		{"report-only would block, user has nothing to step up with", []ConditionalAccessPolicy{prReport},
			Request{User: alice, App: "crm", Presented: ctxPasswordTOTP},
			want{DecisionAllow, nil, map[string]string{"pr-report": ResultReportOnlyFailure}, nil}},
		{"report-only, user could step up", []ConditionalAccessPolicy{prReport},
			Request{User: alice, App: "crm", Presented: ctxPasswordTOTP, Registered: []AuthenticationContext{ctxPasswordTOTP, ctxSynced}},
			want{DecisionAllow, nil, map[string]string{"pr-report": ResultReportOnlyInterrupted}, nil}},
		{"report-only success", []ConditionalAccessPolicy{prReport},
			Request{User: alice, App: "crm", Presented: ctxDeviceBoundAttested},
			want{DecisionAllow, nil, map[string]string{"pr-report": ResultReportOnlySuccess}, nil}},
		{"switching report-only on blocks", []ConditionalAccessPolicy{caPolicy("pr-report", CAStateEnabled, nil)},
			Request{User: alice, App: "crm", Presented: ctxPasswordTOTP},
			want{DecisionStepUp, []string{StrengthPhishingResistantMFA}, map[string]string{"pr-report": ResultFailure}, []string{CodeStrengthRequired}}},
		{"guest blocked from payroll", []ConditionalAccessPolicy{blockGuestsPayroll, prAll},
			Request{User: guest, App: "payroll", Presented: ctxFedPR},
			want{DecisionBlock, nil, map[string]string{"block-guests-payroll": ResultFailure, "pr-all": ResultSuccess}, []string{CodeBlockedByPolicy}}},
		{"guest elsewhere allowed", []ConditionalAccessPolicy{blockGuestsPayroll},
			Request{User: guest, App: "crm", Presented: ctxFedPR},
			want{DecisionAllow, nil, map[string]string{"block-guests-payroll": ResultNotApplied}, nil}},
		{"member not blocked from payroll", []ConditionalAccessPolicy{blockGuestsPayroll},
			Request{User: alice, App: "payroll", Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"block-guests-payroll": ResultNotApplied}, nil}},
		{"in the office by CIDR, password is fine", []ConditionalAccessPolicy{mfaOutsideOffice},
			Request{User: alice, App: "crm", IP: netip.MustParseAddr("203.0.113.9"), NamedLocations: namedLocations, Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"mfa-outside-office": ResultNotApplied}, nil}},
		{"in the office over IPv6", []ConditionalAccessPolicy{mfaOutsideOffice},
			Request{User: alice, App: "crm", IP: netip.MustParseAddr("2001:db8::1"), NamedLocations: namedLocations, Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"mfa-outside-office": ResultNotApplied}, nil}},
		{"outside the office needs MFA; TAP meets it", []ConditionalAccessPolicy{mfaOutsideOffice},
			Request{User: alice, App: "crm", IP: netip.MustParseAddr("198.51.100.7"), NamedLocations: namedLocations, Presented: ctxTAP},
			want{DecisionAllow, nil, map[string]string{"mfa-outside-office": ResultSuccess}, nil}},
		{"outside the office with password alone", []ConditionalAccessPolicy{mfaOutsideOffice},
			Request{User: alice, App: "crm", IP: netip.MustParseAddr("198.51.100.7"), NamedLocations: namedLocations, Presented: ctxPassword},
			want{DecisionStepUp, []string{StrengthMFA}, map[string]string{"mfa-outside-office": ResultFailure}, []string{CodeStrengthRequired}}},
		{"macOS 14 in engineering", []ConditionalAccessPolicy{prModernMac},
			Request{User: bob, App: "git", Platform: PlatformMacOS, PlatformVersion: "14.2", Presented: ctxPasswordTOTP},
			want{DecisionStepUp, []string{StrengthPhishingResistantMFA}, map[string]string{"pr-modern-mac": ResultFailure}, []string{CodeStrengthRequired}}},
		{"macOS 12 below minimum", []ConditionalAccessPolicy{prModernMac},
			Request{User: bob, App: "git", Platform: PlatformMacOS, PlatformVersion: "12.7", Presented: ctxPasswordTOTP},
			want{DecisionAllow, nil, map[string]string{"pr-modern-mac": ResultNotApplied}, nil}},
		{"macOS version unknown", []ConditionalAccessPolicy{prModernMac},
			Request{User: bob, App: "git", Platform: PlatformMacOS, Presented: ctxPasswordTOTP},
			want{DecisionAllow, nil, map[string]string{"pr-modern-mac": ResultNotApplied}, nil}},
		{"windows not included", []ConditionalAccessPolicy{prModernMac},
			Request{User: bob, App: "git", Platform: PlatformWindows, PlatformVersion: "15.0.0", Presented: ctxPasswordTOTP},
			want{DecisionAllow, nil, map[string]string{"pr-modern-mac": ResultNotApplied}, nil}},
		{"sales not in engineering policy", []ConditionalAccessPolicy{prModernMac},
			Request{User: alice, App: "git", Platform: PlatformMacOS, PlatformVersion: "14", Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"pr-modern-mac": ResultNotApplied}, nil}},
		{"register security info with TAP", []ConditionalAccessPolicy{regInfo, prAll},
			Request{User: alice, UserAction: UserActionRegisterSecurityInfo, Presented: ctxTAP},
			want{DecisionAllow, nil, map[string]string{"reg-info": ResultSuccess, "pr-all": ResultNotApplied}, nil}},
		{"user-action policy ignores apps", []ConditionalAccessPolicy{regInfo},
			Request{User: alice, App: "crm", Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"reg-info": ResultNotApplied}, nil}},
		{"report-only block on linux browser", []ConditionalAccessPolicy{blockLinuxReport},
			Request{User: bob, App: "git", Platform: PlatformLinux, ClientType: ClientBrowser, Presented: ctxSynced},
			want{DecisionAllow, nil, map[string]string{"block-linux-report": ResultReportOnlyFailure}, nil}},
		{"report-only block, other client type", []ConditionalAccessPolicy{blockLinuxReport},
			Request{User: bob, App: "git", Platform: PlatformLinux, ClientType: ClientMobileDesktop, Presented: ctxSynced},
			want{DecisionAllow, nil, map[string]string{"block-linux-report": ResultReportOnlyNotApplied}, nil}},
		{"disabled policy", []ConditionalAccessPolicy{off},
			Request{User: alice, App: "crm", Presented: ctxPassword},
			want{DecisionAllow, nil, map[string]string{"off": ResultNotApplied}, nil}},
		{"sign-in frequency exceeded", []ConditionalAccessPolicy{freq},
			Request{User: alice, App: "admin-portal", Presented: ctxSynced, AuthAge: 2 * time.Hour},
			want{DecisionStepUp, []string{StrengthMFA}, map[string]string{"freq": ResultFailure}, []string{CodeSignInTooOld}}},
		{"sign-in frequency fresh", []ConditionalAccessPolicy{freq},
			Request{User: alice, App: "admin-portal", Presented: ctxSynced, AuthAge: time.Minute},
			want{DecisionAllow, nil, map[string]string{"freq": ResultSuccess}, nil}},
		{"combined demand", []ConditionalAccessPolicy{prAll, mfaOutsideOffice, caPolicy("hw", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = hardwareOnly.ID })},
			Request{User: alice, App: "crm", Presented: ctxPassword},
			want{DecisionStepUp, []string{StrengthPhishingResistantMFA, StrengthMFA, hardwareOnly.ID}, nil, []string{CodeStrengthRequired, CodeStrengthRequired, CodeStrengthRequired}}},
		{"unknown strength fails closed", []ConditionalAccessPolicy{caPolicy("ghost", CAStateEnabled, func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = "ghost" })},
			Request{User: alice, App: "crm", Presented: ctxSynced},
			want{DecisionBlock, nil, map[string]string{"ghost": ResultFailure}, []string{CodeUnknownStrength}}},
	}
	strengths[hardwareOnly.ID] = hardwareOnly
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := EvaluateConditionalAccess(tt.policies, strengths, tt.req)
			if ev.Decision != tt.want.decision {
				t.Errorf("decision %q, want %q (%+v)", ev.Decision, tt.want.decision, ev.Results)
			}
			if d := cmp.Diff(ev.StepUpTo, tt.want.stepUp); d != "" {
				t.Errorf("step up (-got +want):\n%s", d)
			}
			if len(ev.Results) != len(tt.policies) {
				t.Fatalf("%d results for %d policies", len(ev.Results), len(tt.policies))
			}
			for _, r := range ev.Results {
				if w, ok := tt.want.results[r.PolicyID]; ok && r.Result != w {
					t.Errorf("policy %s: %s (%s), want %s", r.PolicyID, r.Result, r.Detail, w)
				}
			}
			var codes []string
			for _, e := range ev.Refusals {
				codes = append(codes, e.Code)
				checkPlain(t, e.Message)
				if e.Detail == "" {
					t.Errorf("refusal %s without detail", e.Code)
				}
			}
			if d := cmp.Diff(codes, tt.want.codes); d != "" {
				t.Errorf("codes (-got +want):\n%s", d)
			}
		})
	}
}

func TestConditionalAccessPolicyValidate(t *testing.T) {
	s := BuiltInStrengths()
	tests := []struct {
		name   string
		change func(p *ConditionalAccessPolicy)
		want   string
	}{
		{"valid", func(p *ConditionalAccessPolicy) {}, ""},
		{"state", func(p *ConditionalAccessPolicy) { p.State = "on" }, `not "on"`},
		{"grant both", func(p *ConditionalAccessPolicy) { p.Grant.Block = true }, "either block or require"},
		{"grant none", func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = "" }, "either block or require"},
		{"unknown strength", func(p *ConditionalAccessPolicy) { p.Grant.StrengthID = "x" }, `strength "x" does not exist`},
		{"no target", func(p *ConditionalAccessPolicy) { p.Applications = Applications{} }, "choose applications"},
		{"user action", func(p *ConditionalAccessPolicy) { p.Applications.IncludeUserActions = []string{"changePassword"} }, "not a user action"},
		{"platform", func(p *ConditionalAccessPolicy) { p.Conditions.Platforms.IncludePlatforms = []string{"beos"} }, `"beos" is not a platform`},
		{"frequency", func(p *ConditionalAccessPolicy) { p.SignInFrequency = &Duration{} }, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := caPolicy("p", CAStateEnabled, tt.change)
			checkErr(t, p.Validate(s), tt.want)
		})
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		sign int
	}{{"13", "13.0", 0}, {"12.7", "13", -1}, {"14.2", "13", 1}, {"10.0.22621", "13", -1}, {"15.0.0", "13", 1}} {
		if got := compareVersions(tt.a, tt.b); (got > 0) != (tt.sign > 0) || (got < 0) != (tt.sign < 0) {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.sign)
		}
	}
}

func BenchmarkEvaluateConditionalAccess1000Policies(b *testing.B) {
	strengths := BuiltInStrengths()
	policies := make([]ConditionalAccessPolicy, 1000)
	for i := range policies {
		policies[i] = caPolicy(fmt.Sprintf("p%d", i), []string{CAStateEnabled, CAStateReportOnly}[i%2], func(p *ConditionalAccessPolicy) {
			p.Users = Users{IncludeGroups: []string{fmt.Sprintf("g%d", i%50), "sales"}, ExcludeUsers: []string{"breakglass"}}
			p.Applications.IncludeApplications = []string{fmt.Sprintf("app%d", i%20), All}
			p.Grant.StrengthID = []string{StrengthMFA, StrengthPasswordlessMFA, StrengthPhishingResistantMFA}[i%3]
			if i%4 == 0 {
				p.Conditions.Locations = Locations{IncludeLocations: []string{All}, ExcludeLocations: []string{"office"}}
			}
			if i%5 == 0 {
				p.Conditions.Platforms = Platforms{IncludePlatforms: []string{PlatformMacOS, PlatformWindows}, MinimumVersions: map[string]string{PlatformMacOS: "13"}}
			}
		})
	}
	req := Request{User: Principal{ID: "alice", GroupIDs: []string{"sales", "g7"}}, App: "app7", Platform: PlatformMacOS, PlatformVersion: "14.1",
		IP: netip.MustParseAddr("198.51.100.7"), NamedLocations: namedLocations, ClientType: ClientBrowser, Presented: ctxPasswordTOTP}
	b.ReportAllocs()
	for b.Loop() {
		EvaluateConditionalAccess(policies, strengths, req)
	}
}
