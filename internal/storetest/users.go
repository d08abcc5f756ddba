package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var userTests = []test{
	{"CreateUser/RoundTrip", testCreateUserRoundTrip},
	{"CreateUser/AssignsIDAndCreatedAt", testCreateUserAssigns},
	{"CreateUser/UPNConflictIgnoresCase", testCreateUserConflict},
	{"FindUserByID/NotFound", testFindUserByIDNotFound},
	{"LookUps/TextNoColumnHolds", testLookUpsOfUnstorableText},
	{"FindUserByUPN", testFindUserByUPN},
	{"ListUsers", testListUsers},
	{"UpdateUser", testUpdateUser},
	{"UpdateUser/NotFound", testUpdateUserNotFound},
	{"UpdateUser/UpdaterErrorAborts", testUpdateUserAbort},
	{"UpdateUser/UPNConflict", testUpdateUserConflict},
	{"UpdateUser/KeepsIDAndCreatedAt", testUpdateUserKeepsIDAndCreatedAt},
	{"CountUsers", testCountUsers},
}

var groupTests = []test{
	{"CreateGroup/RoundTrip", testCreateGroup},
	{"CreateGroup/NameConflictIgnoresCase", testCreateGroupConflict},
	{"FindGroupByName", testFindGroupByName},
	{"ListGroups", testListGroups},
	{"GroupMembers", testGroupMembers},
}

func testCreateUserRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := &latchkey.User{
		ID:                latchkey.NewID(),
		UserPrincipalName: "Alice.Smith@Example.com",
		DisplayName:       "Alice Smith",
		GivenName:         "Alice",
		Surname:           "Smith",
		EmployeeID:        "E-1001",
		Enabled:           true,
		UserType:          latchkey.UserTypeGuest,
		Roles:             []string{latchkey.RoleGlobalAdmin},
		CreatedAt:         t0,
	}
	want := *u
	must(t, "CreateUser", s.CreateUser(ctx, u))
	unchanged(t, "CreateUser argument", u, &want)

	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID", got, &want)

	// A disabled user with no roles and empty optional fields.
	v := &latchkey.User{ID: latchkey.NewID(), UserPrincipalName: "bob@example.com", DisplayName: "Bob", UserType: latchkey.UserTypeMember, CreatedAt: t0.Add(time.Hour)}
	must(t, "CreateUser bob", s.CreateUser(ctx, v))
	got, err = s.FindUserByID(ctx, v.ID)
	must(t, "FindUserByID bob", err)
	diff(t, "FindUserByID bob", got, v)
	if got.Roles == nil {
		t.Errorf("FindUserByID bob: Roles is nil, want an empty slice")
	}
}

func testCreateUserAssigns(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := &latchkey.User{UserPrincipalName: "carol@example.com", DisplayName: "Carol", UserType: latchkey.UserTypeMember, Roles: []string{}}
	before := time.Now()
	must(t, "CreateUser", s.CreateUser(ctx, u))
	after := time.Now()
	checkAssigned(t, "CreateUser", u.ID, u.CreatedAt, before, after)

	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID", got, u)
}

func testCreateUserConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	first := mustCreateUser(t, s, "Alice@x.example")
	err := s.CreateUser(ctx, newUser("alice@X.EXAMPLE"))
	wantErr(t, "CreateUser same UPN other case", err, latchkey.ErrConflict)

	n, err := s.CountUsers(ctx)
	must(t, "CountUsers", err)
	if n != 1 {
		t.Errorf("CountUsers = %d after a refused duplicate, want 1", n)
	}
	got, err := s.FindUserByUPN(ctx, "alice@x.example")
	must(t, "FindUserByUPN", err)
	diff(t, "FindUserByUPN keeps the first", got, first)
}

func testFindUserByIDNotFound(t *testing.T, s latchkey.Store) {
	mustCreateUser(t, s, "alice@example.com")
	_, err := s.FindUserByID(t.Context(), latchkey.NewID())
	wantErr(t, "FindUserByID unknown", err, latchkey.ErrNotFound)
}

func testFindUserByUPN(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "Alice@Example.com")
	mustCreateUser(t, s, "bob@example.com")
	for _, upn := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
		got, err := s.FindUserByUPN(ctx, upn)
		must(t, "FindUserByUPN "+upn, err)
		diff(t, "FindUserByUPN "+upn, got, alice)
	}
	_, err := s.FindUserByUPN(ctx, "carol@example.com")
	wantErr(t, "FindUserByUPN unknown", err, latchkey.ErrNotFound)
}

func testListUsers(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListUsers(ctx)
	must(t, "ListUsers empty", err)
	if len(got) != 0 {
		t.Errorf("ListUsers on an empty store returned %d users", len(got))
	}

	// Created out of order; the order of these UPNs is the same with and without case.
	dave := mustCreateUser(t, s, "dave@example.com")
	alice := mustCreateUser(t, s, "Alice@example.com")
	carol := mustCreateUser(t, s, "carol@example.com")
	bob := mustCreateUser(t, s, "bob@example.com")
	bob2 := mustCreateUser(t, s, "bob@example.org")
	got, err = s.ListUsers(ctx)
	must(t, "ListUsers", err)
	diff(t, "ListUsers", got, []*latchkey.User{alice, bob, bob2, carol, dave})
}

func testUpdateUser(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	other := mustCreateUser(t, s, "bob@example.com")

	want := *u
	want.UserPrincipalName = "Alice.Jones@Example.com"
	want.DisplayName = "Alice Jones"
	want.GivenName = "Alice"
	want.Surname = "Jones"
	want.EmployeeID = "E-7"
	want.Enabled = true
	want.UserType = latchkey.UserTypeGuest
	want.Roles = []string{latchkey.RoleGlobalAdmin}

	calls := 0
	got, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error {
		calls++
		diff(t, "updater argument", v, u)
		v.UserPrincipalName, v.DisplayName, v.GivenName, v.Surname = want.UserPrincipalName, want.DisplayName, want.GivenName, want.Surname
		v.EmployeeID, v.Enabled, v.UserType, v.Roles = want.EmployeeID, want.Enabled, want.UserType, want.Roles
		return nil
	})
	must(t, "UpdateUser", err)
	if calls != 1 {
		t.Errorf("updater called %d times, want 1", calls)
	}
	diff(t, "UpdateUser result", got, &want)

	got, err = s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID after update", got, &want)
	got, err = s.FindUserByUPN(ctx, "alice.jones@example.com")
	must(t, "FindUserByUPN new UPN", err)
	diff(t, "FindUserByUPN new UPN", got, &want)
	_, err = s.FindUserByUPN(ctx, "alice@example.com")
	wantErr(t, "FindUserByUPN old UPN", err, latchkey.ErrNotFound)

	// Removing every role.
	want.Roles = []string{}
	_, err = s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error { v.Roles = nil; return nil })
	must(t, "UpdateUser remove roles", err)
	got, err = s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID after removing roles", got, &want)

	got, err = s.FindUserByID(ctx, other.ID)
	must(t, "FindUserByID other", err)
	diff(t, "other user untouched", got, other)

	// The old UPN is free again.
	mustCreateUser(t, s, "ALICE@example.com")
}

func testUpdateUserNotFound(t *testing.T, s latchkey.Store) {
	mustCreateUser(t, s, "alice@example.com")
	called := false
	_, err := s.UpdateUser(t.Context(), latchkey.NewID(), func(*latchkey.User) error { called = true; return nil })
	wantErr(t, "UpdateUser unknown", err, latchkey.ErrNotFound)
	if called {
		t.Error("updater called for an unknown user")
	}
}

func testUpdateUserAbort(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	errStop := errors.New("stop")
	_, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error {
		v.DisplayName = "Changed"
		v.UserPrincipalName = "changed@example.com"
		v.Roles = []string{latchkey.RoleGlobalAdmin}
		return errStop
	})
	wantErr(t, "UpdateUser with failing updater", err, errStop)
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "user after aborted update", got, u)
}

func testUpdateUserConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	mustCreateUser(t, s, "alice@example.com")
	bob := mustCreateUser(t, s, "bob@example.com")
	_, err := s.UpdateUser(ctx, bob.ID, func(v *latchkey.User) error {
		v.UserPrincipalName = "ALICE@example.com"
		v.DisplayName = "Changed"
		return nil
	})
	wantErr(t, "UpdateUser to a taken UPN", err, latchkey.ErrConflict)
	got, err := s.FindUserByID(ctx, bob.ID)
	must(t, "FindUserByID", err)
	diff(t, "user after refused update", got, bob)
}

func testCountUsers(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	n, err := s.CountUsers(ctx)
	must(t, "CountUsers", err)
	if n != 0 {
		t.Errorf("CountUsers on an empty store = %d, want 0", n)
	}
	for _, upn := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		mustCreateUser(t, s, upn)
	}
	n, err = s.CountUsers(ctx)
	must(t, "CountUsers", err)
	if n != 3 {
		t.Errorf("CountUsers = %d, want 3", n)
	}
}

func newGroup(name string) *latchkey.Group {
	return &latchkey.Group{ID: latchkey.NewID(), DisplayName: name, Description: "About " + name, CreatedAt: t0}
}

func mustCreateGroup(t *testing.T, s latchkey.Store, name string) *latchkey.Group {
	t.Helper()
	g := newGroup(name)
	must(t, "CreateGroup "+name, s.CreateGroup(t.Context(), g))
	return g
}

func testCreateGroup(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := newGroup("Engineering")
	want := *g
	must(t, "CreateGroup", s.CreateGroup(ctx, g))
	got, err := s.FindGroupByID(ctx, g.ID)
	must(t, "FindGroupByID", err)
	diff(t, "FindGroupByID", got, &want)

	h := &latchkey.Group{ID: latchkey.NewID(), DisplayName: "Sales", CreatedAt: t0.Add(time.Minute)}
	must(t, "CreateGroup without description", s.CreateGroup(ctx, h))
	got, err = s.FindGroupByID(ctx, h.ID)
	must(t, "FindGroupByID", err)
	diff(t, "FindGroupByID without description", got, h)

	_, err = s.FindGroupByID(ctx, latchkey.NewID())
	wantErr(t, "FindGroupByID unknown", err, latchkey.ErrNotFound)
}

func testCreateGroupConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := mustCreateGroup(t, s, "Engineering")
	err := s.CreateGroup(ctx, newGroup("ENGINEERING"))
	wantErr(t, "CreateGroup same name other case", err, latchkey.ErrConflict)
	got, err := s.ListGroups(ctx)
	must(t, "ListGroups", err)
	diff(t, "ListGroups after refused duplicate", got, []*latchkey.Group{g})
}

func testFindGroupByName(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := mustCreateGroup(t, s, "Engineering")
	mustCreateGroup(t, s, "Sales")
	for _, name := range []string{"Engineering", "engineering", "ENGINEERING"} {
		got, err := s.FindGroupByName(ctx, name)
		must(t, "FindGroupByName "+name, err)
		diff(t, "FindGroupByName "+name, got, g)
	}
	_, err := s.FindGroupByName(ctx, "Marketing")
	wantErr(t, "FindGroupByName unknown", err, latchkey.ErrNotFound)
}

func testListGroups(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListGroups(ctx)
	must(t, "ListGroups empty", err)
	if len(got) != 0 {
		t.Errorf("ListGroups on an empty store returned %d groups", len(got))
	}
	a, b, c := mustCreateGroup(t, s, "Sales"), mustCreateGroup(t, s, "Engineering"), mustCreateGroup(t, s, "Support")
	got, err = s.ListGroups(ctx)
	must(t, "ListGroups", err)
	diff(t, "ListGroups", got, []*latchkey.Group{a, b, c}, sortByID)
}

func testGroupMembers(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	eng, sales, empty := mustCreateGroup(t, s, "Engineering"), mustCreateGroup(t, s, "Sales"), mustCreateGroup(t, s, "Empty")
	alice, bob, carol := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com"), mustCreateUser(t, s, "carol@example.com")

	must(t, "AddGroupMember", s.AddGroupMember(ctx, eng.ID, alice.ID))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, eng.ID, bob.ID))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, sales.ID, alice.ID))
	must(t, "AddGroupMember again", s.AddGroupMember(ctx, eng.ID, alice.ID))

	members := func(g *latchkey.Group, want ...*latchkey.User) {
		t.Helper()
		got, err := s.ListGroupMembers(ctx, g.ID)
		must(t, "ListGroupMembers", err)
		diff(t, "ListGroupMembers "+g.DisplayName, got, want, sortByID)
	}
	groups := func(u *latchkey.User, want ...*latchkey.Group) {
		t.Helper()
		got, err := s.ListUserGroups(ctx, u.ID)
		must(t, "ListUserGroups", err)
		diff(t, "ListUserGroups "+u.UserPrincipalName, got, want, sortByID)
	}
	members(eng, alice, bob)
	members(sales, alice)
	members(empty)
	groups(alice, eng, sales)
	groups(bob, eng)
	groups(carol)

	must(t, "RemoveGroupMember", s.RemoveGroupMember(ctx, eng.ID, alice.ID))
	members(eng, bob)
	members(sales, alice)
	groups(alice, sales)

	must(t, "AddGroupMember after removal", s.AddGroupMember(ctx, eng.ID, alice.ID))
	members(eng, alice, bob)
}

// testLookUpsOfUnstorableText looks up, renames and deletes by ids and names that no text
// column can hold (a NUL, invalid UTF-8), as an attacker's path or document may carry them: each
// is ErrNotFound, never another error.
func testLookUpsOfUnstorableText(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "text@example.com")
	for _, ref := range []string{"\x00", "a\x00b", "\xff", "text@example.com\x00", "\xc3"} {
		_, err := s.FindUserByID(ctx, ref)
		wantErr(t, "FindUserByID", err, latchkey.ErrNotFound)
		_, err = s.FindUserByUPN(ctx, ref)
		wantErr(t, "FindUserByUPN", err, latchkey.ErrNotFound)
		_, err = s.FindGroupByID(ctx, ref)
		wantErr(t, "FindGroupByID", err, latchkey.ErrNotFound)
		_, err = s.FindGroupByName(ctx, ref)
		wantErr(t, "FindGroupByName", err, latchkey.ErrNotFound)
		_, err = s.FindPasskeyByID(ctx, ref)
		wantErr(t, "FindPasskeyByID", err, latchkey.ErrNotFound)
		wantErr(t, "RenamePasskey", s.RenamePasskey(ctx, u.ID, ref, "x"), latchkey.ErrNotFound)
		wantErr(t, "DeletePasskey", s.DeletePasskey(ctx, u.ID, ref), latchkey.ErrNotFound)
		_, err = s.FindClient(ctx, ref)
		wantErr(t, "FindClient", err, latchkey.ErrNotFound)
		wantErr(t, "DeleteClient", s.DeleteClient(ctx, ref), latchkey.ErrNotFound)
	}
}

// testUpdateUserKeepsIDAndCreatedAt: an updater that changes ID and CreatedAt changes neither,
// in the result or in the store, while its other changes are stored.
func testUpdateUserKeepsIDAndCreatedAt(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	stored, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	got, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error {
		v.ID, v.CreatedAt, v.DisplayName = latchkey.NewID(), t0.Add(-48*time.Hour), "Alice Renamed"
		return nil
	})
	must(t, "UpdateUser", err)
	want := *stored
	want.DisplayName = "Alice Renamed"
	diff(t, "UpdateUser result", got, &want)
	got, err = s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID after update", err)
	diff(t, "FindUserByID after update", got, &want)
}
