package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestBrowserConsoleTour walks the console a new administrator meets, with data on every page:
// the admin home, the users list, a person's page (a pass issued, a passkey, in a group), the
// confirmations to turn off and delete a person and to take them out of a group, the group's
// page, the four policy delete confirmations, the sign-in log, the audit log and the
// applications page. On each, at 1280 and 390 px, nothing is wider than the window, and no text
// shows a literal backtick or an error code in place of words. With LATCHKEY_SCREENSHOT_DIR set,
// each page is saved there, full height, as tour-NAME-WIDTH.png.
func TestBrowserConsoleTour(t *testing.T) {
	s := startServer(t)
	seedConsole(t, s)
	ctx := context.Background()
	admin := latchkey.SystemActor

	nina, _ := newUser(t, s, "nina.longname-contractor@subsidiary.example.com", "Nina Abernathy-Longbottom")
	if _, _, err := s.Auth.IssueAccessPass(ctx, nina.ID, signin.IssueOptions{LifetimeMinutes: 480, CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	pk := &latchkey.Passkey{UserID: nina.ID, CredentialID: []byte(latchkey.NewID()), PublicKey: []byte{1}, AAGUID: "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
		AttestationFormat: "none", AttestationTrust: latchkey.AttestationNone, BackupEligible: true, BackupState: true, UserVerified: true,
		Kind: latchkey.KindSynced, Provider: "Google Password Manager", Nickname: "Nina's phone"}
	if err := s.Store.CreatePasskey(ctx, pk); err != nil {
		t.Fatal(err)
	}
	g := &latchkey.Group{DisplayName: "Finance and Accounting (EMEA)", Description: "Everyone who approves invoices"}
	if err := s.Directory.CreateGroup(ctx, admin, g); err != nil {
		t.Fatal(err)
	}
	for _, upn := range []string{nina.UserPrincipalName, "bob@example.com"} {
		if _, err := s.Directory.AddGroupMember(ctx, admin, g.ID, s.user(t, upn).ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Directory.SetManager(ctx, admin, nina.ID, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	st, err := s.Policies.CreateStrength(ctx, admin, policy.Strength{Name: "Passkey on one device", Description: "A passkey that stays on one device; synced passkeys and passes do not count.",
		AllowedCombinations: []string{policy.CombinationPasskey}, PasskeyConditions: &policy.PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}}})
	if err != nil {
		t.Fatal(err)
	}
	// A strength a policy still requires: its delete page says what to do first.
	used, err := s.Policies.CreateStrength(ctx, admin, policy.Strength{Name: "Security key", Description: "A security key; nothing else counts.",
		AllowedCombinations: []string{policy.CombinationPasskey}, PasskeyConditions: &policy.PasskeyConditions{Kinds: []string{latchkey.KindDeviceBound}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Policies.CreateCAPolicy(ctx, admin, policy.ConditionalAccessPolicy{Name: "Security keys for the admin apps", State: policy.CAStateDisabled,
		Users: policy.Users{IncludeUsers: []string{policy.All}}, Applications: policy.Applications{IncludeApplications: []string{policy.All}},
		Grant: policy.Grant{StrengthID: used.ID}}, 0); err != nil {
		t.Fatal(err)
	}
	loc, err := s.Policies.CreateNamedLocation(ctx, admin, policy.NamedLocation{Name: "Head office", CIDRs: []string{"192.0.2.0/24"}, IsTrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Policies.ChangeMethodsPolicy(ctx, admin, 0, func(p *policy.MethodsPolicy) error {
		p.Passkey.Profiles = append(p.Passkey.Profiles, policy.PasskeyProfile{ID: "finance", Name: "Finance: security keys only",
			TargetGroupIDs: []string{g.ID}, PasskeyTypes: policy.PasskeyTypesDeviceBound, AttestationEnforcement: policy.AttestationEnforcementDisabled,
			KeyRestrictions: policy.KeyRestrictions{EnforcementType: policy.EnforcementBlock, AAGUIDs: []string{}}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	person, group := "/admin/users/"+nina.ID, "/admin/groups/"+g.ID
	for _, p := range []struct{ name, path string }{
		{"admin-home", "/admin"},
		{"users", "/admin/users"},
		{"person", person},
		{"person-disable", person + "/confirm?action=disable"},
		{"person-delete", person + "/confirm?action=delete"},
		{"person-group-remove", group + "/members/remove?user=" + nina.ID + "&from=person"},
		{"group", group},
		{"ca-delete", "/admin/ca/block-everyone/delete"},
		{"strength-delete", "/admin/strengths/" + st.ID + "/delete"},
		{"strength-delete-in-use", "/admin/strengths/" + used.ID + "/delete"},
		{"location-delete", "/admin/locations/" + loc.ID + "/delete"},
		{"profile-delete", "/admin/policy/profiles/finance/delete"},
		{"signins", "/admin/signins"},
		{"audit", "/admin/audit"},
		{"apps", "/admin/apps"},
	} {
		b.navigate(s.URL + p.path)
		b.waitPage(strings.SplitN(p.path, "?", 2)[0], "main h1")
		if n := b.count("#page-error"); n != 0 {
			t.Errorf("%s shows an error: %s", p.path, b.text("#page-error"))
		}
		screenshots(t, b, "tour-"+p.name)
		for _, w := range []int64{390, 1280} {
			b.step("window width", func(ctx context.Context) error {
				_, err := chromedp.Run(ctx, chromedp.EmulateViewport(w, 900))
				return err
			})
			if got := eval[int](b, `document.documentElement.scrollWidth`); got > int(w) {
				t.Errorf("%s is %d px wide in a %d px window", p.path, got, w)
			}
		}
		text := eval[string](b, `document.querySelector("main").innerText`)
		if strings.Contains(text, "`") {
			t.Errorf("%s shows a literal backtick: %q", p.path, text)
		}
		for _, code := range []string{"OneTimeUsed", "NotYetValid", "DisabledByPolicy", "reportOnlyFailure", "tap_invalid", "passkey_unknown"} {
			if strings.Contains(text, code) {
				t.Errorf("%s shows %q where a person expects words", p.path, code)
			}
		}
	}
}
