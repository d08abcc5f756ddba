package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/signin"
)

// TestBrowserPasskeyMails: a person who registers a passkey in Chromium is mailed at every
// address on record, not their manager; an admin who removes it on the person's page mails
// them again, naming the admin. The outbox rows hold neither the pass nor a credential.
func TestBrowserPasskeyMails(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	boss := &latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@example.com", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, boss); err != nil {
		t.Fatal(err)
	}
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@example.com",
		PersonalMail: "ada.home@example.net", ManagerID: boss.ID, Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
	}
	pass, _, err := s.Directory.IssueAccessPass(ctx, latchkey.CLIActor, ada.ID, signin.IssueOptions{LifetimeMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}

	b := startBrowser(t)
	person := b.newIsolatedTab()
	person.signInWithTAP(s, ada.UserPrincipalName, pass)
	person.addAuthenticator(deviceBound())
	person.addPasskey()
	pks := s.passkeys(t, ada.UserPrincipalName)
	if len(pks) != 1 {
		t.Fatalf("ada has %d passkeys; want 1", len(pks))
	}
	added := waitMail(t, smtp, "ada@example.com", passkeyAddedMailSubject)
	if strings.Join(added.To, ",") != "ada@example.com,ada.home@example.net" || !added.TLS {
		t.Errorf("the passkey-added mail goes to %v (TLS %v); want both of ada's addresses, not her manager's, over TLS", added.To, added.TLS)
	}
	for _, want := range []string{pks[0].Nickname, "passkey on one device", "By:       you, or whoever signed in as you with a temporary access pass", "contact IT at once"} {
		if !strings.Contains(added.Text, want) {
			t.Errorf("the passkey-added mail does not say %q:\n%s", want, added.Text)
		}
	}

	admin := b.newIsolatedTab()
	admin.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	admin.navigate(s.URL + "/admin/users/" + ada.ID + "/passkeys/" + pks[0].ID + "/remove")
	admin.waitPage("/admin/users/"+ada.ID+"/passkeys/"+pks[0].ID+"/remove", "#confirm-form")
	admin.click(`#confirm-form input[name="confirm"]`)
	admin.click("#confirm-submit")
	admin.waitPage("/admin/users/"+ada.ID, "#methods-notice")
	removed := waitMail(t, smtp, "ada.home@example.net", passkeyRemovedMailSubject)
	if strings.Join(removed.To, ",") != "ada@example.com,ada.home@example.net" {
		t.Errorf("the passkey-removed mail goes to %v; want both of ada's addresses", removed.To)
	}
	for _, want := range []string{pks[0].Nickname, "the administrator " + directory.BootstrapUPN} {
		if !strings.Contains(removed.Text, want) {
			t.Errorf("the passkey-removed mail does not say %q:\n%s", want, removed.Text)
		}
	}

	items, err := s.Store.ListMail(ctx, latchkey.MailFilter{SubjectID: ada.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		for _, secret := range []string{pass, pks[0].ID, string(pks[0].CredentialID)} {
			if strings.Contains(it.ParamsJSON(), secret) {
				t.Errorf("outbox row %s (%s) holds a secret or credential: %s", it.ID, it.Kind, it.ParamsJSON())
			}
		}
	}
}

// TestBrowserRecoveryMailHelper: waitRecoveryMail returns the recovery mail of a person once a
// recovery pass is issued with Notify, as every recovery path does.
func TestBrowserRecoveryMailHelper(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", PersonalMail: "ada.home@example.net", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
	}
	nctx := recovery.Notify(ctx, recovery.Notice{UserID: ada.ID, Path: recovery.PathKiosk, By: "you, on your laptop", At: s.Auth.Now()})
	pass, _, err := s.Directory.IssueAccessPass(nctx, latchkey.CLIActor, ada.ID, signin.IssueOptions{Recovery: true})
	if err != nil {
		t.Fatal(err)
	}
	m := waitRecoveryMail(t, s.Store, smtp, ada)
	if len(m.To) != 1 || m.To[0] != "ada.home@example.net" || !strings.Contains(m.Text, "you, on your laptop") || strings.Contains(m.Text, pass) {
		t.Errorf("recovery mail to %v:\n%s", m.To, m.Text)
	}
}

// TestBrowserHelpdeskContactSetting: an admin gives on /admin/policy how people reach the
// helpdesk; it is stored, the card shows it, and the next security notice says it. With
// LATCHKEY_SCREENSHOT_DIR set, the card is saved at 1280 and 390 px.
func TestBrowserHelpdeskContactSetting(t *testing.T) {
	s, smtp := startServerWithMail(t)
	ctx := context.Background()
	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	b.navigate(s.URL + "/admin/policy")
	b.waitVisible("#onboarding")
	b.click("#change-onboarding summary")
	b.waitVisible("#helpdesk-contact")
	b.typeInto("#helpdesk-contact", "call 020 7946 0000 or go to room 2.14")
	b.click("#policy-onboarding-submit")
	b.waitVisible("#policy-notice")
	if p, err := s.Auth.MethodsPolicy(ctx); err != nil || p.TemporaryAccessPass.Onboarding.HelpdeskContact != "call 020 7946 0000 or go to room 2.14" {
		t.Fatalf("stored onboarding %+v, %v", p.TemporaryAccessPass.Onboarding, err)
	}
	if got := b.text("#onboarding-helpdesk"); got != "call 020 7946 0000 or go to room 2.14" {
		t.Errorf("the card says %q", got)
	}
	for _, width := range []int64{1280, 390} {
		b.step("set the window", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		b.exec(`document.querySelector("#change-onboarding").open = true`)
		elementScreenshot(t, b, "#onboarding", "notify-helpdesk-setting-"+strconv.FormatInt(width, 10))
	}

	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@example.com", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
	}
	nctx := recovery.Notify(ctx, recovery.Notice{UserID: ada.ID, Path: recovery.PathHelpdesk, By: "Helpdesk: bob, approved by carol", At: s.Auth.Now()})
	if _, _, err := s.Directory.IssueAccessPass(nctx, latchkey.CLIActor, ada.ID, signin.IssueOptions{Recovery: true}); err != nil {
		t.Fatal(err)
	}
	if m := waitRecoveryMail(t, s.Store, smtp, ada); !strings.Contains(m.Text, "contact IT at once: call 020 7946 0000 or go to room 2.14.") {
		t.Errorf("the recovery mail does not give the helpdesk:\n%s", m.Text)
	}
}

// elementScreenshot saves the element sel as name.png in LATCHKEY_SCREENSHOT_DIR, when set.
func elementScreenshot(t *testing.T, b *browser, sel, name string) {
	t.Helper()
	dir := os.Getenv("LATCHKEY_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var png []byte
	b.step("screenshot "+sel, func(ctx context.Context) error {
		var err error
		png, err = chromedp.Run(ctx, chromedp.Screenshot(sel))
		return err
	})
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserUndeliverableNotice: the recovery notice of a person with no address on record
// fails at once, and the admin home lists it, naming the person and the notice, with what to
// do. With LATCHKEY_SCREENSHOT_DIR set, the list is saved at 1280 and 390 px.
func TestBrowserUndeliverableNotice(t *testing.T) {
	s, _ := startServerWithMail(t)
	ctx := context.Background()
	lone := &latchkey.User{UserPrincipalName: "lone@example.com", DisplayName: "Lone Worker", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, lone); err != nil {
		t.Fatal(err)
	}
	nctx := recovery.Notify(ctx, recovery.Notice{UserID: lone.ID, Path: recovery.PathManager, By: "Grace Hopper (your manager)", At: s.Auth.Now()})
	if _, _, err := s.Directory.IssueAccessPass(nctx, latchkey.CLIActor, lone.ID, signin.IssueOptions{Recovery: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		items, err := s.Store.ListMail(ctx, latchkey.MailFilter{Kind: recovery.MailKindRecovery, SubjectID: lone.ID, State: latchkey.MailFailed})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the notice that reaches nobody did not fail")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b := startBrowser(t)
	b.signInWithTAP(s, directory.BootstrapUPN, s.Pass)
	for _, width := range []int64{1280, 390} {
		b.step("set the window", func(ctx context.Context) error {
			_, err := chromedp.Run(ctx, chromedp.EmulateViewport(width, 900))
			return err
		})
		b.navigate(s.URL + "/admin")
		b.waitPage("/admin", "#mail-problems")
		row := b.text(`#mail-problems tr[data-state="failed"]`)
		for _, want := range []string{"Lone Worker", "Security notice: a pass to get back in was issued", "lone@example.com", "Tell them yourself"} {
			if !strings.Contains(row, want) {
				t.Errorf("%d px: the failed notice's row %q does not say %q", width, row, want)
			}
		}
		elementScreenshot(t, b, "#mail-problems", "notify-undeliverable-"+strconv.FormatInt(width, 10))
	}
}
