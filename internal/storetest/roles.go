package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var roleTests = []test{
	{"AssignRole/RoundTrip", testAssignRoleRoundTrip},
	{"AssignRole/AssignsIDAndCreatedAt", testAssignRoleAssigns},
	{"AssignRole/DuplicateConflicts", testAssignRoleDuplicate},
	{"AssignRole/UnknownUserOrUnit", testAssignRoleNotFound},
	{"AssignRole/RolesInOrder", testAssignRoleOrder},
	{"RemoveRole/RecomputesRoles", testRemoveRole},
	{"RemoveRole/NotFound", testRemoveRoleNotFound},
	{"ListRoleAssignments/Order", testListRoleAssignments},
	{"CreateUser/RolesAreGlobalAssignments", testCreateUserAssignsRoles},
	{"UpdateUser/RolesFollowAssignments", testUpdateUserRoles},
	{"Manager/RoundTrip", testManagerRoundTrip},
	{"Manager/Unknown", testManagerUnknown},
	{"Manager/DirectReports", testDirectReports},
	{"RoleStore/TextNoColumnHolds", testRoleLookUpsOfUnstorableText},
}

var roleConcurrencyTests = []test{
	{"AssignRole/SameRole", testRaceAssignSameRole},
	{"AssignRole/ManyRoles", testRaceAssignManyRoles},
}

// mustAssign assigns role to the user at unitID ("" for global).
func mustAssign(t *testing.T, s latchkey.Store, userID, role, unitID string) *latchkey.RoleAssignment {
	t.Helper()
	a := &latchkey.RoleAssignment{ID: latchkey.NewID(), UserID: userID, Role: role, UnitID: unitID, CreatedAt: t0}
	must(t, "AssignRole "+role, s.AssignRole(t.Context(), a))
	return a
}

// checkRoles reports unless the stored user's Roles are want, in that order.
func checkRoles(t *testing.T, s latchkey.Store, what, userID string, want ...string) {
	t.Helper()
	u, err := s.FindUserByID(t.Context(), userID)
	must(t, "FindUserByID", err)
	diff(t, what+": User.Roles", u.Roles, want)
	if u.Roles == nil {
		t.Errorf("%s: User.Roles is nil, want an empty slice", what)
	}
}

// listAssignments returns the stored assignments of userID ("" for everyone).
func listAssignments(t *testing.T, s latchkey.Store, userID string) []*latchkey.RoleAssignment {
	t.Helper()
	got, err := s.ListRoleAssignments(t.Context(), userID)
	must(t, "ListRoleAssignments", err)
	if got == nil {
		t.Errorf("ListRoleAssignments(%q) = nil, want a slice", userID)
	}
	return got
}

func testAssignRoleRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	unit := mustCreateUnit(t, s, "Finance")
	global := &latchkey.RoleAssignment{ID: latchkey.NewID(), UserID: u.ID, Role: latchkey.RoleReportsReader, CreatedAt: t0}
	scoped := &latchkey.RoleAssignment{ID: latchkey.NewID(), UserID: u.ID, Role: latchkey.RoleAuthenticationAdmin,
		UnitID: unit.ID, CreatedAt: t0.Add(time.Hour)}
	for _, a := range []*latchkey.RoleAssignment{global, scoped} {
		want := *a
		must(t, "AssignRole", s.AssignRole(ctx, a))
		unchanged(t, "AssignRole argument", a, &want)
	}
	got := listAssignments(t, s, u.ID)
	// Ordered by role: authenticationAdmin before reportsReader.
	diff(t, "ListRoleAssignments", got, []*latchkey.RoleAssignment{scoped, global})
	checkRoles(t, s, "after two assignments", u.ID, latchkey.RoleAuthenticationAdmin, latchkey.RoleReportsReader)
}

func testAssignRoleAssigns(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	a := &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleReportsReader}
	before := time.Now()
	must(t, "AssignRole", s.AssignRole(t.Context(), a))
	after := time.Now()
	checkAssigned(t, "AssignRole", a.ID, a.CreatedAt, before, after)
	diff(t, "ListRoleAssignments", listAssignments(t, s, u.ID), []*latchkey.RoleAssignment{a})
}

func testAssignRoleDuplicate(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	finance, sales := mustCreateUnit(t, s, "Finance"), mustCreateUnit(t, s, "Sales")
	first := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, "")
	err := s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleAuthenticationAdmin})
	wantErr(t, "AssignRole global twice", err, latchkey.ErrConflict)
	inFinance := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, finance.ID)
	err = s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleAuthenticationAdmin, UnitID: finance.ID})
	wantErr(t, "AssignRole in one unit twice", err, latchkey.ErrConflict)
	inSales := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, sales.ID)
	err = s.AssignRole(ctx, &latchkey.RoleAssignment{ID: first.ID, UserID: u.ID, Role: latchkey.RoleReportsReader})
	wantErr(t, "AssignRole with a taken id", err, latchkey.ErrConflict)

	want := []*latchkey.RoleAssignment{first, inFinance, inSales}
	if finance.ID > sales.ID {
		want = []*latchkey.RoleAssignment{first, inSales, inFinance}
	}
	diff(t, "ListRoleAssignments after refused duplicates", listAssignments(t, s, u.ID), want)
	// Three assignments of one role: the role once.
	checkRoles(t, s, "one role at three scopes", u.ID, latchkey.RoleAuthenticationAdmin)
}

func testAssignRoleNotFound(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	err := s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: latchkey.NewID(), Role: latchkey.RoleReportsReader})
	wantErr(t, "AssignRole to an unknown user", err, latchkey.ErrNotFound)
	err = s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleReportsReader, UnitID: latchkey.NewID()})
	wantErr(t, "AssignRole in an unknown unit", err, latchkey.ErrNotFound)
	if got := listAssignments(t, s, ""); len(got) != 0 {
		t.Errorf("ListRoleAssignments after refused assignments = %d assignments, want none", len(got))
	}
	checkRoles(t, s, "after refused assignments", u.ID)
}

func testAssignRoleOrder(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	for _, r := range []string{latchkey.RoleReportsReader, latchkey.RoleAuthenticationAdmin, latchkey.RoleGlobalAdmin} {
		mustAssign(t, s, u.ID, r, "")
	}
	checkRoles(t, s, "most powerful first", u.ID, latchkey.RoleGlobalAdmin, latchkey.RoleAuthenticationAdmin, latchkey.RoleReportsReader)
}

func testRemoveRole(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	bob := mustCreateUser(t, s, "bob@example.com")
	unit := mustCreateUnit(t, s, "Finance")
	mustAssign(t, s, u.ID, latchkey.RoleGlobalAdmin, "")
	global := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, "")
	scoped := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, unit.ID)
	bobs := mustAssign(t, s, bob.ID, latchkey.RoleGlobalAdmin, "")

	must(t, "RemoveRole globalAdmin", s.RemoveRole(ctx, u.ID, latchkey.RoleGlobalAdmin, ""))
	checkRoles(t, s, "after removing globalAdmin", u.ID, latchkey.RoleAuthenticationAdmin)
	diff(t, "assignments after removing globalAdmin", listAssignments(t, s, u.ID), []*latchkey.RoleAssignment{global, scoped})

	// The role stays while one scope holds it.
	must(t, "RemoveRole global authenticationAdmin", s.RemoveRole(ctx, u.ID, latchkey.RoleAuthenticationAdmin, ""))
	checkRoles(t, s, "after removing the global scope", u.ID, latchkey.RoleAuthenticationAdmin)
	diff(t, "assignments after removing the global scope", listAssignments(t, s, u.ID), []*latchkey.RoleAssignment{scoped})

	must(t, "RemoveRole scoped authenticationAdmin", s.RemoveRole(ctx, u.ID, latchkey.RoleAuthenticationAdmin, unit.ID))
	checkRoles(t, s, "after removing the last assignment", u.ID)
	diff(t, "assignments of everyone", listAssignments(t, s, ""), []*latchkey.RoleAssignment{bobs})
	checkRoles(t, s, "another user's roles", bob.ID, latchkey.RoleGlobalAdmin)
}

func testRemoveRoleNotFound(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	unit := mustCreateUnit(t, s, "Finance")
	a := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, unit.ID)
	for _, c := range []struct{ what, userID, role, unitID string }{
		{"at global scope", u.ID, latchkey.RoleAuthenticationAdmin, ""},
		{"in another unit", u.ID, latchkey.RoleAuthenticationAdmin, latchkey.NewID()},
		{"another role", u.ID, latchkey.RoleReportsReader, unit.ID},
		{"of an unknown user", latchkey.NewID(), latchkey.RoleAuthenticationAdmin, unit.ID},
	} {
		wantErr(t, "RemoveRole "+c.what, s.RemoveRole(ctx, c.userID, c.role, c.unitID), latchkey.ErrNotFound)
	}
	diff(t, "assignments after refused removals", listAssignments(t, s, u.ID), []*latchkey.RoleAssignment{a})
	checkRoles(t, s, "after refused removals", u.ID, latchkey.RoleAuthenticationAdmin)
}

func testListRoleAssignments(t *testing.T, s latchkey.Store) {
	users := []*latchkey.User{mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")}
	units := []*latchkey.AdministrativeUnit{mustCreateUnit(t, s, "Finance"), mustCreateUnit(t, s, "Sales")}
	if users[0].ID > users[1].ID {
		users[0], users[1] = users[1], users[0]
	}
	if units[0].ID > units[1].ID {
		units[0], units[1] = units[1], units[0]
	}
	// Assigned out of order; listed by user id, role, and unit id with the global scope first.
	var want []*latchkey.RoleAssignment
	for _, u := range users {
		a := mustAssign(t, s, u.ID, latchkey.RoleReportsReader, units[1].ID)
		b := mustAssign(t, s, u.ID, latchkey.RoleReportsReader, "")
		c := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, units[0].ID)
		d := mustAssign(t, s, u.ID, latchkey.RoleReportsReader, units[0].ID)
		want = append(want, c, b, d, a)
	}
	diff(t, "ListRoleAssignments of everyone", listAssignments(t, s, ""), want)
	diff(t, "ListRoleAssignments of one", listAssignments(t, s, users[1].ID), want[4:])
	if got := listAssignments(t, s, latchkey.NewID()); len(got) != 0 {
		t.Errorf("ListRoleAssignments of an unknown user = %d assignments, want none", len(got))
	}
}

func testCreateUserAssignsRoles(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	// As bootstrap creates the first administrator.
	u := newUser("admin")
	u.Roles = []string{latchkey.RoleGlobalAdmin}
	must(t, "CreateUser", s.CreateUser(ctx, u))
	got := listAssignments(t, s, u.ID)
	if len(got) != 1 || got[0].ID == "" || got[0].Role != latchkey.RoleGlobalAdmin || got[0].UnitID != "" || got[0].UserID != u.ID {
		t.Fatalf("assignments of a user created with roles = %+v, want one global globalAdmin", got)
	}
	diff(t, "assignment's CreatedAt", got[0].CreatedAt, u.CreatedAt)

	must(t, "RemoveRole", s.RemoveRole(ctx, u.ID, latchkey.RoleGlobalAdmin, ""))
	checkRoles(t, s, "after removing the role given at creation", u.ID)
}

func testUpdateUserRoles(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	unit := mustCreateUnit(t, s, "Finance")
	scoped := mustAssign(t, s, u.ID, latchkey.RoleAuthenticationAdmin, unit.ID)
	setRoles := func(roles ...string) {
		t.Helper()
		got, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error { v.Roles = roles; return nil })
		must(t, "UpdateUser", err)
		diff(t, "UpdateUser result's Roles", got.Roles, roles)
	}

	// Adding roles gives global assignments; a role held in a unit keeps its scope.
	setRoles(latchkey.RoleReportsReader, latchkey.RoleAuthenticationAdmin)
	got := listAssignments(t, s, u.ID)
	if len(got) != 2 || got[1].Role != latchkey.RoleReportsReader || got[1].UnitID != "" {
		t.Fatalf("assignments after UpdateUser added a role = %+v, want the scoped one and a global reportsReader", got)
	}
	diff(t, "scoped assignment kept by UpdateUser", got[0], scoped)
	checkRoles(t, s, "after UpdateUser added a role", u.ID, latchkey.RoleReportsReader, latchkey.RoleAuthenticationAdmin)

	// Dropping a role drops its assignments at every scope.
	setRoles(latchkey.RoleReportsReader)
	got = listAssignments(t, s, u.ID)
	if len(got) != 1 || got[0].Role != latchkey.RoleReportsReader {
		t.Errorf("assignments after UpdateUser dropped a role = %+v, want only reportsReader", got)
	}
	must(t, "RemoveRole", s.RemoveRole(ctx, u.ID, latchkey.RoleReportsReader, ""))
	checkRoles(t, s, "after removing the role UpdateUser gave", u.ID)
}

func testManagerRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	boss := mustCreateUser(t, s, "boss@example.com")
	u := newUser("alice@example.com")
	u.ManagerID = boss.ID
	must(t, "CreateUser with a manager", s.CreateUser(ctx, u))
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID with a manager", got, u)
	got, err = s.FindUserByUPN(ctx, u.UserPrincipalName)
	must(t, "FindUserByUPN", err)
	diff(t, "FindUserByUPN with a manager", got, u)
	all, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	diff(t, "ListUsers", all, []*latchkey.User{u, boss}) // alice@ before boss@

	// "" is no manager, both ways.
	updated, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error {
		diff(t, "updater argument's manager", v.ManagerID, boss.ID)
		v.ManagerID = ""
		return nil
	})
	must(t, "UpdateUser clearing the manager", err)
	got, err = s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	if got.ManagerID != "" || updated.ManagerID != "" {
		t.Errorf("ManagerID after clearing = %q (stored), %q (returned), want \"\"", got.ManagerID, updated.ManagerID)
	}
	_, err = s.UpdateUser(ctx, boss.ID, func(v *latchkey.User) error { v.ManagerID = u.ID; return nil })
	must(t, "UpdateUser setting a manager", err)
	got, err = s.FindUserByID(ctx, boss.ID)
	must(t, "FindUserByID", err)
	if got.ManagerID != u.ID {
		t.Errorf("ManagerID after UpdateUser = %q, want %q", got.ManagerID, u.ID)
	}
}

func testManagerUnknown(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := newUser("alice@example.com")
	u.ManagerID = latchkey.NewID()
	wantErr(t, "CreateUser with an unknown manager", s.CreateUser(ctx, u), latchkey.ErrNotFound)
	if n, err := s.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("CountUsers after a refused user = %d, %v; want 0", n, err)
	}
	bob := mustCreateUser(t, s, "bob@example.com")
	_, err := s.UpdateUser(ctx, bob.ID, func(v *latchkey.User) error { v.ManagerID = latchkey.NewID(); return nil })
	wantErr(t, "UpdateUser to an unknown manager", err, latchkey.ErrNotFound)
	got, err := s.FindUserByID(ctx, bob.ID)
	must(t, "FindUserByID", err)
	diff(t, "user after refused update", got, bob)
}

// testRoleLookUpsOfUnstorableText looks up and removes by ids and names that no text column can
// hold: each is ErrNotFound or an empty list, never another error.
func testRoleLookUpsOfUnstorableText(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "text@example.com")
	unit := mustCreateUnit(t, s, "Finance")
	for _, ref := range []string{"\x00", "a\x00b", "\xff", "\xc3"} {
		what := fmt.Sprintf(" %q", ref)
		_, err := s.FindUnitByID(ctx, ref)
		wantErr(t, "FindUnitByID"+what, err, latchkey.ErrNotFound)
		_, err = s.FindUnitByName(ctx, ref)
		wantErr(t, "FindUnitByName"+what, err, latchkey.ErrNotFound)
		wantErr(t, "AssignRole to"+what, s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: ref, Role: latchkey.RoleReportsReader}), latchkey.ErrNotFound)
		wantErr(t, "AssignRole in"+what, s.AssignRole(ctx, &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleReportsReader, UnitID: ref}), latchkey.ErrNotFound)
		wantErr(t, "RemoveRole"+what, s.RemoveRole(ctx, u.ID, ref, ""), latchkey.ErrNotFound)
		wantErr(t, "AddUnitMember"+what, s.AddUnitMember(ctx, latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberUser, MemberID: ref}), latchkey.ErrNotFound)
		wantErr(t, "RemoveUnitMember"+what, s.RemoveUnitMember(ctx, latchkey.UnitMember{UnitID: ref, Kind: latchkey.UnitMemberGroup, MemberID: ref}), latchkey.ErrNotFound)
		if got, err := s.ListUserUnits(ctx, ref); err != nil || len(got) != 0 {
			t.Errorf("ListUserUnits%s = %v, %v; want none", what, got, err)
		}
		if got, err := s.ListUnitMembers(ctx, ref); err != nil || len(got) != 0 {
			t.Errorf("ListUnitMembers%s = %v, %v; want none", what, got, err)
		}
		if got, err := s.ListRoleAssignments(ctx, ref); err != nil || len(got) != 0 {
			t.Errorf("ListRoleAssignments%s = %v, %v; want none", what, got, err)
		}
		_, err = s.FindAPITokenByHash(ctx, ref)
		wantErr(t, "FindAPITokenByHash"+what, err, latchkey.ErrNotFound)
		wantErr(t, "RevokeAPIToken"+what, s.RevokeAPIToken(ctx, ref, t0), latchkey.ErrNotFound)
	}
}

func testRaceAssignSameRole(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	errs := race(func(int) error {
		return s.AssignRole(t.Context(), &latchkey.RoleAssignment{UserID: u.ID, Role: latchkey.RoleAuthenticationAdmin})
	})
	checkOneWinner(t, "AssignRole", errs, latchkey.ErrConflict)
	if got := listAssignments(t, s, u.ID); len(got) != 1 {
		t.Errorf("%d assignments after racing AssignRole of one role, want 1", len(got))
	}
	checkRoles(t, s, "after racing AssignRole", u.ID, latchkey.RoleAuthenticationAdmin)
}

// testRaceAssignManyRoles assigns each of several users every role at once: each assignment
// succeeds, and User.Roles, which each recomputes, ends with every role (none lost to a
// recomputation that missed a concurrent assignment).
func testRaceAssignManyRoles(t *testing.T, s latchkey.Store) {
	roles := latchkey.Roles
	users := make([]*latchkey.User, (racers+len(roles)-1)/len(roles))
	for i := range users {
		users[i] = mustCreateUser(t, s, fmt.Sprintf("user%d@example.com", i))
	}
	errs := race(func(i int) error {
		if i >= len(users)*len(roles) {
			return nil
		}
		return s.AssignRole(t.Context(), &latchkey.RoleAssignment{UserID: users[i/len(roles)].ID, Role: roles[i%len(roles)]})
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("AssignRole %d: %v", i, err)
		}
	}
	for _, u := range users {
		if got := listAssignments(t, s, u.ID); len(got) != len(roles) {
			t.Errorf("%s: %d assignments after racing AssignRole of every role, want %d", u.UserPrincipalName, len(got), len(roles))
		}
		checkRoles(t, s, u.UserPrincipalName+" after racing AssignRole of every role", u.ID, roles...)
	}
}

// testDirectReports: ListDirectReports returns exactly the users whose manager is the one
// named, by UPN, and follows a change of manager.
func testDirectReports(t *testing.T, s latchkey.Store) {
	ctx := context.Background()
	boss := mustCreateUser(t, s, "boss@example.com")
	other := mustCreateUser(t, s, "other@example.com")
	for _, upn := range []string{"zed@example.com", "amy@example.com"} {
		u := &latchkey.User{UserPrincipalName: upn, Enabled: true, ManagerID: boss.ID}
		must(t, "CreateUser", s.CreateUser(ctx, u))
	}
	mustCreateUser(t, s, "loner@example.com")
	reports, err := s.ListDirectReports(ctx, boss.ID)
	must(t, "ListDirectReports", err)
	if len(reports) != 2 || reports[0].UserPrincipalName != "amy@example.com" || reports[1].UserPrincipalName != "zed@example.com" {
		t.Fatalf("reports of boss = %v; want amy, zed", upns(reports))
	}
	_, err = s.UpdateUser(ctx, reports[0].ID, func(u *latchkey.User) error { u.ManagerID = other.ID; return nil })
	must(t, "UpdateUser", err)
	if reports, err = s.ListDirectReports(ctx, boss.ID); err != nil || len(reports) != 1 {
		t.Fatalf("reports of boss after a move = %v, %v; want zed", upns(reports), err)
	}
	if reports, err = s.ListDirectReports(ctx, "no-such-id\x00"); err != nil || len(reports) != 0 {
		t.Fatalf("reports of nobody = %v, %v", upns(reports), err)
	}
}

func upns(us []*latchkey.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.UserPrincipalName
	}
	return out
}
