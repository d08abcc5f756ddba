package main

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/recovery/idvtest"
)

// TestBrowserRecoveryIDV: a person who lost every passkey opens /recover/verify, types their
// user name, is sent to the identity verification provider (a real OpenID provider on loopback
// that approves at once and returns verified_claims matching their record), comes back signed
// in to My Security Info's wizard and registers a passkey with a virtual authenticator; the
// recovery mail is queued and the audit event names the trust framework. A second person whose
// verified claims name someone else is refused in words that give the next path. An admin sets
// the provider's name on /admin/recovery. Pages at 1280 and 390 px (LATCHKEY_SCREENSHOT_DIR).
func TestBrowserRecoveryIDV(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	for _, u := range []*latchkey.User{
		{UserPrincipalName: "ada@example.com", GivenName: "Zoë", Surname: "Lovelace-King", EmployeeID: "E1001", Enabled: true,
			PersonalMail: "zoe@home.example"},
		{UserPrincipalName: "grace@example.com", GivenName: "Grace", Surname: "Hopper", EmployeeID: "E1002", Enabled: true},
	} {
		if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
			t.Fatal(err)
		}
	}
	idv := idvtest.Start(t, s.URL+"/recover/verify/callback")
	rec := recovery.New(s.Directory)
	if err := rec.SetIDVConfig(ctx, latchkey.CLIActor, recovery.IDVConfig{Enabled: true, Name: "Acme ID check", Issuer: idv.Issuer,
		ClientID: idvtest.ClientID, ClientSecret: idvtest.ClientSecret, Match: []string{recovery.AttrGivenName, recovery.AttrFamilyName, recovery.AttrEmployeeNumber},
		TrustFrameworks: []string{"eidas"}, AssuranceLevels: []string{"substantial", "high"}}); err != nil {
		t.Fatal(err)
	}
	idv.SetVerifiedClaims(idvtest.Plain("eidas", "high", map[string]any{"given_name": "ZOE", "family_name": "Lovelace King", "employee_number": "e1001"}), false)

	b := startBrowser(t)
	b.addAuthenticator(deviceBound())
	b.navigate(s.URL + "/recover/verify")
	b.waitVisible("#idv-form")
	if p := b.text("#idv-provider"); p != "Acme ID check" {
		t.Fatalf("provider named %q", p)
	}
	screenshots(t, b, "recover-verify")
	b.typeInto("#idv-username", "ada@example.com")
	b.click("#idv-submit")
	b.waitPage("/my/security-info", "#verified-notice")
	screenshots(t, b, "recover-verify-wizard")
	b.addPasskey()
	if pks := s.passkeys(t, "ada@example.com"); len(pks) != 1 {
		t.Fatalf("ada has %d passkeys after recovery; want 1", len(pks))
	}
	ada := s.user(t, "ada@example.com")
	// The notice reaches her personal address over SMTP and names the way and the provider.
	if m := waitRecoveryMail(t, s.Store, smtp, ada); !strings.Contains(m.Text, "Acme ID check") || !strings.Contains(m.Text, "identity") {
		t.Errorf("the recovery mail does not say how:\n%s", m.Text)
	}
	evs, err := s.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: "recovery.identityVerification", Target: ada.ID})
	if err != nil || len(evs) != 1 || evs[0].Summary["trustFramework"] != "eidas" || evs[0].Summary["assuranceLevel"] != "high" {
		t.Fatalf("audit events %+v, %v", evs, err)
	}

	// Grace: the provider verified someone else.
	g := b.newIsolatedTab()
	idv.SetVerifiedClaims(idvtest.Plain("eidas", "high", map[string]any{"given_name": "Grace", "family_name": "Brewster", "employee_number": "E1002"}), false)
	g.navigate(s.URL + "/recover/verify")
	g.waitVisible("#idv-form")
	g.typeInto("#idv-username", "grace@example.com")
	g.click("#idv-submit")
	g.waitPage("/recover/verify/callback", "#page-error")
	if msg := g.text("#page-error"); !strings.Contains(msg, "could not confirm") || !strings.Contains(msg, "manager") || !strings.Contains(msg, "helpdesk") {
		t.Fatalf("refusal reads %q", msg)
	}
	if code := g.attr("#page-error", "data-code"); code != recovery.CodeIDVNoMatch {
		t.Fatalf("refusal code %q", code)
	}
	screenshots(t, g, "recover-verify-refused")
	if len(s.passkeys(t, "grace@example.com")) != 0 {
		t.Fatal("grace got in")
	}

	// The admin renames the provider on /admin/recovery.
	a := b.newIsolatedTab()
	a.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	a.navigate(s.URL + "/admin/recovery")
	a.waitVisible("#idv-settings")
	screenshots(t, a, "admin-recovery")
	a.exec(`document.querySelector('#idv-settings input[name=name]').value = 'Acme identity check'`)
	a.click("#idv-save")
	a.waitPage("/admin/recovery", "#recovery-notice")
	conf, err := rec.IDVConfig(ctx, latchkey.CLIActor)
	if err != nil || conf.Name != "Acme identity check" || conf.ClientSecret != idvtest.ClientSecret || !conf.Enabled {
		t.Fatalf("settings after the admin's save: name %q, secret kept %v, enabled %v, %v", conf.Name, conf.ClientSecret == idvtest.ClientSecret, conf.Enabled, err)
	}
	// An issuer that is not https is refused in words; what was typed stays, nothing is stored.
	a.exec(`document.querySelector('#idv-settings input[name=issuer]').value = 'http://idv.example.com'`)
	a.click("#idv-save")
	a.waitPage("/admin/recovery", "#page-error")
	if code, msg := a.attr("#page-error", "data-code"), a.text("#page-error p"); code != "invalid_identity_verification" || !strings.Contains(msg, "https") {
		t.Fatalf("refused save: %s %q", code, msg)
	}
	if v := eval[string](a, `document.querySelector('#idv-settings input[name=issuer]').value`); v != "http://idv.example.com" {
		t.Fatalf("issuer field after the refusal %q", v)
	}
	if ph := a.attr("#idv-settings input[name=clientSecret]", "placeholder"); !strings.HasPrefix(ph, "Set.") {
		t.Fatalf("secret placeholder after the refusal %q", ph)
	}
	if conf, _ := rec.IDVConfig(ctx, latchkey.CLIActor); conf.Issuer != idv.Issuer {
		t.Fatalf("a refused save stored issuer %q", conf.Issuer)
	}
}
