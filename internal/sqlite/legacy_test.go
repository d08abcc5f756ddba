package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestLegacyMigrationAfterLaterOne opens a database that recorded migration 0005 but not 0004
// (0004 landed after 0005): Open still applies 0004.
func TestLegacyMigrationAfterLaterOne(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"DROP TABLE legacy_credentials", "DELETE FROM schema_migrations WHERE version = 4"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open with 0004 missing: %v", err)
	}
	defer s.Close()
	u := &latchkey.User{UserPrincipalName: "alice@example.com", UserType: latchkey.UserTypeMember}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, u.ID, "h", time.Now()); err != nil {
		t.Errorf("SetPassword after the late migration: %v", err)
	}
}

// TestLegacyCredentialsGoWithTheUser deletes a user row: its legacy credentials go with it.
func TestLegacyCredentialsGoWithTheUser(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := &latchkey.User{UserPrincipalName: "alice@example.com", UserType: latchkey.UserTypeMember}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, u.ID, "h", time.Now()); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", u.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM legacy_credentials").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d legacy credential rows left after deleting their user", n)
	}
}
