package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var unitTests = []test{
	{"CreateUnit/RoundTrip", testCreateUnit},
	{"CreateUnit/AssignsIDAndCreatedAt", testCreateUnitAssigns},
	{"CreateUnit/NameConflictIgnoresCase", testCreateUnitConflict},
	{"FindUnit", testFindUnit},
	{"ListUnits", testListUnits},
	{"UnitMembers", testUnitMembers},
	{"UnitMembers/NotFound", testUnitMembersNotFound},
	{"ListUserUnits/ThroughGroups", testListUserUnits},
}

func mustCreateUnit(t *testing.T, s latchkey.Store, name string) *latchkey.AdministrativeUnit {
	t.Helper()
	u := &latchkey.AdministrativeUnit{ID: latchkey.NewID(), DisplayName: name, Description: "About " + name, CreatedAt: t0}
	must(t, "CreateUnit "+name, s.CreateUnit(t.Context(), u))
	return u
}

func testCreateUnit(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := &latchkey.AdministrativeUnit{ID: latchkey.NewID(), DisplayName: "Finance – Zürich", Description: "Everyone in finance", CreatedAt: t0}
	want := *u
	must(t, "CreateUnit", s.CreateUnit(ctx, u))
	unchanged(t, "CreateUnit argument", u, &want)
	got, err := s.FindUnitByID(ctx, u.ID)
	must(t, "FindUnitByID", err)
	diff(t, "FindUnitByID", got, &want)

	bare := &latchkey.AdministrativeUnit{ID: latchkey.NewID(), DisplayName: "Sales", CreatedAt: t0}
	must(t, "CreateUnit without description", s.CreateUnit(ctx, bare))
	got, err = s.FindUnitByID(ctx, bare.ID)
	must(t, "FindUnitByID", err)
	diff(t, "FindUnitByID without description", got, bare)
}

func testCreateUnitAssigns(t *testing.T, s latchkey.Store) {
	u := &latchkey.AdministrativeUnit{DisplayName: "Finance"}
	before := time.Now()
	must(t, "CreateUnit", s.CreateUnit(t.Context(), u))
	after := time.Now()
	checkAssigned(t, "CreateUnit", u.ID, u.CreatedAt, before, after)
	got, err := s.FindUnitByID(t.Context(), u.ID)
	must(t, "FindUnitByID", err)
	diff(t, "FindUnitByID", got, u)
}

func testCreateUnitConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	first := mustCreateUnit(t, s, "Finance")
	err := s.CreateUnit(ctx, &latchkey.AdministrativeUnit{DisplayName: "FINANCE"})
	wantErr(t, "CreateUnit same name other case", err, latchkey.ErrConflict)
	err = s.CreateUnit(ctx, &latchkey.AdministrativeUnit{ID: first.ID, DisplayName: "Sales"})
	wantErr(t, "CreateUnit with a taken id", err, latchkey.ErrConflict)
	units, err := s.ListUnits(ctx)
	must(t, "ListUnits", err)
	diff(t, "ListUnits after refused duplicates", units, []*latchkey.AdministrativeUnit{first})
}

func testFindUnit(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	finance := mustCreateUnit(t, s, "Finance")
	mustCreateUnit(t, s, "Sales")
	for _, name := range []string{"Finance", "finance", "FINANCE"} {
		got, err := s.FindUnitByName(ctx, name)
		must(t, "FindUnitByName "+name, err)
		diff(t, "FindUnitByName "+name, got, finance)
	}
	_, err := s.FindUnitByName(ctx, "Marketing")
	wantErr(t, "FindUnitByName unknown", err, latchkey.ErrNotFound)
	_, err = s.FindUnitByID(ctx, latchkey.NewID())
	wantErr(t, "FindUnitByID unknown", err, latchkey.ErrNotFound)
}

func testListUnits(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	got, err := s.ListUnits(ctx)
	must(t, "ListUnits empty", err)
	if got == nil || len(got) != 0 {
		t.Errorf("ListUnits on an empty store = %v, want an empty slice", got)
	}
	sales, finance, hr := mustCreateUnit(t, s, "sales"), mustCreateUnit(t, s, "Finance"), mustCreateUnit(t, s, "HR")
	got, err = s.ListUnits(ctx)
	must(t, "ListUnits", err)
	diff(t, "ListUnits by name in any case", got, []*latchkey.AdministrativeUnit{finance, hr, sales})
}

// sortMembers orders unit members for listings whose order the interface does not promise.
var sortMembers = cmpopts.SortSlices(func(a, b latchkey.UnitMember) bool {
	return a.Kind+a.MemberID < b.Kind+b.MemberID
})

func listUnitMembers(t *testing.T, s latchkey.Store, unitID string) []latchkey.UnitMember {
	t.Helper()
	got, err := s.ListUnitMembers(t.Context(), unitID)
	must(t, "ListUnitMembers", err)
	if got == nil {
		t.Errorf("ListUnitMembers = nil, want a slice")
	}
	return got
}

func testUnitMembers(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	finance, sales := mustCreateUnit(t, s, "Finance"), mustCreateUnit(t, s, "Sales")
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	staff := mustCreateGroup(t, s, "Staff")
	if got := listUnitMembers(t, s, finance.ID); len(got) != 0 {
		t.Errorf("ListUnitMembers of a new unit = %v, want none", got)
	}

	members := []latchkey.UnitMember{
		{UnitID: finance.ID, Kind: latchkey.UnitMemberUser, MemberID: alice.ID},
		{UnitID: finance.ID, Kind: latchkey.UnitMemberGroup, MemberID: staff.ID},
		{UnitID: finance.ID, Kind: latchkey.UnitMemberUser, MemberID: bob.ID},
	}
	for _, m := range members {
		must(t, "AddUnitMember", s.AddUnitMember(ctx, m))
	}
	must(t, "AddUnitMember twice", s.AddUnitMember(ctx, members[0]))
	must(t, "AddUnitMember to another unit", s.AddUnitMember(ctx, latchkey.UnitMember{UnitID: sales.ID, Kind: latchkey.UnitMemberUser, MemberID: alice.ID}))
	diff(t, "ListUnitMembers", listUnitMembers(t, s, finance.ID), members, sortMembers)

	must(t, "RemoveUnitMember user", s.RemoveUnitMember(ctx, members[0]))
	must(t, "RemoveUnitMember group", s.RemoveUnitMember(ctx, members[1]))
	wantErr(t, "RemoveUnitMember twice", s.RemoveUnitMember(ctx, members[0]), latchkey.ErrNotFound)
	diff(t, "ListUnitMembers after removals", listUnitMembers(t, s, finance.ID), members[2:], sortMembers)
	diff(t, "ListUnitMembers of the other unit", listUnitMembers(t, s, sales.ID),
		[]latchkey.UnitMember{{UnitID: sales.ID, Kind: latchkey.UnitMemberUser, MemberID: alice.ID}})
}

func testUnitMembersNotFound(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	unit := mustCreateUnit(t, s, "Finance")
	alice := mustCreateUser(t, s, "alice@example.com")
	staff := mustCreateGroup(t, s, "Staff")
	for _, c := range []struct {
		what string
		m    latchkey.UnitMember
	}{
		{"to an unknown unit", latchkey.UnitMember{UnitID: latchkey.NewID(), Kind: latchkey.UnitMemberUser, MemberID: alice.ID}},
		{"an unknown user", latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberUser, MemberID: latchkey.NewID()}},
		{"an unknown group", latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberGroup, MemberID: latchkey.NewID()}},
		// The ids exist, but as the other kind.
		{"a group as a user", latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberUser, MemberID: staff.ID}},
		{"a user as a group", latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberGroup, MemberID: alice.ID}},
	} {
		wantErr(t, "AddUnitMember "+c.what, s.AddUnitMember(ctx, c.m), latchkey.ErrNotFound)
		wantErr(t, "RemoveUnitMember "+c.what, s.RemoveUnitMember(ctx, c.m), latchkey.ErrNotFound)
	}
	device := latchkey.UnitMember{UnitID: unit.ID, Kind: "device", MemberID: alice.ID}
	for what, err := range map[string]error{"AddUnitMember": s.AddUnitMember(ctx, device), "RemoveUnitMember": s.RemoveUnitMember(ctx, device)} {
		if latchkey.ErrorKind(err) != latchkey.EINVALID || latchkey.ErrorCode(err) != latchkey.CodeInvalidUnitMember {
			t.Errorf("%s of kind device: err = %v, want %s", what, err, latchkey.CodeInvalidUnitMember)
		}
	}
	if got := listUnitMembers(t, s, unit.ID); len(got) != 0 {
		t.Errorf("ListUnitMembers after refused additions = %v, want none", got)
	}
}

func testListUserUnits(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	direct, viaGroup, both, other := mustCreateUnit(t, s, "Direct"), mustCreateUnit(t, s, "Via group"),
		mustCreateUnit(t, s, "Both"), mustCreateUnit(t, s, "Other")
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	staff, admins := mustCreateGroup(t, s, "Staff"), mustCreateGroup(t, s, "Admins")
	must(t, "AddGroupMember", s.AddGroupMember(ctx, staff.ID, alice.ID))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, admins.ID, alice.ID))
	user := func(unit *latchkey.AdministrativeUnit, u *latchkey.User) latchkey.UnitMember {
		return latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberUser, MemberID: u.ID}
	}
	group := func(unit *latchkey.AdministrativeUnit, g *latchkey.Group) latchkey.UnitMember {
		return latchkey.UnitMember{UnitID: unit.ID, Kind: latchkey.UnitMemberGroup, MemberID: g.ID}
	}
	for _, m := range []latchkey.UnitMember{user(direct, alice), group(viaGroup, staff), user(both, alice),
		group(both, staff), group(both, admins), user(other, bob)} {
		must(t, "AddUnitMember", s.AddUnitMember(ctx, m))
	}
	userUnits := func(what string, u *latchkey.User, want ...*latchkey.AdministrativeUnit) {
		t.Helper()
		got, err := s.ListUserUnits(ctx, u.ID)
		must(t, "ListUserUnits", err)
		ids := []string{}
		for _, unit := range want {
			ids = append(ids, unit.ID)
		}
		diff(t, what, got, ids, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
		if got == nil {
			t.Errorf("%s: nil, want a slice", what)
		}
	}
	// Each unit once, however many ways alice is in it.
	userUnits("alice's units", alice, direct, viaGroup, both)
	userUnits("bob's units", bob, other)

	must(t, "RemoveGroupMember", s.RemoveGroupMember(ctx, staff.ID, alice.ID))
	userUnits("alice's units after leaving the group", alice, direct, both)
	must(t, "RemoveUnitMember", s.RemoveUnitMember(ctx, group(both, admins)))
	must(t, "RemoveUnitMember", s.RemoveUnitMember(ctx, user(both, alice)))
	userUnits("alice's units after leaving Both", alice, direct)
	userUnits("an unknown user's units", &latchkey.User{ID: latchkey.NewID()})
}
