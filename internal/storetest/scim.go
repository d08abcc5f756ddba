package storetest

import (
	"testing"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var scimTests = []test{
	{"SCIM/UserExternalIDAndSource", testUserExternalIDAndSource},
	{"SCIM/GroupExternalIDAndSource", testGroupExternalIDAndSource},
	{"SCIM/FindUsersByExternalID", testFindUsersByExternalID},
	{"SCIM/SetGroupExternalID", testSetGroupExternalID},
}

// testFindUsersByExternalID: the look-up matches exactly (case counts), returns every match in
// UPN order, and "" finds nobody, not the people without one.
func testFindUsersByExternalID(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	mk := func(upn, ext string) *latchkey.User {
		u := &latchkey.User{ID: latchkey.NewID(), UserPrincipalName: upn, DisplayName: upn, UserType: latchkey.UserTypeMember,
			Roles: []string{}, CreatedAt: t0, ExternalID: ext}
		must(t, "CreateUser "+upn, s.CreateUser(ctx, u))
		return u
	}
	b := mk("b@example.com", "ext-1")
	a := mk("A@example.com", "ext-1")
	mk("c@example.com", "EXT-1")
	mk("d@example.com", "")
	got, err := s.FindUsersByExternalID(ctx, "ext-1")
	must(t, "FindUsersByExternalID", err)
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
		t.Fatalf("FindUsersByExternalID ext-1: %d users, want A then b", len(got))
	}
	diff(t, "FindUsersByExternalID first", got[0], a)
	for _, none := range []string{"", "ext", "nobody", "ext-1\x00"} {
		got, err := s.FindUsersByExternalID(ctx, none)
		must(t, "FindUsersByExternalID "+none, err)
		if len(got) != 0 {
			t.Errorf("FindUsersByExternalID %q: %d users, want none", none, len(got))
		}
	}
}

// testSetGroupExternalID: the external id is set and read back; an unknown group is
// ErrNotFound.
func testSetGroupExternalID(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := mustCreateGroup(t, s, "Pushed")
	must(t, "SetGroupExternalID", s.SetGroupExternalID(ctx, g.ID, "8aa1a0c0"))
	got, err := s.FindGroupByID(ctx, g.ID)
	must(t, "FindGroupByID", err)
	want := *g
	want.ExternalID = "8aa1a0c0"
	diff(t, "FindGroupByID after SetGroupExternalID", got, &want)
	must(t, "SetGroupExternalID to none", s.SetGroupExternalID(ctx, g.ID, ""))
	if got, _ = s.FindGroupByID(ctx, g.ID); got.ExternalID != "" {
		t.Errorf("externalId %q after clearing, want none", got.ExternalID)
	}
	wantErr(t, "SetGroupExternalID unknown", s.SetGroupExternalID(ctx, latchkey.NewID(), "x"), latchkey.ErrNotFound)
}

// testUserExternalIDAndSource: a person's externalId and source are kept as sent, by create,
// every look-up and UpdateUser; a person created without them reads back empty ones.
func testUserExternalIDAndSource(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := &latchkey.User{ID: latchkey.NewID(), UserPrincipalName: "hire@example.com", DisplayName: "Hire",
		UserType: latchkey.UserTypeMember, Enabled: true, Roles: []string{}, CreatedAt: t0,
		ExternalID: "0a21f0f2-8D2A-4f8e", Source: latchkey.UserSourceSCIM}
	want := *u
	must(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindUserByID", got, &want)
	got, err = s.FindUserByUPN(ctx, "HIRE@example.com")
	must(t, "FindUserByUPN", err)
	diff(t, "FindUserByUPN", got, &want)
	users, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	if len(users) != 1 {
		t.Fatalf("ListUsers: %d users, want 1", len(users))
	}
	diff(t, "ListUsers", users[0], &want)

	updated, err := s.UpdateUser(ctx, u.ID, func(x *latchkey.User) error { x.ExternalID = "jyoung"; return nil })
	must(t, "UpdateUser", err)
	want.ExternalID = "jyoung"
	diff(t, "UpdateUser result", updated, &want)
	got, err = s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID after update", err)
	diff(t, "FindUserByID after update", got, &want)

	plain := &latchkey.User{ID: latchkey.NewID(), UserPrincipalName: "admin-made@example.com", DisplayName: "A",
		UserType: latchkey.UserTypeMember, Roles: []string{}, CreatedAt: t0}
	must(t, "CreateUser plain", s.CreateUser(ctx, plain))
	got, err = s.FindUserByID(ctx, plain.ID)
	must(t, "FindUserByID plain", err)
	if got.ExternalID != "" || got.Source != "" {
		t.Errorf("plain user: externalId %q source %q, want both empty", got.ExternalID, got.Source)
	}
}

// testGroupExternalIDAndSource: a group's externalId and source are kept by create and read back
// by every look-up.
func testGroupExternalIDAndSource(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := &latchkey.Group{ID: latchkey.NewID(), DisplayName: "Pushed", CreatedAt: t0,
		ExternalID: "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", Source: latchkey.UserSourceSCIM}
	want := *g
	must(t, "CreateGroup", s.CreateGroup(ctx, g))
	got, err := s.FindGroupByID(ctx, g.ID)
	must(t, "FindGroupByID", err)
	diff(t, "FindGroupByID", got, &want)
	got, err = s.FindGroupByName(ctx, "PUSHED")
	must(t, "FindGroupByName", err)
	diff(t, "FindGroupByName", got, &want)
	groups, err := s.ListGroups(ctx)
	must(t, "ListGroups", err)
	if len(groups) != 1 {
		t.Fatalf("ListGroups: %d groups, want 1", len(groups))
	}
	diff(t, "ListGroups", groups[0], &want)
}
