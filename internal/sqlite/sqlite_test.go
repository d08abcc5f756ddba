package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/storetest"
)

func newStore(t *testing.T) latchkey.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, newStore)
}

func TestConcurrency(t *testing.T) {
	storetest.RunConcurrencyTests(t, newStore)
}

// TestTwoNodes runs storetest's races between two stores opened on one file.
func TestTwoNodes(t *testing.T) {
	storetest.RunTwoNodeTests(t, func(t *testing.T) (latchkey.Store, latchkey.Store) {
		path := filepath.Join(t.TempDir(), "latchkey.db")
		var nodes [2]latchkey.Store
		for i := range nodes {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			t.Cleanup(func() { s.Close() })
			nodes[i] = s
		}
		return nodes[0], nodes[1]
	})
}

func TestOpenTwice(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s1, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &latchkey.User{UserPrincipalName: "alice@example.com", DisplayName: "Alice", UserType: latchkey.UserTypeMember}
	if err := s1.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	// A second store on the same file, while the first is open, then after it is closed.
	s2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open while open: %v", err)
	}
	if _, err := s2.FindUserByID(ctx, u.ID); err != nil {
		t.Errorf("FindUserByID on the second store: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s3, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s3.Close()
	if n, err := s3.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers after reopening = %d, %v; want 1, nil", n, err)
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	var versions, distinct int
	if err := db.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	// Numbers may have gaps (each branch of work is given its own), so compare with the files.
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(files) || distinct != versions {
		t.Errorf("schema_migrations has %d rows (%d versions) for %d migration files: a migration ran twice or was skipped", versions, distinct, len(files))
	}
}

// TestOpenRefusesNewerSchema: a file a newer program migrated (a version past the newest
// embedded migration recorded) is refused with a message that says so.
func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var newest int
	if err := db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&newest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)", newest+1); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a file at a newer schema succeeded")
	}
	want := fmt.Sprintf("the database is at schema version %d, newer than this program's %d", newest+1, newest)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Open: %v; want it to say %q", err, want)
	}
}

func TestOpenRejectsURIs(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", filepath.Join(t.TempDir(), "x.db?mode=ro")} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// BenchmarkSignIn runs the store calls of a passkey sign-in from about 64 clients at once; any
// error, "database is locked" included, fails it.
func BenchmarkSignIn(b *testing.B) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "latchkey.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const users = 64
	keys := make([]*latchkey.Passkey, users)
	for i := range keys {
		u := &latchkey.User{UserPrincipalName: fmt.Sprintf("user%d@example.com", i), DisplayName: "U", UserType: latchkey.UserTypeMember}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		keys[i] = &latchkey.Passkey{UserID: u.ID, CredentialID: []byte(u.ID), PublicKey: []byte{1}, Kind: latchkey.KindSynced}
		if err := s.CreatePasskey(ctx, keys[i]); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Clients share passkeys, so some lose the counter race, as real retries would.
		key := keys[next.Add(1)%users]
		for pb.Next() {
			now := time.Now()
			c := &latchkey.Challenge{ID: latchkey.NewID(), Ceremony: latchkey.CeremonyAuthentication, Data: []byte(`{}`), ExpiresAt: now.Add(time.Minute)}
			if err := s.CreateChallenge(ctx, c); err != nil {
				b.Fatal(err)
			}
			if _, err := s.TakeChallenge(ctx, c.ID, now); err != nil {
				b.Fatal(err)
			}
			subject, err := s.FindPasskeyForSignIn(ctx, key.CredentialID)
			if err != nil {
				b.Fatal(err)
			}
			p := subject.Passkey
			sess := &latchkey.Session{ID: latchkey.NewID(), UserID: p.UserID, Methods: []string{latchkey.MethodPasskey}, CreatedAt: now, AuthenticatedAt: now, ExpiresAt: now.Add(time.Hour)}
			err = s.CompletePasskeySignIn(ctx, &latchkey.PasskeySignIn{ChallengeID: c.ID, ChallengeExpiresAt: c.ExpiresAt,
				PasskeyID: p.ID, SignCount: p.SignCount + 1, UsedAt: now, Platform: "bench", Session: sess,
				Event: &latchkey.SignInEvent{UserID: p.UserID, Method: latchkey.MethodPasskey, Result: latchkey.SignInSuccess}})
			if err != nil && !errors.Is(err, latchkey.ErrConflict) {
				b.Fatal(err)
			}
			if err != nil {
				continue // lost the counter race: no session
			}
			if _, err := s.FindSession(ctx, sess.ID, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCompletePasskeySignIn runs CompletePasskeySignIn from one client and from about 64;
// see storetest.RunCompletePasskeySignInBenchmarks.
func BenchmarkCompletePasskeySignIn(b *testing.B) {
	storetest.RunCompletePasskeySignInBenchmarks(b, func(b *testing.B) latchkey.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "latchkey.db"))
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// TestAuditTamper tampers with a sealed audit log through a connection of its own.
func TestAuditTamper(t *testing.T) {
	storetest.RunAuditTamperTests(t, func(t *testing.T) (latchkey.Store, func(string, ...any)) {
		path := filepath.Join(t.TempDir(), "latchkey.db")
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatalf("open raw: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return s, func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
				t.Fatalf("tamper %q: %v", q, err)
			}
		}
	})
}
