package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
	"github.com/latchkey/latchkey/internal/policy"
)

// TestBrowserOnboardingMail is a new person's first day: created with today as their start date
// and a manager, their pass goes by mail (over SMTP with STARTTLS) to the manager; the person
// opens the sign-in address the mail gives (their user name filled in), types the pass, and
// sets up a passkey; their onboarding state then says so.
func TestBrowserOnboardingMail(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	// Passes from midnight, so that today's pass already works whatever the hour the test runs.
	if _, err := s.Policies.ChangeMethodsPolicy(ctx, latchkey.SystemActor, 0, func(p *policy.MethodsPolicy) error {
		p.TemporaryAccessPass.Onboarding.TimeOfDay = "00:00"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	boss := &latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@mail.example.com", Enabled: true}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, boss); err != nil {
		t.Fatal(err)
	}
	ada := &latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Enabled: true,
		StartDate: s.Auth.Now().UTC().Format(time.DateOnly), ManagerID: boss.ID}
	if err := s.Directory.CreateUser(ctx, latchkey.CLIActor, ada); err != nil {
		t.Fatal(err)
	}

	srv := mailtest.Start(t)
	smtp, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	smtp.TLSConfig = srv.ClientTLS()
	ob := mail.NewOutbox(s.Store, mail.Options{Sender: smtp, From: "it@example.com", Now: s.Auth.Now, Logger: s.Logger})
	ob.Register(directory.MailKindOnboarding, s.Directory.OnboardingComposer(s.PublicURL))
	if err := ob.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msg := srv.Wait(t, 1, 10*time.Second)[0]
	if len(msg.To) != 1 || msg.To[0] != "grace@mail.example.com" {
		t.Fatalf("mail to %v", msg.To)
	}
	addr := regexp.MustCompile(`(?m)^  Sign in at:\s+(\S+)\r?$`).FindStringSubmatch(msg.Text)
	pass := regexp.MustCompile(`(?m)^  Pass:\s+(\S+)\r?$`).FindStringSubmatch(msg.Text)
	if addr == nil || pass == nil {
		t.Fatalf("no sign-in address or pass in the mail:\n%s", msg.Text)
	}

	b := startBrowser(t)
	b.navigate(addr[1])
	b.waitVisible("#tap-form")
	if got := eval[string](b, `document.querySelector("#tap-username").value`); got != ada.UserPrincipalName {
		t.Errorf("the sign-in address fills in %q; want %q", got, ada.UserPrincipalName)
	}
	b.typeInto("#tap-pass", pass[1])
	b.click("#tap-submit")
	b.waitPage("/my/security-info", "#wizard")
	b.addAuthenticator(deviceBound())
	b.addPasskey()
	if pks := s.passkeys(t, ada.UserPrincipalName); len(pks) != 1 {
		t.Fatalf("ada has %d passkeys; want 1", len(pks))
	}
	st, err := s.Directory.OnboardingState(ctx, latchkey.SystemActor, ada.ID)
	if err != nil || st.Stage != directory.OnboardingPasskeyRegistered {
		t.Errorf("onboarding state %+v, %v; want passkeyRegistered", st, err)
	}
}
