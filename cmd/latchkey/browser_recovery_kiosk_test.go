package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mailtest"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/signin"
)

// createWithPass creates a person through the directory (as the CLI does) and issues them an
// ordinary pass.
func createWithPass(t *testing.T, s *testServer, u *latchkey.User) string {
	t.Helper()
	ctx := context.Background()
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, u); err != nil {
		t.Fatalf("create %s: %v", u.UserPrincipalName, err)
	}
	pass, _, err := s.Auth.IssueAccessPass(ctx, u.ID, signin.IssueOptions{LifetimeMinutes: 60, CreatedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return pass
}

// wantRecoveryTrail checks that one audit event of action names the person, that one recovery
// mail of path was queued for them, and that it reached their address over SMTP.
func wantRecoveryTrail(t *testing.T, s *testServer, smtp *mailtest.Server, u *latchkey.User, action, path string) *latchkey.AuditEvent {
	t.Helper()
	ctx := context.Background()
	evs, err := s.Store.ListAuditEvents(ctx, latchkey.AuditFilter{Action: action, Target: u.ID})
	if err != nil || len(evs) != 1 {
		t.Fatalf("audit events %s on %s: %d, %v; want 1", action, u.UserPrincipalName, len(evs), err)
	}
	items, err := s.Store.ListMail(ctx, latchkey.MailFilter{Kind: recovery.MailKindRecovery, SubjectID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Params["path"] != path {
		t.Fatalf("recovery mails for %s: %+v; want one of path %s", u.UserPrincipalName, items, path)
	}
	waitRecoveryMail(t, s.Store, smtp, u) // received over SMTP
	return evs[0]
}

// TestBrowserKiosk is "I have a new phone": after a pass sign-in the laptop is refused and told
// why; after a sign-in with the laptop's device-bound passkey it gets a pass and a QR code of
// the sign-in link with the person's name; the new phone (a second authenticator in a new
// browser context) signs in with that pass and registers its own passkey. Screenshots at 1280
// and 390 px with LATCHKEY_SCREENSHOT_DIR set.
func TestBrowserKiosk(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@mail.example.com", Enabled: true}
	pass := createWithPass(t, s, ada)

	laptop := startBrowser(t)
	platform := laptop.addAuthenticator(deviceBound())
	laptop.signInWithTAP(s, ada.UserPrincipalName, pass)
	laptop.addPasskey()
	laptop.waitVisible("#new-phone-refused")
	if code := laptop.attr("#new-phone-refused", "data-code"); code != recovery.CodeKioskNotPasskey {
		t.Fatalf("after a pass sign-in the kiosk says %q (%s)", laptop.text("#new-phone-refused"), code)
	}
	if laptop.count("#new-phone-start") != 0 {
		t.Fatal("the kiosk offers a pass after a pass sign-in")
	}
	screenshots(t, laptop, "kiosk-refused")

	// Keep the passkey but take the authenticator away while signing out: with it attached, the
	// sign-in page's autofill request would sign in by itself before the button is clicked.
	cred := laptop.credentials(platform)
	if len(cred) != 1 {
		t.Fatalf("the laptop's authenticator holds %d credentials, want 1", len(cred))
	}
	laptop.removeAuthenticator(platform)
	laptop.signOut()
	laptop.importCredential(laptop.addAuthenticator(deviceBound()), cred[0])
	laptop.click("#passkey-signin")
	laptop.waitPage("/my/security-info", "#signed-in-as")
	laptop.waitVisible("#new-phone-start")
	screenshots(t, laptop, "kiosk-offer")
	laptop.click("#new-phone-start")
	laptop.waitPage("/my/security-info/new-phone", "#kiosk-pass-value")
	newPass := laptop.text("#kiosk-pass-value")
	link := laptop.text("#kiosk-link")
	if want := s.URL + "/signin/tap?username=" + url.QueryEscape(ada.UserPrincipalName); link != want {
		t.Fatalf("the kiosk's link is %q, want %q", link, want)
	}
	laptop.waitJS("the QR code drawn", `document.querySelector("#kiosk-qr").complete && document.querySelector("#kiosk-qr").naturalWidth > 100`)
	screenshots(t, laptop, "kiosk-pass")

	phone := laptop.newIsolatedTab()
	phone.addAuthenticator(synced())
	phone.navigate(link)
	phone.waitVisible("#tap-form")
	if v := eval[string](phone, `document.querySelector("#tap-username").value`); v != ada.UserPrincipalName {
		t.Fatalf("the link fills the user name with %q", v)
	}
	phone.typeInto("#tap-pass", newPass)
	phone.click("#tap-submit")
	phone.waitPage("/my/security-info", "#signed-in-as")
	phone.addPasskey()
	if pks := s.passkeys(t, ada.UserPrincipalName); len(pks) != 2 {
		t.Fatalf("ada has %d passkeys after the new phone; want 2", len(pks))
	}
	ev := wantRecoveryTrail(t, s, smtp, ada, recovery.AuditKiosk, recovery.PathKiosk)
	if ev.Summary["deviceBound"] != "claimed" || ev.ActorID != ada.ID {
		t.Fatalf("kiosk audit event %+v; want by ada, device-bound claimed", ev)
	}
}

// TestBrowserMyStaff: a manager whom the policy allows sees their reports on My Staff (the
// "My staff" link is in their navigation), issues a pass to one who holds no role, and the
// report signs in with it and registers a passkey. An administrator among the reports gets no
// pass button.
func TestBrowserMyStaff(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	grace := &latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@mail.example.com", Enabled: true}
	gracePass := createWithPass(t, s, grace)
	alan := &latchkey.User{UserPrincipalName: "alan@example.com", DisplayName: "Alan Turing", PersonalMail: "alan@home.example", ManagerID: grace.ID, Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, alan); err != nil {
		t.Fatal(err)
	}
	root := &latchkey.User{UserPrincipalName: "root@example.com", DisplayName: "Root Admin", ManagerID: grace.ID, Enabled: true,
		Roles: []string{latchkey.RoleAuthenticationAdmin}}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, root); err != nil {
		t.Fatal(err)
	}

	// The admin turns My Staff on with the policy page's form.
	admin := startBrowser(t)
	admin.signInWithTAP(s, "admin", s.Pass)
	admin.navigate(s.URL + "/admin/policy")
	admin.waitVisible("#recovery-settings")
	if got := admin.text("#mystaff-state"); !strings.HasPrefix(got, "off") {
		t.Fatalf("My Staff before: %q; want off", got)
	}
	admin.click("#change-recovery summary")
	admin.waitVisible("#policy-recovery")
	admin.click(`#policy-recovery input[name="myStaffOn"]`)
	admin.exec(`document.querySelector('#policy-recovery input[name="myStaffLifetime"]').value = "10"`)
	admin.click("#policy-recovery-submit")
	admin.waitVisible("#policy-notice")
	if p, err := s.Auth.MethodsPolicy(ctx); err != nil || !p.TemporaryAccessPass.MyStaff.Enabled() || p.TemporaryAccessPass.MyStaff.LifetimeInMinutes != 10 {
		t.Fatalf("stored My Staff %+v, %v", p.TemporaryAccessPass.MyStaff, err)
	}
	screenshots(t, admin, "policy-recovery")
	admin.click("#change-recovery summary")
	elementShots(t, admin, "#recovery-settings", "policy-recovery-card")

	b := admin.newIsolatedTab()
	b.signInWithTAP(s, grace.UserPrincipalName, gracePass)
	b.click("#nav-staff")
	b.waitPage("/my/staff", "#reports")
	if n := b.count("#reports li"); n != 2 {
		t.Fatalf("My Staff lists %d reports; want 2", n)
	}
	if n := b.count(`li[data-user-id="` + root.ID + `"] .issue-pass`); n != 0 {
		t.Fatal("My Staff offers a pass for an administrator")
	}
	screenshots(t, b, "my-staff")
	b.click(`li[data-user-id="` + alan.ID + `"] summary`)
	b.click(`li[data-user-id="` + alan.ID + `"] .issue-pass`)
	b.waitPage("/my/staff/"+alan.ID+"/pass", "#staff-pass-value")
	pass := b.text("#staff-pass-value")
	screenshots(t, b, "my-staff-issued")

	if got := b.text("#staff-pass"); !strings.Contains(got, "10 minutes") {
		t.Errorf("the pass card says %q; want 10 minutes", got)
	}
	ab := admin.newIsolatedTab()
	ab.addAuthenticator(deviceBound())
	ab.signInWithTAP(s, alan.UserPrincipalName, pass)
	ab.addPasskey()
	if pks := s.passkeys(t, alan.UserPrincipalName); len(pks) != 1 {
		t.Fatalf("alan has %d passkeys; want 1", len(pks))
	}
	ev := wantRecoveryTrail(t, s, smtp, alan, recovery.AuditStaff, recovery.PathManager)
	if ev.ActorID != grace.ID {
		t.Fatalf("My Staff audit event by %s; want grace", ev.ActorID)
	}
}

// elementShots saves the element sel at 390 and 1280 px wide as name-390.png and
// name-1280.png in LATCHKEY_SCREENSHOT_DIR, when that is set; the window is left at 1280 px.
func elementShots(t *testing.T, b *browser, sel, name string) {
	t.Helper()
	dir := os.Getenv("LATCHKEY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	for _, w := range []int64{390, 1280} {
		var png []byte
		b.step("screenshot of "+sel, func(ctx context.Context) error {
			if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
				return err
			}
			var err error
			png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
			return err
		})
		if err := os.WriteFile(filepath.Join(dir, name+"-"+strconv.FormatInt(w, 10)+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
