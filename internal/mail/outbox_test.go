package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
	"github.com/latchkey/latchkey/internal/metrics"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// clock is a test clock the outbox reads.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log destination safe for the worker's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

const bodySecret = "PASS-4711-never-stored"

type fixture struct {
	store   *sqlite.Store
	path    string
	server  *mailtest.Server
	clock   *clock
	log     *syncBuffer
	metrics *metrics.Metrics
	outbox  *mail.Outbox
	undos   int
}

func newFixture(t *testing.T, server *mailtest.Server, opts mail.Options) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), "latchkey.db"), server: server,
		clock: &clock{now: time.Date(2027, 1, 4, 8, 0, 0, 0, time.UTC)}, log: &syncBuffer{}, metrics: metrics.New()}
	f.open(t)
	if server != nil && opts.Sender == nil {
		opts.Sender = mustSMTP(t, server)
	}
	opts.From, opts.Now, opts.Metrics = "latchkey@example.com", f.clock.Now, f.metrics
	opts.Logger = slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.outbox = mail.NewOutbox(f.store, opts)
	f.outbox.Register("welcome", f.compose)
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
}

// compose writes a welcome mail to the address in the item's params, with a secret in the
// body as onboarding's pass would be.
func (f *fixture) compose(_ context.Context, it *latchkey.MailItem) (*mail.Message, func(context.Context) error, error) {
	if it.Params["skip"] == "yes" {
		return nil, nil, mail.ErrSkip
	}
	if it.Params["to"] == "" {
		return nil, nil, &mail.Undeliverable{Reason: "Nobody could be told: " + it.Params["name"] + " has no address."}
	}
	return &mail.Message{To: []string{it.Params["to"]}, Subject: "Welcome to Example, " + it.Params["name"],
			Text: "Hello " + it.Params["name"] + ",\n\nyour pass is " + bodySecret + ". Sign in at https://id.example.com/signin/tap.\n"},
		func(context.Context) error { f.undos++; return nil }, nil
}

func (f *fixture) queue(t *testing.T, key string, params map[string]string) {
	t.Helper()
	if err := f.store.EnqueueMail(t.Context(), latchkey.MailItem{Kind: "welcome", Key: key, SubjectID: "u1",
		NotBefore: f.clock.Now(), Params: params}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) items(t *testing.T) []*latchkey.MailItem {
	t.Helper()
	items, err := f.store.ListMail(t.Context(), latchkey.MailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func (f *fixture) run(t *testing.T) {
	t.Helper()
	if err := f.outbox.RunOnce(t.Context()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
}

// count returns latchkey_mails_total{result}.
func (f *fixture) count(result string) float64 {
	families, err := f.metrics.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, fam := range families {
		if fam.GetName() != "latchkey_mails_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestSendOverSTARTTLS: a queued item is composed and sent over a real SMTP exchange with
// STARTTLS and AUTH PLAIN; the person reads the subject, the link and the words; the item is
// sent, and neither the outbox nor the log holds the body or the SMTP password.
func TestSendOverSTARTTLS(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	f.queue(t, "welcome:u1", map[string]string{"to": "manager@example.com", "name": "Ada"})
	f.run(t)

	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails arrived, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Welcome to Example, Ada" || len(m.To) != 1 || m.To[0] != "manager@example.com" || m.From != "latchkey@example.com" {
		t.Errorf("mail: subject %q, to %v, from %q", m.Subject, m.To, m.From)
	}
	for _, w := range []string{"Hello Ada", bodySecret, "https://id.example.com/signin/tap"} {
		if !strings.Contains(m.Text, w) {
			t.Errorf("body lacks %q:\n%s", w, m.Text)
		}
	}
	if !m.TLS || m.AuthUser != mailtest.User {
		t.Errorf("mail came with TLS %v, authenticated as %q; want STARTTLS and %q", m.TLS, m.AuthUser, mailtest.User)
	}
	items := f.items(t)
	if len(items) != 1 || items[0].State != latchkey.MailSent || items[0].SentAt == nil || !items[0].SentAt.Equal(f.clock.Now()) {
		t.Fatalf("after sending: %+v", items[0])
	}
	for _, v := range items[0].Params {
		if strings.Contains(v, bodySecret) {
			t.Error("the outbox item holds the body's secret")
		}
	}
	if log := f.log.String(); strings.Contains(log, bodySecret) || strings.Contains(log, mailtest.Password) || strings.Contains(log, "Hello Ada") {
		t.Errorf("the log holds the body or the password:\n%s", log)
	} else if !strings.Contains(log, "mail sent") {
		t.Errorf("the log does not say the mail was sent:\n%s", log)
	}
	if n := f.count(metrics.MailSent); n != 1 {
		t.Errorf("sent counter = %v, want 1", n)
	}
	f.run(t) // nothing left to send
	if n := srv.Attempts(); n != 1 {
		t.Errorf("a second run sent again: %d attempts", n)
	}
}

// TestRetryWithBackoff: a server that refuses (4xx, then 5xx) makes the outbox undo what the
// composer made and retry after 1, then 2 minutes; not before; then the mail goes out.
func TestRetryWithBackoff(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	srv.Fail(451, 554)
	f.queue(t, "k", map[string]string{"to": "a@example.com", "name": "Ada"})
	start := f.clock.Now()

	f.run(t)
	it := f.items(t)[0]
	if it.State != latchkey.MailPending || it.Attempts != 1 || !it.NotBefore.Equal(start.Add(time.Minute)) {
		t.Fatalf("after a 451: %+v, want pending, 1 attempt, retry in a minute", it)
	}
	if !strings.Contains(it.LastError, "451") || strings.Contains(it.LastError, mailtest.Password) {
		t.Errorf("LastError = %q, want the server's answer and no password", it.LastError)
	}
	if f.undos != 1 {
		t.Errorf("undo called %d times, want 1", f.undos)
	}
	f.clock.Add(59 * time.Second)
	f.run(t)
	if n := srv.Attempts(); n != 1 {
		t.Fatalf("retried before the back-off ended: %d attempts", n)
	}
	f.clock.Add(time.Second)
	f.run(t) // refused with 554
	it = f.items(t)[0]
	if it.Attempts != 2 || !it.NotBefore.Equal(f.clock.Now().Add(2*time.Minute)) || f.undos != 2 {
		t.Fatalf("after a 554: %+v, %d undos; want 2 attempts, retry in two minutes, 2 undos", it, f.undos)
	}
	f.clock.Add(2 * time.Minute)
	f.run(t)
	if msgs := srv.Messages(); len(msgs) != 1 {
		t.Fatalf("after the back-off: %d mails", len(msgs))
	}
	if it := f.items(t)[0]; it.State != latchkey.MailSent || f.undos != 2 {
		t.Errorf("after the third attempt: state %s, %d undos", it.State, f.undos)
	}
	if r, s := f.count(metrics.MailRetried), f.count(metrics.MailSent); r != 2 || s != 1 {
		t.Errorf("counters: retried %v, sent %v; want 2 and 1", r, s)
	}
}

// TestGiveUp: after MaxAttempts failures the item is failed and no longer tried.
func TestGiveUp(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{MaxAttempts: 2})
	srv.Fail(550, 550, 550)
	f.queue(t, "k", map[string]string{"to": "a@example.com"})
	f.run(t)
	f.clock.Add(time.Hour)
	f.run(t)
	it := f.items(t)[0]
	if it.State != latchkey.MailFailed || it.Attempts != 2 || !strings.Contains(it.LastError, "did not take the mail") {
		t.Fatalf("after two refusals: %+v, want failed after 2 attempts", it)
	}
	f.clock.Add(24 * time.Hour)
	f.run(t)
	if n := srv.Attempts(); n != 2 {
		t.Errorf("a failed item was tried again: %d attempts", n)
	}
	if n := f.count(metrics.MailFailed); n != 1 {
		t.Errorf("failed counter = %v, want 1", n)
	}
}

// TestBackoff: 1 minute doubling, at most 6 hours.
func TestBackoff(t *testing.T) {
	o := mail.NewOutbox(nil, mail.Options{})
	for attempts, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute,
		9: 256 * time.Minute, 10: 6 * time.Hour, 30: 6 * time.Hour} {
		if got := o.Backoff(attempts); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

// TestSkipCancels: a composer's ErrSkip cancels the item; nothing is sent.
func TestSkipCancels(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	f.queue(t, "k", map[string]string{"to": "a@example.com", "skip": "yes"})
	f.run(t)
	if it := f.items(t)[0]; it.State != latchkey.MailCancelled || srv.Attempts() != 0 {
		t.Errorf("after ErrSkip: state %s, %d attempts; want cancelled and none", it.State, srv.Attempts())
	}
}

// TestUndeliverableFailsAtOnce: a composer's Undeliverable gives up on the item at once, with
// its reason, so that the admin home lists it; nothing is sent and no retry waits.
func TestUndeliverableFailsAtOnce(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	f.queue(t, "k", map[string]string{"name": "Ada"})
	f.run(t)
	it := f.items(t)[0]
	if it.State != latchkey.MailFailed || it.LastError != "Nobody could be told: Ada has no address." || srv.Attempts() != 0 {
		t.Errorf("after Undeliverable: state %s, last error %q, %d attempts; want failed with the reason and none", it.State, it.LastError, srv.Attempts())
	}
	st, err := f.outbox.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed != 1 || len(st.Problems) != 1 || st.Problems[0].ID != it.ID {
		t.Errorf("status %+v; want the item among the failed mails", st)
	}
}

// TestUnknownKindFails: an item of a kind nobody registered is retried, not sent.
func TestUnknownKindFails(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	if err := f.store.EnqueueMail(t.Context(), latchkey.MailItem{Kind: "nobody", NotBefore: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	f.run(t)
	if it := f.items(t)[0]; it.State != latchkey.MailPending || it.Attempts != 1 || !strings.Contains(it.LastError, "nobody") {
		t.Errorf("an unknown kind: %+v", it)
	}
}

// TestWithoutSMTPItemsWait: without a sender nothing is sent and items wait, pending.
func TestWithoutSMTPItemsWait(t *testing.T) {
	f := newFixture(t, nil, mail.Options{})
	f.queue(t, "k", map[string]string{"to": "a@example.com"})
	f.run(t)
	if f.outbox.Configured() {
		t.Error("an outbox without a sender says it is configured")
	}
	if it := f.items(t)[0]; it.State != latchkey.MailPending || it.Attempts != 0 {
		t.Errorf("without SMTP: %+v, want pending and untried", it)
	}
}

// TestRestart: an item queued before the store is closed is sent after it is opened again.
func TestRestart(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	f.queue(t, "k", map[string]string{"to": "a@example.com", "name": "Ada"})
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	o := mail.NewOutbox(f.store, mail.Options{Sender: mustSMTP(t, srv), From: "latchkey@example.com", Now: f.clock.Now})
	o.Register("welcome", f.compose)
	if err := o.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].Subject != "Welcome to Example, Ada" {
		t.Errorf("after reopening the store: %d mails", len(msgs))
	}
}

// TestRunStopsWithContext: Run sends due mail on its own and returns when its context ends.
func TestRunStopsWithContext(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); f.outbox.Run(ctx) }()
	f.queue(t, "k", map[string]string{"to": "a@example.com", "name": "Ada"})
	srv.Wait(t, 1, 10*time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func mustSMTP(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	s, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s.TLSConfig = srv.ClientTLS()
	return s
}

// TestTwoWorkersSendEachMailOnce: two outboxes on two stores opened on one database, as two
// nodes run them, send at once; every mail arrives exactly once.
func TestTwoWorkersSendEachMailOnce(t *testing.T) {
	srv := mailtest.Start(t)
	f := newFixture(t, srv, mail.Options{})
	const n = 30
	for i := range n {
		f.queue(t, fmt.Sprint("k", i), map[string]string{"to": fmt.Sprintf("p%d@example.com", i), "name": "P"})
	}
	other, err := sqlite.Open(t.Context(), f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	second := mail.NewOutbox(other, mail.Options{Sender: mustSMTP(t, srv), From: "latchkey@example.com", Now: f.clock.Now})
	second.Register("welcome", f.compose)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, o := range []*mail.Outbox{f.outbox, second} {
		wg.Go(func() { errs[i] = o.RunOnce(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	for _, m := range srv.Messages() {
		seen[m.To[0]]++
	}
	for i := range n {
		if to := fmt.Sprintf("p%d@example.com", i); seen[to] != 1 {
			t.Errorf("%s got %d mails, want 1", to, seen[to])
		}
	}
	if a := srv.Attempts(); a != n {
		t.Errorf("%d mails reached the server, want %d", a, n)
	}
}
