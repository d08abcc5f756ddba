package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/mailtest"
)

// The tests' mail servers (internal/mailtest) share one self-signed certificate; Latchkey
// trusts it as it would a real server's.
func init() { smtpTLS = mailtest.ClientTLS() }

// TestMailTestCLI: `latchkey mail test ADDRESS` sends one plain mail over STARTTLS with the
// server named by --smtp or LATCHKEY_SMTP, says so in plain words, and never prints the password.
func TestMailTestCLI(t *testing.T) {
	srv := mailtest.Start(t)
	out, errOut, code := run(t, "mail", "test", "ada@example.com", "--smtp", srv.URL(), "--mail-from", "latchkey@example.com")
	if code != 0 {
		t.Fatalf("mail test: exit %d: %s", code, errOut)
	}
	for _, w := range []string{"Sending a test mail from latchkey@example.com to ada@example.com", "STARTTLS required", "The mail server took the mail"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out+errOut, mailtest.Password) {
		t.Errorf("the output shows the SMTP password:\n%s%s", out, errOut)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Subject != "Latchkey test mail" || msgs[0].To[0] != "ada@example.com" || !msgs[0].TLS ||
		msgs[0].AuthUser != mailtest.User || !strings.Contains(msgs[0].Text, "Latchkey's mail settings work") {
		t.Fatalf("received: %+v", msgs)
	}

	// From the environment, as serve takes it.
	t.Setenv("LATCHKEY_SMTP", srv.URL())
	t.Setenv("LATCHKEY_MAIL_FROM", "noreply@example.com")
	if _, errOut, code := run(t, "mail", "test", "bob@example.com"); code != 0 {
		t.Fatalf("mail test from the environment: exit %d: %s", code, errOut)
	}
	if msgs := srv.Messages(); len(msgs) != 2 || msgs[1].From != "noreply@example.com" {
		t.Errorf("from the environment: %d mails", len(msgs))
	}

	// A server that refuses: exit 1 and its answer, no password.
	srv.Fail(550)
	_, errOut, code = run(t, "mail", "test", "bob@example.com")
	if code != 1 || !strings.Contains(errOut, "did not take the test mail") || !strings.Contains(errOut, "550") ||
		strings.Contains(errOut, mailtest.Password) {
		t.Errorf("a refusing server: exit %d, %q", code, errOut)
	}
}

// TestMailTestCLIUsage: a missing server, address or sender is a usage error, and a bad URL
// is refused without repeating its password.
func TestMailTestCLIUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mail", "test", "ada@example.com"}, "--smtp or LATCHKEY_SMTP"},
		{[]string{"mail", "test"}, "one ADDRESS"},
		{[]string{"mail", "test", "not-an-address", "--smtp", "smtp://mail.example.com", "--mail-from", "a@example.com"}, "not a mail address"},
		{[]string{"mail", "test", "ada@example.com", "--smtp", "smtp://mail.example.com"}, "needs --mail-from"},
		{[]string{"mail", "test", "ada@example.com", "--smtp", "ftp://u:hunter2@mail.example.com", "--mail-from", "a@example.com"}, "smtp:// or smtps://"},
		{[]string{"mail", "send"}, "expected test ADDRESS"},
	} {
		_, errOut, code := run(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "hunter2") {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// startMailServe runs serve on a fresh data folder with args after --data and --listen, its
// log in logs; the outbox looks for due mail every 20 ms.
func startMailServe(t *testing.T, data string, composers map[string]mail.Composer, args ...string) (*Serve, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s := &Serve{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Composers: composers,
		mailEvery: 20 * time.Millisecond}
	if err := s.ParseFlags(append([]string{"--data", data, "--listen", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatalf("parse serve flags: %v", err)
	}
	if err := s.Run(t.Context()); err != nil {
		t.Fatalf("serve: %v", err)
	}
	return s, logs
}

const welcomeSecret = "PASS-9876-only-in-the-mail"

func welcomeComposer(_ context.Context, it *latchkey.MailItem) (*mail.Message, func(context.Context) error, error) {
	return &mail.Message{To: []string{it.Params["to"]}, Subject: "Welcome",
		Text: "Your pass is " + welcomeSecret + ".\n"}, nil, nil
}

// TestServeSendsMail: serve with the mail server in LATCHKEY_SMTP sends what is queued, over
// STARTTLS, from --mail-from; a mail queued while mail was not set up survives the restart and
// goes out after it; the log names the server without its password and holds no message.
func TestServeSendsMail(t *testing.T) {
	srv := mailtest.Start(t)
	data := t.TempDir()
	composers := map[string]mail.Composer{"welcome": welcomeComposer}

	// Not set up: the mail waits.
	s, logs := startMailServe(t, data, composers)
	if err := s.Store.EnqueueMail(t.Context(), latchkey.MailItem{Kind: "welcome", Params: map[string]string{"to": "first@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := srv.Attempts(); n != 0 {
		t.Fatalf("without --smtp, %d mails reached the server", n)
	}
	if !strings.Contains(logs.String(), "mail is not set up") {
		t.Errorf("the log does not say mail is not set up:\n%s", logs)
	}

	// Set up, after a restart: the waiting mail and a new one go out.
	t.Setenv("LATCHKEY_SMTP", srv.URL())
	s, logs = startMailServe(t, data, composers, "--mail-from", "latchkey@example.com")
	if err := s.Store.EnqueueMail(t.Context(), latchkey.MailItem{Kind: "welcome", Params: map[string]string{"to": "second@example.com"}}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Wait(t, 2, 10*time.Second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	to := map[string]bool{}
	for _, m := range msgs {
		to[m.To[0]] = true
		if m.From != "latchkey@example.com" || !m.TLS || m.AuthUser != mailtest.User || !strings.Contains(m.Text, welcomeSecret) {
			t.Errorf("mail: %+v", m)
		}
	}
	if !to["first@example.com"] || !to["second@example.com"] {
		t.Errorf("mails went to %v, want first@ (queued before the restart) and second@", to)
	}
	log := logs.String()
	if strings.Contains(log, mailtest.Password) || strings.Contains(log, welcomeSecret) {
		t.Errorf("the log holds the password or the message:\n%s", log)
	}
	if !strings.Contains(log, "smtp://"+mailtest.User+"@"+srv.Addr) || !strings.Contains(log, "mail sent") {
		t.Errorf("the log does not name the server or the sent mails:\n%s", log)
	}
	if strings.Contains(log, "command line") {
		t.Errorf("a warning about the command line, with the password in the environment:\n%s", log)
	}
}

// TestServeSMTPFlags: --smtp with a password on the command line works but warns; a bad
// --smtp or a missing --mail-from stops serve, before it makes anything, with a usage error
// that hides the password.
func TestServeSMTPFlags(t *testing.T) {
	srv := mailtest.Start(t)
	s, logs := startMailServe(t, t.TempDir(), nil, "--smtp", srv.URL(), "--mail-from", "latchkey@example.com")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if log := logs.String(); !strings.Contains(log, "LATCHKEY_SMTP instead") || strings.Contains(log, mailtest.Password) {
		t.Errorf("--smtp with a password on the command line: log\n%s", log)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp", "smtp://u:hunter2@mail.example.com"}, "needs --mail-from"},
		{[]string{"--smtp", "smtp://u:hunter2@mail.example.com:0x", "--mail-from", "a@example.com"}, "not a URL"},
		{[]string{"--smtp", "smtp://u:hunter2@mail.example.com", "--mail-from", "Latchkey"}, "not a mail address"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		s := &Serve{}
		if err := s.ParseFlags(append([]string{"--data", data, "--listen", "127.0.0.1:0"}, tc.args...)); err != nil {
			t.Fatalf("parse %v: %v", tc.args, err)
		}
		err := s.Run(t.Context())
		var ue *usageErr
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("serve %v: %v, want a usage error with %q and no password", tc.args, err, tc.want)
		}
		if err == nil {
			s.Close()
		}
		if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("serve %v made the data folder before refusing: %v", tc.args, err)
		}
	}
}

// TestServeOutboxUsesServiceClock: a mail due tomorrow on the service clock is not sent today;
// once the clock moves to tomorrow, RunOnce sends it.
func TestServeOutboxUsesServiceClock(t *testing.T) {
	srv := mailtest.Start(t)
	var now atomic.Pointer[time.Time]
	today := time.Now()
	now.Store(&today)
	logs := &syncBuffer{}
	s := &Serve{Logger: slog.New(slog.NewTextHandler(logs, nil)), Clock: func() time.Time { return *now.Load() },
		Composers: map[string]mail.Composer{"welcome": welcomeComposer}}
	if err := s.ParseFlags([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--smtp", srv.URL(), "--mail-from", "latchkey@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tomorrow := today.Add(24 * time.Hour)
	if err := s.Store.EnqueueMail(t.Context(), latchkey.MailItem{Kind: "welcome", NotBefore: tomorrow,
		Params: map[string]string{"to": "later@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Outbox.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := srv.Attempts(); n != 0 {
		t.Fatalf("a mail due tomorrow was sent today (%d)", n)
	}
	now.Store(&tomorrow)
	if err := s.Outbox.RunOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].To[0] != "later@example.com" {
		t.Errorf("after the clock moved: %d mails", len(msgs))
	}
}
