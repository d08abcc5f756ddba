package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/storetest"
)

// TestRolesMigrationAssignsHeldRoles opens a database from before migration 0013 whose users
// hold roles in users.roles (the bootstrap admin's globalAdmin): each distinct role becomes a
// global assignment, so that listing and removing work for them.
func TestRolesMigrationAssignsHeldRoles(t *testing.T) {
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
	created := time.Date(2025, 3, 14, 9, 26, 53, 123456000, time.UTC)
	for _, q := range []string{"DROP TABLE role_assignments", "DROP TABLE unit_user_members", "DROP TABLE unit_group_members",
		"DROP TABLE administrative_units", "DELETE FROM schema_migrations WHERE version = 13",
		`INSERT INTO users (id, upn, upn_norm, display_name, given_name, surname, employee_id, enabled, user_type, roles, created_at)
			VALUES ('admin-id', 'admin', 'admin', 'Admin', '', '', '', 1, 'member', '["globalAdmin","reportsReader","globalAdmin"]', ` +
			itoa(created.UnixMicro()) + `)`,
		`INSERT INTO users (id, upn, upn_norm, display_name, given_name, surname, employee_id, enabled, user_type, roles, created_at)
			VALUES ('plain-id', 'plain', 'plain', 'Plain', '', '', '', 1, 'member', '[]', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open before 0013: %v", err)
	}
	defer s.Close()
	storetest.CheckRolesMigration(t, s, "admin-id", created)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestUserDeletionCascades deletes a user row: their role assignments and unit membership go
// with it, and the people they managed are left without a manager.
func TestUserDeletionCascades(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := storetest.NewUserDeletion(t, s)
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", d.Gone.ID); err != nil {
		t.Fatal(err)
	}
	storetest.CheckUserDeletion(t, s, d)
}
