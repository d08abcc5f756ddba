package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// CheckRolesMigration checks the global assignments that migration 0013 made of the roles held
// in users.roles: a store's test writes, before 0013 runs, a user userID created at created with
// roles ["globalAdmin","reportsReader","globalAdmin"] and any users without roles, and then
// opens the store. Each distinct role must be one assignment with a fresh version 4 UUID, made
// when the user was, and removable.
func CheckRolesMigration(t *testing.T, s latchkey.Store, userID string, created time.Time) {
	t.Helper()
	ctx := t.Context()
	got, err := s.ListRoleAssignments(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("assignments after the migration = %+v, want two", got)
	}
	for i, role := range []string{latchkey.RoleGlobalAdmin, latchkey.RoleReportsReader} {
		a := got[i]
		if a.UserID != userID || a.Role != role || a.UnitID != "" || !a.CreatedAt.Equal(created) {
			t.Errorf("assignment %d = %+v, want a global %s of %s made %v", i, a, role, userID, created)
		}
		if id, err := uuid.Parse(a.ID); err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 || id.String() != a.ID {
			t.Errorf("assignment %d has id %q, want a version 4 UUID as latchkey.NewID makes", i, a.ID)
		}
	}
	if got[0].ID == got[1].ID {
		t.Errorf("both assignments have id %s", got[0].ID)
	}
	if err := s.RemoveRole(ctx, userID, latchkey.RoleGlobalAdmin, ""); err != nil {
		t.Fatalf("RemoveRole of a migrated assignment: %v", err)
	}
	u, err := s.FindUserByID(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Roles) != 1 || u.Roles[0] != latchkey.RoleReportsReader {
		t.Errorf("Roles after removing globalAdmin = %v, want [reportsReader]", u.Roles)
	}
}
