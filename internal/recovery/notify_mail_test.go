package recovery_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/recovery"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// notifyRig is the recovery service over a real SQLite store with a clock the test moves, and
// an outbox that sends through a real SMTP server (STARTTLS, AUTH PLAIN) with the notification
// composers registered as serve registers them.
type notifyRig struct {
	t      *testing.T
	rec    *recovery.Service
	smtp   *mailtest.Server
	outbox *mail.Outbox
	mu     sync.Mutex
	now    time.Time
}

func (r *notifyRig) Now() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }

func newNotifyRig(t *testing.T) *notifyRig {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("https://id.example.com", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	r := &notifyRig{t: t, smtp: mailtest.Start(t), now: time.Date(2026, 12, 3, 9, 15, 0, 0, time.UTC)}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sig.Now = r.Now
	r.rec = recovery.New(directory.New(sig))
	sender, err := mail.ParseSMTPURL(r.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	sender.TLSConfig = mailtest.ClientTLS()
	r.outbox = mail.NewOutbox(st, mail.Options{Sender: sender, From: "latchkey@example.com", Now: r.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for kind, c := range r.rec.Composers("https://id.example.com/") {
		r.outbox.Register(kind, c)
	}
	// The organisation's name and time zone come from the onboarding settings.
	p, err := sig.MethodsPolicy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p.TemporaryAccessPass.Onboarding.TimeZone, p.TemporaryAccessPass.Onboarding.OrganizationName = "Europe/Berlin", "Example Ltd"
	p.TemporaryAccessPass.Onboarding.HelpdeskContact = "call 020 7946 0000 or go to room 2.14"
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateSetting(t.Context(), signin.MethodsPolicyKey, func([]byte) ([]byte, error) { return b, nil }); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *notifyRig) create(u *latchkey.User) *latchkey.User {
	r.t.Helper()
	u.Enabled = true
	if err := r.rec.Dir.CreateUser(r.t.Context(), latchkey.CLIActor, u); err != nil {
		r.t.Fatalf("create %s: %v", u.UserPrincipalName, err)
	}
	return u
}

// run sends what is due.
func (r *notifyRig) run() {
	r.t.Helper()
	if err := r.outbox.RunOnce(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
}

// items returns the outbox items of kind about u.
func (r *notifyRig) items(kind string, u *latchkey.User) []*latchkey.MailItem {
	r.t.Helper()
	items, err := r.rec.Store.ListMail(r.t.Context(), latchkey.MailFilter{Kind: kind, SubjectID: u.ID})
	if err != nil {
		r.t.Fatal(err)
	}
	return items
}

// issueRecovery issues a recovery pass for u as a recovery path does: through the directory,
// with Notify on the ctx of the write.
func (r *notifyRig) issueRecovery(u *latchkey.User, path, by string) string {
	r.t.Helper()
	ctx := recovery.Notify(r.t.Context(), recovery.Notice{UserID: u.ID, Path: path, By: by, At: r.Now()})
	pass, _, err := r.rec.Dir.IssueAccessPass(ctx, latchkey.CLIActor, u.ID, signin.IssueOptions{Recovery: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return pass
}

// TestRecoveryMailGoesToEveryAddressAndManager: a recovery pass mails one message to the
// person's work and personal addresses and their manager's work address, over STARTTLS; it
// says how, by whom and when (in the organisation's time zone) and what to do if it was not
// them, and holds the pass nowhere, neither in the mail nor in the outbox.
func TestRecoveryMailGoesToEveryAddressAndManager(t *testing.T) {
	r := newNotifyRig(t)
	grace := r.create(&latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@example.com",
		PersonalMail: "grace.private@example.net"})
	ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@example.com",
		PersonalMail: "ada.home@example.net", ManagerID: grace.ID})
	pass := r.issueRecovery(ada, recovery.PathManager, "Grace Hopper (your manager)")
	r.run()
	msgs := r.smtp.Wait(t, 1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d mails; want one to everybody", len(msgs))
	}
	m := msgs[0]
	if want := []string{"ada@example.com", "ada.home@example.net", "grace@example.com"}; strings.Join(m.To, ",") != strings.Join(want, ",") {
		t.Errorf("to %v; want %v (not the manager's personal address)", m.To, want)
	}
	if !m.TLS || m.AuthUser != mailtest.User {
		t.Errorf("TLS %v, auth %q: the mail must go over STARTTLS with the credentials", m.TLS, m.AuthUser)
	}
	for _, want := range []string{
		"Ada Lovelace", "Example Ltd", "by your manager, on their My Staff page", "Grace Hopper (your manager)",
		"Thursday 3 December 2026, 10:15 (Europe/Berlin time)", "contact IT at once: call 020 7946 0000 or go to room 2.14.", "at most\n15 minutes",
		"never contains the pass", "and to your manager, Grace Hopper",
	} {
		if !strings.Contains(m.Subject+"\n"+m.Text, want) {
			t.Errorf("the mail does not say %q:\n%s\n\n%s", want, m.Subject, m.Text)
		}
	}
	if strings.Contains(string(m.Raw), pass) {
		t.Error("the recovery mail holds the pass")
	}
	items := r.items(recovery.MailKindRecovery, ada)
	if len(items) != 1 || items[0].State != latchkey.MailSent {
		t.Fatalf("recovery items %+v; want one sent", items)
	}
	if strings.Contains(items[0].ParamsJSON(), pass) {
		t.Error("the outbox row holds the pass")
	}
}

// TestRecoveryMailEachPathInWords: each path is told in its own plain words, and one address
// suffices: a person with only a personal address and no manager is told there.
func TestRecoveryMailEachPathInWords(t *testing.T) {
	r := newNotifyRig(t)
	for i, c := range []struct{ path, words string }{
		{recovery.PathKiosk, `"I have a new phone"`},
		{recovery.PathIDV, "after an identity check"},
		{recovery.PathHelpdesk, "after a second administrator approved"},
	} {
		u := r.create(&latchkey.User{UserPrincipalName: c.path + "@example.com", DisplayName: "Person " + c.path,
			PersonalMail: c.path + ".home@example.net"})
		r.issueRecovery(u, c.path, "someone")
		r.run()
		m := r.smtp.Wait(t, i+1, 10*time.Second)[i]
		if len(m.To) != 1 || m.To[0] != c.path+".home@example.net" || !strings.Contains(m.Text, c.words) {
			t.Errorf("%s: to %v, text:\n%s\nwant to the personal address, saying %q", c.path, m.To, m.Text, c.words)
		}
	}
}

// TestRecoveryMailWithoutAddressFailsVisibly: a person with no address and no manager cannot
// be told; the item fails for good at once with a reason naming them, which the admin home
// lists, and nothing is sent.
func TestRecoveryMailWithoutAddressFailsVisibly(t *testing.T) {
	r := newNotifyRig(t)
	u := r.create(&latchkey.User{UserPrincipalName: "nomail@example.com", DisplayName: "No Mail"})
	r.issueRecovery(u, recovery.PathHelpdesk, "Helpdesk: bob, approved by carol")
	r.run()
	items := r.items(recovery.MailKindRecovery, u)
	if len(items) != 1 || items[0].State != latchkey.MailFailed || !strings.Contains(items[0].LastError, "nomail@example.com") {
		t.Fatalf("items %+v; want one failed, naming the person", items)
	}
	st, err := r.outbox.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed != 1 {
		t.Errorf("the admin home counts %d failed mails; want 1", st.Failed)
	}
	if n := len(r.smtp.Messages()); n != 0 {
		t.Errorf("%d mails sent; want none", n)
	}
}

// notifyPasskey stores a passkey for u as registration would have.
func (r *notifyRig) notifyPasskey(u *latchkey.User, name string) *latchkey.Passkey {
	r.t.Helper()
	pk := &latchkey.Passkey{UserID: u.ID, CredentialID: []byte("cred-" + name), PublicKey: []byte("PUBLIC-KEY-BYTES-" + name), Kind: latchkey.KindSynced,
		Provider: "iCloud Keychain", Nickname: name, Transports: []string{"internal", "hybrid"}}
	if err := r.rec.Store.CreatePasskey(r.t.Context(), pk); err != nil {
		r.t.Fatal(err)
	}
	return pk
}

// TestPasskeyRemovedMails: an admin removing someone's passkey, and a person removing their
// own, each mail the person at their addresses (not the manager), naming the passkey, its kind,
// who removed it and when; the outbox rows hold no credential.
func TestPasskeyRemovedMails(t *testing.T) {
	r := newNotifyRig(t)
	grace := r.create(&latchkey.User{UserPrincipalName: "grace@example.com", DisplayName: "Grace Hopper", Mail: "grace@example.com"})
	ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", Mail: "ada@example.com",
		PersonalMail: "ada.home@example.net", ManagerID: grace.ID})
	phone := r.notifyPasskey(ada, "Ada's iPhone")
	laptop := r.notifyPasskey(ada, "Ada's MacBook")
	admin := latchkey.Actor{Kind: latchkey.ActorPerson, UserID: "admin-1", UPN: "helpdesk@example.com",
		Roles: []latchkey.RoleAssignment{{Role: latchkey.RoleGlobalAdmin}}}
	if err := r.rec.Dir.RemovePasskeyFor(t.Context(), admin, ada.ID, phone.ID); err != nil {
		t.Fatal(err)
	}
	r.run()
	m := r.smtp.Wait(t, 1, 10*time.Second)[0]
	if strings.Join(m.To, ",") != "ada@example.com,ada.home@example.net" {
		t.Errorf("to %v; want the person's two addresses only", m.To)
	}
	for _, want := range []string{"A passkey was removed from your Example Ltd account", "Ada's iPhone", "synced passkey", "iCloud Keychain",
		"the administrator helpdesk@example.com", "Thursday 3 December 2026, 10:15 (Europe/Berlin time)", "contact IT at once"} {
		if !strings.Contains(m.Subject+"\n"+m.Text, want) {
			t.Errorf("the mail does not say %q:\n%s\n\n%s", want, m.Subject, m.Text)
		}
	}
	if err := r.rec.Signin.RemovePasskey(t.Context(), ada, laptop.ID, true); err != nil {
		t.Fatal(err)
	}
	r.run()
	m = r.smtp.Wait(t, 2, 10*time.Second)[1]
	if !strings.Contains(m.Text, "Ada's MacBook") || !strings.Contains(m.Text, "By:       you") {
		t.Errorf("own removal mail:\n%s", m.Text)
	}
	for _, it := range r.items(signin.MailKindPasskeyRemoved, ada) {
		if it.State != latchkey.MailSent {
			t.Errorf("item %s is %s; want sent", it.ID, it.State)
		}
		for _, secret := range []string{"cred-", "PUBLIC-KEY-BYTES", phone.ID, laptop.ID} {
			if strings.Contains(it.ParamsJSON(), secret) {
				t.Errorf("outbox row %s holds %q", it.ParamsJSON(), secret)
			}
		}
	}
}
