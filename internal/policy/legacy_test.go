package policy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

func TestLegacyMethodsDefaults(t *testing.T) {
	p := DefaultMethodsPolicy()
	if p.Password.State != StateDisabled || p.TOTP.State != StateDisabled {
		t.Errorf("password %q, TOTP %q: want both disabled by default", p.Password.State, p.TOTP.State)
	}
	if p.Password.MinimumLength != 15 || p.RegistrationCampaign != (RegistrationCampaign{State: StateEnabled, SnoozesAllowed: 3, SecondPasskey: SecondPasskey{State: StateEnabled, UnusedDays: 90}}) {
		t.Errorf("minimum length %d, campaign %+v; want 15 and enabled with 3 snoozes", p.Password.MinimumLength, p.RegistrationCampaign)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"password":{"state":"disabled","includeTargets":[{"id":"all_users","targetType":"group"}],"excludeTargets":[],"minimumLength":15}`,
		`"softwareOath":{"state":"disabled","includeTargets":[{"id":"all_users","targetType":"group"}],"excludeTargets":[]}`,
		`"registrationCampaign":{"state":"enabled","snoozesAllowed":3,"secondPasskey":{"state":"enabled","unusedDays":90}}`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s: %s", field, b)
		}
	}
	// A policy stored before the legacy methods existed decodes over the default.
	old := DefaultMethodsPolicy()
	if err := json.Unmarshal([]byte(`{"passkey":{"state":"enabled"},"temporaryAccessPass":{"state":"enabled"}}`), &old); err != nil {
		t.Fatal(err)
	}
	if err := old.Validate(); err != nil || old.Password.State != StateDisabled || old.Password.MinimumLength != 15 {
		t.Errorf("old policy: %v, %+v", err, old.Password)
	}
}

func TestLegacyMethodsValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *MethodsPolicy)
		detail string // "" when valid
	}{
		{"enabled for a group", func(p *MethodsPolicy) {
			p.Password.State, p.Password.IncludeTargets = StateEnabled, []Target{{ID: " g1 "}}
			p.TOTP.State, p.TOTP.ExcludeTargets = StateEnabled, []Target{{ID: "g2", TargetType: "group"}}
		}, ""},
		{"password state", func(p *MethodsPolicy) { p.Password.State = "on" }, `the state of passwords must be enabled or disabled, not "on"`},
		{"TOTP state", func(p *MethodsPolicy) { p.TOTP.State = "" }, `the state of authenticator apps must be enabled or disabled, not ""`},
		{"password target", func(p *MethodsPolicy) { p.Password.IncludeTargets = []Target{{ID: " "}} }, "every target of passwords needs a group id or all_users"},
		{"TOTP target type", func(p *MethodsPolicy) { p.TOTP.ExcludeTargets = []Target{{ID: "g", TargetType: "user"}} }, `the target type of authenticator apps must be group, not "user"`},
		{"minimum length 8", func(p *MethodsPolicy) { p.Password.MinimumLength = 8 }, ""},
		{"minimum length 64", func(p *MethodsPolicy) { p.Password.MinimumLength = 64 }, ""},
		{"minimum length 7", func(p *MethodsPolicy) { p.Password.MinimumLength = 7 }, "the minimum length of a password must be between 8 and 64 characters, not 7"},
		{"minimum length 65", func(p *MethodsPolicy) { p.Password.MinimumLength = 65 }, "the minimum length of a password must be between 8 and 64 characters, not 65"},
		{"no snoozes", func(p *MethodsPolicy) { p.RegistrationCampaign.SnoozesAllowed = 0 }, ""},
		{"ten snoozes", func(p *MethodsPolicy) { p.RegistrationCampaign.SnoozesAllowed = 10 }, ""},
		{"eleven snoozes", func(p *MethodsPolicy) { p.RegistrationCampaign.SnoozesAllowed = 11 }, "the registration campaign allows between 0 and 10 snoozes, not 11"},
		{"negative snoozes", func(p *MethodsPolicy) { p.RegistrationCampaign.SnoozesAllowed = -1 }, "the registration campaign allows between 0 and 10 snoozes, not -1"},
		{"campaign state", func(p *MethodsPolicy) { p.RegistrationCampaign.State = "yes" }, `the state of the registration campaign must be enabled or disabled, not "yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultMethodsPolicy()
			tc.change(&p)
			err := p.Validate()
			if tc.detail == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				for _, ts := range [][]Target{p.Password.IncludeTargets, p.TOTP.ExcludeTargets} {
					for _, tg := range ts {
						if tg.TargetType != TargetTypeGroup || strings.TrimSpace(tg.ID) != tg.ID {
							t.Errorf("target not normalized: %+v", tg)
						}
					}
				}
				return
			}
			var e *latchkey.Error
			if err == nil || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("err = %v, want detail %q", err, tc.detail)
			}
			e = err.(*latchkey.Error)
			if e.Code != "invalid_policy" || e.Kind != latchkey.EINVALID {
				t.Errorf("code %s kind %s", e.Code, e.Kind)
			}
		})
	}
}

func TestMethodEnabledForUserLegacy(t *testing.T) {
	p := DefaultMethodsPolicy()
	alice := User{ID: "alice", GroupIDs: []string{"legacy"}}
	bob := User{ID: "bob", GroupIDs: []string{"legacy", "admins"}}
	carol := User{ID: "carol"}
	type row struct {
		method string
		u      User
		ok     bool
		msg    string
	}
	check := func(name string, rows []row) {
		t.Helper()
		for _, r := range rows {
			ok, err := MethodEnabledForUser(p, r.method, r.u)
			if ok != r.ok {
				t.Errorf("%s: %s for %s = %v (%v), want %v", name, r.method, r.u.ID, ok, err, r.ok)
				continue
			}
			if !ok && (err.Code != "method_disabled_for_user" || !strings.HasPrefix(err.Message, r.msg)) {
				t.Errorf("%s: %s for %s: %v, message %q", name, r.method, r.u.ID, err, err.Message)
			}
		}
	}
	check("default", []row{
		{latchkey.MethodPassword, alice, false, "Passwords are not turned on for your account."},
		{latchkey.MethodTOTP, alice, false, "Authenticator apps are not turned on for your account."},
		{latchkey.MethodPasskey, alice, true, ""},
	})
	p.Password = PasswordMethod{State: StateEnabled, IncludeTargets: []Target{{ID: "legacy"}}, ExcludeTargets: []Target{{ID: "admins"}}, MinimumLength: 15}
	p.TOTP = TOTPMethod{State: StateEnabled, IncludeTargets: []Target{{ID: AllUsers}}}
	check("Legacy group, admins excluded", []row{
		{latchkey.MethodPassword, alice, true, ""},
		{latchkey.MethodPassword, bob, false, "Passwords are"},
		{latchkey.MethodPassword, carol, false, "Passwords are"},
		{latchkey.MethodTOTP, carol, true, ""},
	})
	if _, err := MethodEnabledForUser(p, "sms", alice); err == nil || err.Code != "unknown_method" {
		t.Errorf("unknown method: %v", err)
	}
	if MethodPassword != latchkey.MethodPassword || MethodTOTP != latchkey.MethodTOTP {
		t.Error("policy's method names differ from the domain's")
	}
}
