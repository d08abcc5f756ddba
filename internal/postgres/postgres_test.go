package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newStore opens a store on a fresh database, closed when the test ends.
func newStore(t *testing.T) latchkey.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.URL(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.RunTests(t, newStore)
}

func TestStoreConcurrency(t *testing.T) {
	t.Parallel()
	storetest.RunConcurrencyTests(t, newStore)
}

// TestTwoNodes runs storetest's races between two stores (two pools) on one database.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	storetest.RunTwoNodeTests(t, func(t *testing.T) (latchkey.Store, latchkey.Store) {
		url := pgtest.URL(t)
		var nodes [2]latchkey.Store
		for i := range nodes {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			t.Cleanup(func() { s.Close() })
			nodes[i] = s
		}
		return nodes[0], nodes[1]
	})
}

// TestOpenRace opens one fresh database from several nodes at once: the advisory lock must let
// every Open succeed and apply each migration once.
func TestOpenRace(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const nodes = 8
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(t.Context(), url)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	checkMigrations(t, url)
}

// TestOpenIdempotent opens a database again after it was migrated and used: the data stays and
// no migration is applied twice.
func TestOpenIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &latchkey.User{UserPrincipalName: "alice@example.com", DisplayName: "Alice", UserType: latchkey.UserTypeMember}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	s.Close()

	for range 2 {
		s, err = postgres.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open again: %v", err)
		}
		if _, err := s.FindUserByID(ctx, u.ID); err != nil {
			t.Errorf("FindUserByID after reopening: %v", err)
		}
		s.Close()
	}
	checkMigrations(t, url)
}

// TestOpenRefusesNewerSchema: a database a newer program migrated (a version past the newest
// embedded migration recorded) is refused with a message that says so, and left as it was.
func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var newest, rows int
	if err := conn.QueryRow(ctx, `SELECT max(version), count(*) FROM schema_migrations`).Scan(&newest, &rows); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future.sql')`, newest+1); err != nil {
		t.Fatal(err)
	}

	s, err = postgres.Open(ctx, url)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database at a newer schema succeeded")
	}
	want := fmt.Sprintf("the database is at schema version %d, newer than this program's %d", newest+1, newest)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Open: %v; want it to say %q", err, want)
	}
	var after int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != rows+1 {
		t.Errorf("%d migrations recorded after the refused Open, want %d", after, rows+1)
	}
}

// TestReplaceAccessPassRace replaces one user's pass from many goroutines at once: each call
// succeeds and exactly one pass, one of theirs, remains. (Not yet in storetest, which the SQLite
// store runs too.)
func TestReplaceAccessPassRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	u := &latchkey.User{UserPrincipalName: "alice@example.com", DisplayName: "Alice", UserType: latchkey.UserTypeMember}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}

	const racers = 20
	ids := make(map[string]bool)
	passes := make([]*latchkey.AccessPass, racers)
	for i := range passes {
		passes[i] = &latchkey.AccessPass{ID: latchkey.NewID(), UserID: u.ID, Hash: "h", StartAt: time.Now(), LifetimeMinutes: 60}
		ids[passes[i].ID] = true
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, p := range passes {
		wg.Go(func() {
			<-start
			if err := s.ReplaceAccessPass(ctx, p); err != nil {
				t.Errorf("ReplaceAccessPass: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()

	got, err := s.FindAccessPassByUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("FindAccessPassByUser: %v", err)
	}
	if !ids[got.ID] {
		t.Errorf("FindAccessPassByUser = pass %s, which no racer stored", got.ID)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM access_passes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d passes after racing replacements, want 1", n)
	}
}

// checkMigrations reports unless the database records each migration exactly once.
func checkMigrations(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if rows == 0 || rows != distinct {
		t.Errorf("schema_migrations has %d rows for %d versions, want each version once", rows, distinct)
	}
}

// BenchmarkCompletePasskeySignIn runs CompletePasskeySignIn from one client and from about 64;
// see storetest.RunCompletePasskeySignInBenchmarks.
func BenchmarkCompletePasskeySignIn(b *testing.B) {
	storetest.RunCompletePasskeySignInBenchmarks(b, func(b *testing.B) latchkey.Store {
		s, err := postgres.Open(b.Context(), pgtest.URL(b))
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// TestAuditTamper tampers with a sealed audit log through a connection of its own.
func TestAuditTamper(t *testing.T) {
	t.Parallel()
	storetest.RunAuditTamperTests(t, func(t *testing.T) (latchkey.Store, func(string, ...any)) {
		url := pgtest.URL(t)
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		conn, err := pgx.Connect(t.Context(), url)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return s, func(q string, args ...any) {
			t.Helper()
			for i := 1; strings.Contains(q, "?"); i++ {
				q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
			}
			if _, err := conn.Exec(t.Context(), q, args...); err != nil {
				t.Fatalf("tamper %q: %v", q, err)
			}
		}
	})
}
