package postgres_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/storetest"
)

// TestRolesMigrationAssignsHeldRoles opens a database from before migration 0013 whose users
// hold roles in users.roles (the bootstrap admin's globalAdmin): each distinct role becomes a
// global assignment, so that listing and removing work for them.
func TestRolesMigrationAssignsHeldRoles(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	created := time.Date(2025, 3, 14, 9, 26, 53, 123456000, time.UTC)
	for _, q := range []string{"DROP TABLE role_assignments", "DROP TABLE unit_user_members", "DROP TABLE unit_group_members",
		"DROP TABLE administrative_units", "DELETE FROM schema_migrations WHERE version = 13"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const insert = `INSERT INTO users (id, upn, upn_normalized, display_name, given_name, surname, employee_id,
		enabled, user_type, roles, created_at) VALUES ($1, $1, $1, $1, '', '', '', true, 'member', $2, $3)`
	if _, err := conn.Exec(ctx, insert, "admin-id", []string{"globalAdmin", "reportsReader", "globalAdmin"}, created); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, insert, "plain-id", []string{}, created); err != nil {
		t.Fatal(err)
	}
	s, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open before 0013: %v", err)
	}
	defer s.Close()
	storetest.CheckRolesMigration(t, s, "admin-id", created)
	checkMigrations(t, url)
}

// TestUserDeletionCascades deletes a user row: their role assignments and unit membership go
// with it, and the people they managed are left without a manager.
func TestUserDeletionCascades(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := pgtest.URL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := storetest.NewUserDeletion(t, s)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DELETE FROM users WHERE id = $1", d.Gone.ID); err != nil {
		t.Fatal(err)
	}
	storetest.CheckUserDeletion(t, s, d)
}
