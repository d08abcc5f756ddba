package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/mailtest"
	"github.com/latchkey/latchkey/internal/recovery"
)

// Subjects of the notification mails, as the recovery package writes them.
const (
	recoveryMailSubject       = "Security notice: a pass to get back into "
	passkeyAddedMailSubject   = "A passkey was added to your "
	passkeyRemovedMailSubject = "A passkey was removed from your "
)

// startServerWithMail is startServer with mail: `serve --smtp` towards a real SMTP server
// (STARTTLS, AUTH PLAIN) started for the test, the outbox looking every 20 ms. Recovery tests
// use it with waitRecoveryMail.
func startServerWithMail(t *testing.T) (*testServer, *mailtest.Server) {
	t.Helper()
	srv := mailtest.Start(t)
	t.Setenv("LATCHKEY_SMTP", srv.URL())
	out, logs := &syncBuffer{}, &syncBuffer{}
	s := &Serve{Stdout: out, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		mailEvery: 20 * time.Millisecond}
	if err := s.ParseFlags([]string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--mail-from", "latchkey@example.com"}); err != nil {
		t.Fatalf("parse serve flags: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	m := bootstrapPassRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no bootstrap pass in the serve output %q", out.String())
	}
	return &testServer{Serve: s, URL: s.PublicURL, Pass: m[1], Stdout: out}, srv
}

// waitMail returns the first mail to addr whose subject starts with subject, failing the test
// when none arrives within 15 seconds.
func waitMail(t *testing.T, srv *mailtest.Server, addr, subject string) mailtest.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, m := range srv.Messages() {
			if strings.HasPrefix(m.Subject, subject) && containsFold(m.To, addr) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range srv.Messages() {
				got = append(got, strings.Join(m.To, ",")+": "+m.Subject)
			}
			t.Fatalf("no mail %q… to %s arrived; got %q", subject, addr, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRecoveryMail returns the recovery mail of the person u (the one message that goes to
// each of their addresses and their manager), failing the test when none arrives within 15
// seconds, or when the outbox's recovery item for u holds a parameter that is not one Notify
// writes. u needs an address on record (Mail or PersonalMail). store is the server's (s.Store).
func waitRecoveryMail(t *testing.T, store latchkey.MailStore, srv *mailtest.Server, u *latchkey.User) mailtest.Message {
	t.Helper()
	addr := u.Mail
	if addr == "" {
		addr = u.PersonalMail
	}
	if addr == "" {
		t.Fatalf("%s has no address to receive the recovery mail", u.UserPrincipalName)
	}
	m := waitMail(t, srv, addr, recoveryMailSubject+u.DisplayName)
	items, err := store.ListMail(context.Background(), latchkey.MailFilter{Kind: recovery.MailKindRecovery, SubjectID: u.ID})
	if err != nil || len(items) == 0 {
		t.Fatalf("no recovery item for %s in the outbox: %v", u.UserPrincipalName, err)
	}
	for _, it := range items {
		for k := range it.Params {
			if k != "path" && k != "by" && k != "at" {
				t.Errorf("the recovery item of %s holds the parameter %q", u.UserPrincipalName, k)
			}
		}
	}
	return m
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
