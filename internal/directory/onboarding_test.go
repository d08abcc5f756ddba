package directory

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// onboardingRig is a directory over a real SQLite store with a clock the test moves, and an
// outbox that hands mail to a sender the test controls.
type onboardingRig struct {
	t      *testing.T
	svc    *Service
	mu     sync.Mutex
	now    time.Time
	sent   []*mail.Message
	fail   bool // the sender refuses every mail
	outbox *mail.Outbox
}

func (r *onboardingRig) Now() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }

func (r *onboardingRig) advanceTo(t time.Time) { r.mu.Lock(); defer r.mu.Unlock(); r.now = t }

// Send keeps msg, or refuses it when fail is set.
func (r *onboardingRig) Send(_ context.Context, _ string, msg *mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return &mail.SendError{Err: errors.New("451 4.3.0 try again later")}
	}
	r.sent = append(r.sent, msg)
	return nil
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// onboardingStores open a fresh store of each kind: the outbox changes ride on both stores'
// write transactions.
var onboardingStores = []struct {
	name string
	open func(t *testing.T) latchkey.Store
}{
	{"sqlite", func(t *testing.T) latchkey.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) latchkey.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// onEachStore runs test on a rig over each kind of store.
func onEachStore(t *testing.T, test func(t *testing.T, r *onboardingRig)) {
	for _, s := range onboardingStores {
		t.Run(s.name, func(t *testing.T) { test(t, newOnboardingRig(t, s.open(t))) })
	}
}

func newOnboardingRig(t *testing.T, st latchkey.Store) *onboardingRig {
	t.Helper()
	wa, err := passkey.NewWebAuthn("https://id.example.com", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	r := &onboardingRig{t: t, now: time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sig.Now = r.Now
	r.svc = New(sig)
	r.outbox = mail.NewOutbox(st, mail.Options{Sender: r, From: "it@example.com", Now: r.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r.outbox.Register(MailKindOnboarding, r.svc.OnboardingComposer(""))
	return r
}

// create makes a person through CreateUser, as the CLI does.
func (r *onboardingRig) create(u *latchkey.User) *latchkey.User {
	r.t.Helper()
	u.Enabled = true
	if err := r.svc.CreateUser(context.Background(), latchkey.CLIActor, u); err != nil {
		r.t.Fatalf("create %s: %v", u.UserPrincipalName, err)
	}
	return u
}

// mail returns the onboarding items of u, newest first.
func (r *onboardingRig) mail(u *latchkey.User) []*latchkey.MailItem {
	r.t.Helper()
	items, err := r.svc.Store.ListMail(context.Background(), latchkey.MailFilter{Kind: MailKindOnboarding, SubjectID: u.ID})
	if err != nil {
		r.t.Fatal(err)
	}
	return items
}

// pending returns u's one pending onboarding item, failing the test unless there is exactly one.
func (r *onboardingRig) pending(u *latchkey.User) *latchkey.MailItem {
	r.t.Helper()
	var out []*latchkey.MailItem
	for _, it := range r.mail(u) {
		if it.State == latchkey.MailPending {
			out = append(out, it)
		}
	}
	if len(out) != 1 {
		r.t.Fatalf("%s has %d pending onboarding mails; want 1", u.UserPrincipalName, len(out))
	}
	return out[0]
}

// noPending fails the test when u has a pending onboarding item.
func (r *onboardingRig) noPending(u *latchkey.User, why string) {
	r.t.Helper()
	for _, it := range r.mail(u) {
		if it.State == latchkey.MailPending {
			r.t.Errorf("%s: %s still has a pending onboarding mail for %v", why, u.UserPrincipalName, it.NotBefore)
		}
	}
}

func (r *onboardingRig) state(u *latchkey.User) OnboardingState {
	r.t.Helper()
	st, err := r.svc.OnboardingState(context.Background(), latchkey.CLIActor, u.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

func strp(s string) *string { return &s }

// TestOnboardingMailQueuedWithPerson: creating a person with a start date queues one onboarding
// mail for the start date's time of day, in the same write; a start date today or a few days
// back is due now; none long ago, and none without a start date.
func TestOnboardingMailQueuedWithPerson(t *testing.T) {
	onEachStore(t, func(t *testing.T, r *onboardingRig) {
		boss := r.create(&latchkey.User{UserPrincipalName: "boss@example.com", Mail: "boss@example.com"})
		ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", StartDate: "2026-12-01", ManagerID: boss.ID})
		it := r.pending(ada)
		if it.Key != "onboarding:"+ada.ID || it.SubjectID != ada.ID || it.Kind != "onboarding" ||
			!it.NotBefore.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("queued %+v", it)
		}
		if st := r.state(ada); st.Stage != OnboardingWaiting || !st.At.Equal(it.NotBefore) || !strings.Contains(st.Words, "boss@example.com") {
			t.Errorf("state %+v", st)
		}
		late := r.create(&latchkey.User{UserPrincipalName: "late@example.com", StartDate: "2026-11-20", ManagerID: boss.ID})
		if it := r.pending(late); !it.NotBefore.Equal(r.Now()) {
			t.Errorf("a person created after their start date: mail due %v; want now %v", it.NotBefore, r.Now())
		}
		for _, u := range []*latchkey.User{
			r.create(&latchkey.User{UserPrincipalName: "old@example.com", StartDate: "2019-03-01", ManagerID: boss.ID}),
			r.create(&latchkey.User{UserPrincipalName: "nodate@example.com", ManagerID: boss.ID}),
		} {
			if items := r.mail(u); len(items) != 0 {
				t.Errorf("%s: %d mails queued; want none", u.UserPrincipalName, len(items))
			}
		}
		if st := r.state(boss); st.Stage != OnboardingNone {
			t.Errorf("person with no start date: %+v", st)
		}
	})
}

// TestOnboardingMailFollowsChanges: a moved start date moves the mail; a removed one, turning
// the person off and deleting them cancel it; turning them on again queues it again; once the
// mail is sent, a new manager sends nothing more.
func TestOnboardingMailFollowsChanges(t *testing.T) {
	onEachStore(t, func(t *testing.T, r *onboardingRig) {
		ctx := context.Background()
		boss := r.create(&latchkey.User{UserPrincipalName: "boss@example.com", Mail: "boss@example.com"})
		ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", StartDate: "2026-12-01", ManagerID: boss.ID})
		first := r.pending(ada)
		if _, err := r.svc.UpdateUser(ctx, latchkey.CLIActor, ada.ID, UserChanges{StartDate: strp("2026-12-07")}); err != nil {
			t.Fatal(err)
		}
		moved := r.pending(ada)
		if moved.ID != first.ID || !moved.NotBefore.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("moved start date: %+v (first %s)", moved, first.ID)
		}
		if _, err := r.svc.UpdateUser(ctx, latchkey.CLIActor, ada.ID, UserChanges{StartDate: strp("")}); err != nil {
			t.Fatal(err)
		}
		r.noPending(ada, "start date removed")
		if _, err := r.svc.UpdateUser(ctx, latchkey.CLIActor, ada.ID, UserChanges{StartDate: strp("2026-12-02")}); err != nil {
			t.Fatal(err)
		}
		r.pending(ada)
		if _, err := r.svc.DisableUser(ctx, latchkey.CLIActor, ada.ID); err != nil {
			t.Fatal(err)
		}
		r.noPending(ada, "turned off")
		if _, err := r.svc.EnableUser(ctx, latchkey.CLIActor, ada.ID); err != nil {
			t.Fatal(err)
		}
		if it := r.pending(ada); !it.NotBefore.Equal(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("turned on again: %+v", it)
		}

		// The day comes: the mail goes out; a new manager afterwards sends nothing more.
		r.advanceTo(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
		if err := r.outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(r.sent) != 1 {
			t.Fatalf("%d mails sent; want 1", len(r.sent))
		}
		boss2 := r.create(&latchkey.User{UserPrincipalName: "boss2@example.com", Mail: "boss2@example.com"})
		if _, err := r.svc.UpdateUser(ctx, latchkey.CLIActor, ada.ID, UserChanges{Manager: strp(boss2.ID)}); err != nil {
			t.Fatal(err)
		}
		r.noPending(ada, "new manager after the mail was sent")

		bob := r.create(&latchkey.User{UserPrincipalName: "bob@example.com", StartDate: "2026-12-20", ManagerID: boss.ID})
		r.pending(bob)
		if _, err := r.svc.DeleteUser(ctx, latchkey.CLIActor, bob.ID); err != nil {
			t.Fatal(err)
		}
		r.noPending(bob, "deleted")
	})
}

// passIn returns the pass a mail carries.
func passIn(t *testing.T, msg *mail.Message) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  Pass:\s+(\S+)$`).FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no pass in the mail:\n%s", msg.Text)
	}
	return m[1]
}

// TestOnboardingComposer: on the day the manager gets the mail with a pass that works; a
// failed send revokes the pass it made and the retry sends another; nothing of the pass is in
// the outbox; no address means no mail and "needs a pass by hand"; a person turned off by then
// gets nothing.
func TestOnboardingComposer(t *testing.T) {
	onEachStore(t, func(t *testing.T, r *onboardingRig) {
		ctx := context.Background()
		boss := r.create(&latchkey.User{UserPrincipalName: "boss@example.com", DisplayName: "Grace Hopper", Mail: "grace@mail.example.com"})
		ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", DisplayName: "Ada Lovelace", StartDate: "2026-12-01", ManagerID: boss.ID})
		lone := r.create(&latchkey.User{UserPrincipalName: "lone@example.com", StartDate: "2026-12-01"})
		gone := r.create(&latchkey.User{UserPrincipalName: "gone@example.com", StartDate: "2026-12-01", ManagerID: boss.ID})
		// Set up early with a pass given by hand: no pass by mail on the day.
		early := r.create(&latchkey.User{UserPrincipalName: "early@example.com", StartDate: "2026-12-01", ManagerID: boss.ID})
		if err := r.svc.Store.CreatePasskey(ctx, &latchkey.Passkey{UserID: early.ID, CredentialID: []byte("early-credential"),
			PublicKey: []byte{1}, Kind: latchkey.KindDeviceBound}); err != nil {
			t.Fatal(err)
		}
		if st := r.state(lone); st.Stage != OnboardingNeedsPassByHand {
			t.Errorf("no manager: %+v", st)
		}
		if err := r.outbox.RunOnce(ctx); err != nil || len(r.sent) != 0 {
			t.Fatalf("before the day: %d sent, %v", len(r.sent), err)
		}
		if _, err := r.svc.DisableUser(ctx, latchkey.CLIActor, gone.ID); err != nil {
			t.Fatal(err)
		}

		// The day: the mail server refuses at first.
		r.advanceTo(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		r.fail = true
		if err := r.outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Store.FindAccessPassByUser(ctx, ada.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
			t.Fatalf("after a failed send the pass it made is still there: %v", err)
		}
		it := r.pending(ada)
		if it.Attempts != 1 || !strings.Contains(it.LastError, "try again later") {
			t.Errorf("after a failed send: %+v", it)
		}
		if st := r.state(ada); st.Stage != OnboardingWaiting || st.Reason == "" {
			t.Errorf("state after a failed send: %+v", st)
		}
		r.fail = false
		r.advanceTo(it.NotBefore)
		if err := r.outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(r.sent) != 1 {
			t.Fatalf("%d mails sent; want 1 (to the manager of ada only)", len(r.sent))
		}
		msg := r.sent[0]
		if len(msg.To) != 1 || msg.To[0] != "grace@mail.example.com" || !strings.Contains(msg.Text, "Hello Grace Hopper,") ||
			!strings.Contains(msg.Subject, "Ada Lovelace") {
			t.Errorf("mail to %v, %q:\n%s", msg.To, msg.Subject, msg.Text)
		}
		pass := passIn(t, msg)
		ap, err := r.svc.Store.FindAccessPassByUser(ctx, ada.ID)
		if err != nil || ap.CreatedBy != latchkey.SystemActor.Name() || ap.LifetimeMinutes != 480 || ap.OneTime {
			t.Fatalf("the pass made: %+v, %v", ap, err)
		}
		if _, err := r.svc.Signin.SignInWithTAP(ctx, ada.UserPrincipalName, pass, signin.Client{IP: "192.0.2.1"}); err != nil {
			t.Fatalf("the pass in the mail does not work: %v", err)
		}
		for _, it := range r.mail(ada) {
			for k, v := range it.Params {
				if strings.Contains(v, pass) || strings.Contains(k, pass) {
					t.Errorf("the outbox holds the pass in %s", k)
				}
			}
			if strings.Contains(it.LastError, pass) {
				t.Error("the outbox's last error holds the pass")
			}
		}
		if st := r.state(ada); st.Stage != OnboardingPassUsed {
			t.Errorf("after signing in with the pass: %+v", st)
		}
		if st := r.state(lone); st.Stage != OnboardingNeedsPassByHand {
			t.Errorf("no manager, after the day: %+v", st)
		}
		if st := r.state(early); st.Stage != OnboardingPasskeyRegistered {
			t.Errorf("set up early: %+v", st)
		}
		for _, u := range []*latchkey.User{lone, gone, early} {
			if _, err := r.svc.Store.FindAccessPassByUser(ctx, u.ID); !latchkey.IsKind(err, latchkey.ENOTFOUND) {
				t.Errorf("%s got a pass: %v", u.UserPrincipalName, err)
			}
		}
		people, states, err := r.svc.PeopleNeedingPassByHand(ctx, latchkey.CLIActor)
		if err != nil || len(people) != 1 || people[0].ID != lone.ID || states[0].Stage != OnboardingNeedsPassByHand {
			t.Errorf("needing a pass by hand: %v %v %v", people, states, err)
		}
	})
}

// TestOnboardingFollowsManagerAddress: a mail skipped on the day because the manager had no work
// address goes out once the manager is given one.
func TestOnboardingFollowsManagerAddress(t *testing.T) {
	onEachStore(t, func(t *testing.T, r *onboardingRig) {
		ctx := context.Background()
		boss := r.create(&latchkey.User{UserPrincipalName: "boss@example.com"})
		ada := r.create(&latchkey.User{UserPrincipalName: "ada@example.com", StartDate: "2026-12-01", ManagerID: boss.ID})
		r.advanceTo(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		if err := r.outbox.RunOnce(ctx); err != nil || len(r.sent) != 0 {
			t.Fatalf("with no address: %d sent, %v", len(r.sent), err)
		}
		r.noPending(ada, "skipped for want of an address")
		if st := r.state(ada); st.Stage != OnboardingNeedsPassByHand {
			t.Errorf("state %+v", st)
		}
		if _, err := r.svc.UpdateUser(ctx, latchkey.CLIActor, boss.ID, UserChanges{Mail: strp("boss@mail.example.com")}); err != nil {
			t.Fatal(err)
		}
		r.pending(ada)
		if err := r.outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(r.sent) != 1 || r.sent[0].To[0] != "boss@mail.example.com" {
			t.Fatalf("after the manager got an address: %d sent", len(r.sent))
		}
	})
}
