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
	// (reportsReader: globalAdmin stays, the only admin being guarded against losing it.)
	if err := s.RemoveRole(ctx, userID, latchkey.RoleReportsReader, ""); err != nil {
		t.Fatalf("RemoveRole of a migrated assignment: %v", err)
	}
	u, err := s.FindUserByID(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Roles) != 1 || u.Roles[0] != latchkey.RoleGlobalAdmin {
		t.Errorf("Roles after removing reportsReader = %v, want [globalAdmin]", u.Roles)
	}
}

// UserDeletion is what NewUserDeletion sets up for a store's test to delete Gone's row the
// store's own way (there is no DeleteUser yet) and CheckUserDeletion to check after.
type UserDeletion struct {
	Gone, Stays *latchkey.User
	Unit        *latchkey.AdministrativeUnit
}

// NewUserDeletion stores Gone, who holds a global and a scoped role and is in Unit, and Stays,
// whose manager is Gone and who holds a role and is in Unit too.
func NewUserDeletion(t *testing.T, s latchkey.Store) *UserDeletion {
	t.Helper()
	d := &UserDeletion{Gone: mustCreateUser(t, s, "gone@example.com"), Unit: mustCreateUnit(t, s, "Finance")}
	d.Stays = newUser("stays@example.com")
	d.Stays.ManagerID = d.Gone.ID
	must(t, "CreateUser", s.CreateUser(t.Context(), d.Stays))
	mustAssign(t, s, d.Gone.ID, latchkey.RoleGlobalAdmin, "")
	mustAssign(t, s, d.Gone.ID, latchkey.RoleAuthenticationAdmin, d.Unit.ID)
	mustAssign(t, s, d.Stays.ID, latchkey.RoleReportsReader, "")
	for _, u := range []*latchkey.User{d.Gone, d.Stays} {
		must(t, "AddUnitMember", s.AddUnitMember(t.Context(), latchkey.UnitMember{UnitID: d.Unit.ID, Kind: latchkey.UnitMemberUser, MemberID: u.ID}))
	}
	return d
}

// CheckUserDeletion checks, after Gone's row was deleted, that Gone's assignments and unit
// membership went with it and that Stays kept everything but the manager.
func CheckUserDeletion(t *testing.T, s latchkey.Store, d *UserDeletion) {
	t.Helper()
	ctx := t.Context()
	u, err := s.FindUserByID(ctx, d.Stays.ID)
	must(t, "FindUserByID", err)
	if u.ManagerID != "" {
		t.Errorf("ManagerID after the manager was deleted = %q, want \"\"", u.ManagerID)
	}
	got, err := s.ListRoleAssignments(ctx, "")
	must(t, "ListRoleAssignments", err)
	if len(got) != 1 || got[0].UserID != d.Stays.ID {
		t.Errorf("assignments after deleting a user = %+v, want only the other user's", got)
	}
	members, err := s.ListUnitMembers(ctx, d.Unit.ID)
	must(t, "ListUnitMembers", err)
	diff(t, "unit members after deleting a user", members,
		[]latchkey.UnitMember{{UnitID: d.Unit.ID, Kind: latchkey.UnitMemberUser, MemberID: d.Stays.ID}})
}
