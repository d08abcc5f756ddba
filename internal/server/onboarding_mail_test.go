package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/directory"
	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
)

// keptSender sends through the real SMTP transport and keeps every message it was asked to
// send, also those the server refused: a test reads the pass a failed mail carried.
type keptSender struct {
	mail.Sender
	mu   sync.Mutex
	msgs []*mail.Message
}

func (k *keptSender) Send(ctx context.Context, from string, msg *mail.Message) error {
	k.mu.Lock()
	k.msgs = append(k.msgs, msg)
	k.mu.Unlock()
	return k.Sender.Send(ctx, from, msg)
}

// lockedBuffer is a log sink safe for the outbox's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// onboardingOutbox returns an outbox on h's store and clock that sends over SMTP to a test
// server, with the onboarding composer registered as serve registers it.
func onboardingOutbox(t *testing.T, h *harness) (*mail.Outbox, *mailtest.Server, *keptSender, *lockedBuffer) {
	t.Helper()
	srv := mailtest.Start(t)
	smtp, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	smtp.TLSConfig = srv.ClientTLS()
	kept := &keptSender{Sender: smtp}
	logs := &lockedBuffer{}
	ob := mail.NewOutbox(h.store, mail.Options{Sender: kept, From: "it@example.com", Now: h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ob.Register(directory.MailKindOnboarding, directory.New(h.svc).OnboardingComposer(h.origin))
	return ob, srv, kept, logs
}

var passLine = regexp.MustCompile(`(?m)^  Pass:\s+(\S+)\r?$`)

// passOf returns the pass a mail's text carries.
func passOf(t *testing.T, text string) string {
	t.Helper()
	m := passLine.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no pass in the mail:\n%s", text)
	}
	return m[1]
}

// TestOnboardingMailOverSMTP: a person created through the API with a start date and a manager
// gets their onboarding mail queued for the start date; moving the start date moves it; on the
// day the outbox sends it over SMTP (STARTTLS) to the manager, with a pass that signs the person
// in. A send the mail server refuses revokes the pass it carried, and the retry sends a new one.
// Neither pass is in the outbox or the log.
func TestOnboardingMailOverSMTP(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	admin, _ := h.signedInClient("admin@example.com", true)
	ob, srv, kept, logs := onboardingOutbox(t, h)

	now := h.clock.Now()
	day := now.AddDate(0, 0, 3).Format(time.DateOnly)
	boss := admin.apiCreate(t, map[string]any{"userPrincipalName": "grace@example.com", "displayName": "Grace Hopper",
		"mail": "grace@mail.example.com"})
	ada := admin.apiCreate(t, map[string]any{"userPrincipalName": "ada@example.com", "displayName": "Ada Lovelace",
		"employeeHireDate": day, "managerId": boss.ID})
	items, err := h.store.ListMail(ctx, latchkey.MailFilter{SubjectID: ada.ID})
	if err != nil || len(items) != 1 || items[0].Kind != "onboarding" || items[0].Key != "onboarding:"+ada.ID ||
		items[0].NotBefore.Format(time.RFC3339) != day+"T09:00:00Z" {
		t.Fatalf("queued %+v, %v; want one onboarding mail for %s 09:00 UTC", items, err, day)
	}

	// The start date moves two days later before the day: the mail follows.
	later := now.AddDate(0, 0, 5).Format(time.DateOnly)
	if r := admin.send(http.MethodPatch, "/api/v1/users/"+ada.ID, map[string]any{"employeeHireDate": later + "T00:00:00Z"}); r.status != http.StatusOK {
		t.Fatalf("move start date: %d %s", r.status, r.body)
	}
	items, _ = h.store.ListMail(ctx, latchkey.MailFilter{SubjectID: ada.ID})
	if len(items) != 1 || items[0].State != latchkey.MailPending || items[0].NotBefore.Format(time.RFC3339) != later+"T09:00:00Z" {
		t.Fatalf("after moving the start date: %+v", items)
	}
	dayStart, _ := time.Parse(time.RFC3339, day+"T09:00:00Z")
	h.clock.Advance(dayStart.Sub(h.clock.Now()) + time.Minute)
	if err := ob.RunOnce(ctx); err != nil || len(kept.msgs) != 0 {
		t.Fatalf("on the old start date: %d mails, %v; want none", len(kept.msgs), err)
	}

	// The new day: the mail server refuses the first try.
	laterStart, _ := time.Parse(time.RFC3339, later+"T09:00:00Z")
	h.clock.Advance(laterStart.Sub(h.clock.Now()))
	srv.Fail(451)
	if err := ob.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(kept.msgs) != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("first try: %d composed, %d received; want 1, 0", len(kept.msgs), len(srv.Messages()))
	}
	failedPass := passOf(t, kept.msgs[0].Text)
	if r := h.newClient().signInTAP(ada.UserPrincipalName, failedPass); r.status == http.StatusOK {
		t.Fatal("the pass of the refused mail still signs in")
	}

	// The retry after the back-off sends a new pass.
	h.clock.Advance(ob.Backoff(1))
	if err := ob.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := srv.Wait(t, 1, 5*time.Second)[0]
	if len(got.To) != 1 || got.To[0] != "grace@mail.example.com" || !got.TLS {
		t.Errorf("mail to %v over TLS %v; want grace@mail.example.com over STARTTLS", got.To, got.TLS)
	}
	if got.Subject != "First sign-in for Ada Lovelace at localhost" {
		t.Errorf("subject %q", got.Subject)
	}
	ap, err := h.store.FindAccessPassByUser(ctx, ada.ID)
	if err != nil || ap.LifetimeMinutes != 480 || ap.StartAt.Before(laterStart) || ap.CreatedBy != "system" {
		t.Fatalf("the pass made on the day: %+v, %v; want 8 hours from the day's 09:00 or later, by system", ap, err)
	}
	for _, want := range []string{"Hello Grace Hopper,", "Ada Lovelace starts at localhost", "set up a passkey",
		"Sign in at:  " + h.origin + "/signin/tap?username=ada%40example.com", "It replaces any pass given before",
		"ask your IT team for a new pass", h.origin + "/admin/users/" + ada.ID,
		// The retry came a minute after 09:00: the pass works from then, as the mail says.
		"The pass works on " + laterStart.Format("Monday 2 January 2006") + ", from " + ap.StartAt.Format("15:04") + " until " +
			ap.ExpiresAt().Format("15:04") + " (UTC time)."} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("the mail lacks %q:\n%s", want, got.Text)
		}
	}
	pass := passOf(t, got.Text)
	if pass == failedPass {
		t.Fatal("the retry sent the refused mail's pass again")
	}
	person := h.newClient()
	person.mustSignInTAP(ada.UserPrincipalName, pass)

	all, err := h.store.ListMail(ctx, latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range all {
		row := it.ParamsJSON() + it.LastError + it.Key + it.SubjectID + it.Kind
		for _, p := range []string{pass, failedPass} {
			if strings.Contains(row, p) {
				t.Errorf("outbox item %s holds a pass: %s", it.ID, row)
			}
		}
	}
	if log := logs.String(); strings.Contains(log, pass) || strings.Contains(log, failedPass) || !strings.Contains(log, "mail sent") {
		t.Errorf("the outbox log holds a pass, or says nothing of the sent mail:\n%s", log)
	}
	state, err := directory.New(h.svc).OnboardingState(ctx, latchkey.SystemActor, ada.ID)
	if err != nil || state.Stage != directory.OnboardingPassUsed {
		t.Errorf("onboarding state after the sign-in: %+v, %v", state, err)
	}
}
