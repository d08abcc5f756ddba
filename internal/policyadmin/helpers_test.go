package policyadmin

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/passkey"
	"github.com/latchkey/latchkey/internal/signin"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// clock is an injectable time source for the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newService(t testing.TB) (*Service, *clock) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	wa, err := passkey.NewWebAuthn("http://localhost:8080", "Latchkey test")
	if err != nil {
		t.Fatal(err)
	}
	sig := signin.New(st, wa, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	sig.Now = c.Now
	return New(sig), c
}

func addUser(t testing.TB, svc *Service, upn string) *latchkey.User {
	t.Helper()
	u := &latchkey.User{UserPrincipalName: upn, Enabled: true}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *latchkey.Error
	if le, ok := err.(*latchkey.Error); ok {
		e = le
	}
	if e == nil || e.Message == "" || e.Detail == "" {
		t.Fatalf("refusal %v lacks a message or detail", err)
	}
}
