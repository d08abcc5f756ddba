package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// The user lifecycle: profile fields, disabling, deleting, the last global administrator, and
// renaming and deleting groups.

var lifecycleTests = []test{
	{"UpdateUser/ProfileFields", testUpdateUserProfile},
	{"DisableUser/EndsSessionsTokensPass", testDisableUser},
	{"DisableUser/LastGlobalAdmin", testDisableLastAdmin},
	{"DisableUser/NotFound", testDisableUserNotFound},
	{"DeleteUser/Cascade", testDeleteUserCascade},
	{"DeleteUser/LastGlobalAdmin", testDeleteLastAdmin},
	{"RemoveRole/LastGlobalAdmin", testRemoveRoleLastAdmin},
	{"RenameGroup", testRenameGroup},
	{"DeleteGroup", testDeleteGroup},
}

var lifecycleConcurrencyTests = []test{
	{"DisableUser/LastGlobalAdmin", testRaceLastAdmin},
}

// enabledAdmin stores an enabled user holding the global administrator role.
func enabledAdmin(t *testing.T, s latchkey.Store, upn string) *latchkey.User {
	t.Helper()
	u := newUser(upn)
	u.Enabled, u.Roles = true, []string{latchkey.RoleGlobalAdmin}
	must(t, "CreateUser "+upn, s.CreateUser(t.Context(), u))
	return u
}

func testUpdateUserProfile(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	want := *u
	want.Department, want.StartDate, want.Mail, want.PersonalMail = "Finance", "2027-01-04", "alice@example.com", "alice@home.example"
	_, err := s.UpdateUser(ctx, u.ID, func(v *latchkey.User) error {
		v.Department, v.StartDate, v.Mail, v.PersonalMail = want.Department, want.StartDate, want.Mail, want.PersonalMail
		return nil
	})
	must(t, "UpdateUser", err)
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	diff(t, "profile after update", got, &want)

	v := newUser("bob@example.com")
	v.Department, v.StartDate, v.Mail, v.PersonalMail = "Sales", "2026-12-01", "bob@example.com", "bob@home.example"
	must(t, "CreateUser", s.CreateUser(ctx, v))
	got, err = s.FindUserByID(ctx, v.ID)
	must(t, "FindUserByID bob", err)
	diff(t, "profile as created", got, v)
}

func testDisableUser(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	must(t, "UpdateUser enable", enable(t, s, u.ID))
	other := mustCreateUser(t, s, "bob@example.com")
	c := mustCreateClient(t, s, "Payroll")
	far := t0.Add(24 * time.Hour)
	sess := mustCreateSession(t, s, u.ID, far)
	otherSess := mustCreateSession(t, s, other.ID, far)
	tok := mustCreateRefreshToken(t, s, c.ID, u.ID, far)
	otherTok := mustCreateRefreshToken(t, s, c.ID, other.ID, far)
	pk := mustCreatePasskey(t, s, u.ID, t0)
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(ctx, newAccessPass(u.ID)))

	got, err := s.DisableUser(ctx, u.ID)
	must(t, "DisableUser", err)
	if got.Enabled {
		t.Errorf("DisableUser returned an enabled user")
	}
	stored, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	if stored.Enabled {
		t.Errorf("user still enabled after DisableUser")
	}
	_, err = s.FindSession(ctx, sess.ID, t0)
	wantErr(t, "FindSession after disable", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, tok.ID, t0)
	wantErr(t, "FindRefreshToken after disable", err, latchkey.ErrNotFound)
	if revoked, err := s.GrantRevoked(ctx, tok.GrantID, t0); err != nil || !revoked {
		t.Errorf("GrantRevoked(disabled user's grant) = %v, %v; want true", revoked, err)
	}
	_, err = s.FindAccessPassByUser(ctx, u.ID)
	wantErr(t, "FindAccessPassByUser after disable", err, latchkey.ErrNotFound)
	pks, err := s.ListPasskeysByUser(ctx, u.ID)
	must(t, "ListPasskeysByUser", err)
	if len(pks) != 1 || pks[0].ID != pk.ID {
		t.Errorf("passkeys after disable = %d, want the one kept", len(pks))
	}
	// The other person keeps everything.
	_, err = s.FindSession(ctx, otherSess.ID, t0)
	must(t, "FindSession other", err)
	_, err = s.FindRefreshToken(ctx, otherTok.ID, t0)
	must(t, "FindRefreshToken other", err)
	if revoked, err := s.GrantRevoked(ctx, otherTok.GrantID, t0); err != nil || revoked {
		t.Errorf("GrantRevoked(other's grant) = %v, %v; want false", revoked, err)
	}
}

// enable turns the user on with UpdateUser.
func enable(t *testing.T, s latchkey.Store, id string) error {
	t.Helper()
	_, err := s.UpdateUser(t.Context(), id, func(u *latchkey.User) error { u.Enabled = true; return nil })
	return err
}

func testDisableLastAdmin(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	a := enabledAdmin(t, s, "a@example.com")
	b := enabledAdmin(t, s, "b@example.com")
	// A disabled admin and a unit-scoped one do not count.
	c := newUser("c@example.com")
	c.Roles = []string{latchkey.RoleGlobalAdmin}
	must(t, "CreateUser c", s.CreateUser(ctx, c))
	d := mustCreateUser(t, s, "d@example.com")
	must(t, "enable d", enable(t, s, d.ID))
	mustAssign(t, s, d.ID, latchkey.RoleGlobalAdmin, mustCreateUnit(t, s, "Finance").ID)

	_, err := s.DisableUser(ctx, a.ID)
	must(t, "DisableUser a", err)
	_, err = s.DisableUser(ctx, b.ID)
	wantErr(t, "DisableUser last admin", err, latchkey.ErrLastGlobalAdmin)
	err = s.DeleteUser(ctx, b.ID)
	wantErr(t, "DeleteUser last admin", err, latchkey.ErrLastGlobalAdmin)
	if u, err := s.FindUserByID(ctx, b.ID); err != nil || !u.Enabled {
		t.Errorf("last admin after refusals: %v, %v; want enabled", u, err)
	}
	// A disabled admin may go: nobody is left without an enabled one.
	must(t, "DeleteUser disabled admin", s.DeleteUser(ctx, c.ID))
	_, err = s.DisableUser(ctx, d.ID)
	must(t, "DisableUser unit-scoped admin", err)
}

func testDisableUserNotFound(t *testing.T, s latchkey.Store) {
	_, err := s.DisableUser(t.Context(), latchkey.NewID())
	wantErr(t, "DisableUser unknown", err, latchkey.ErrNotFound)
	wantErr(t, "DeleteUser unknown", s.DeleteUser(t.Context(), latchkey.NewID()), latchkey.ErrNotFound)
}

func testDeleteLastAdmin(t *testing.T, s latchkey.Store) {
	a := enabledAdmin(t, s, "a@example.com")
	wantErr(t, "DeleteUser only admin", s.DeleteUser(t.Context(), a.ID), latchkey.ErrLastGlobalAdmin)
	b := enabledAdmin(t, s, "b@example.com")
	must(t, "DeleteUser a", s.DeleteUser(t.Context(), a.ID))
	wantErr(t, "DeleteUser b", s.DeleteUser(t.Context(), b.ID), latchkey.ErrLastGlobalAdmin)
}

// testRemoveRoleLastAdmin: taking globalAdmin from the last enabled global admin is refused and
// changes nothing; with a second one it goes, and then the second keeps theirs. The last admin's
// other roles are not guarded.
func testRemoveRoleLastAdmin(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	a := enabledAdmin(t, s, "a@example.com")
	wantErr(t, "RemoveRole only admin", s.RemoveRole(ctx, a.ID, latchkey.RoleGlobalAdmin, ""), latchkey.ErrLastGlobalAdmin)
	if u, err := s.FindUserByID(ctx, a.ID); err != nil || !slices.Contains(u.Roles, latchkey.RoleGlobalAdmin) {
		t.Errorf("last admin after the refusal: %v, %v; want still globalAdmin", u, err)
	}
	b := enabledAdmin(t, s, "b@example.com")
	must(t, "RemoveRole a", s.RemoveRole(ctx, a.ID, latchkey.RoleGlobalAdmin, ""))
	wantErr(t, "RemoveRole b", s.RemoveRole(ctx, b.ID, latchkey.RoleGlobalAdmin, ""), latchkey.ErrLastGlobalAdmin)
	mustAssign(t, s, b.ID, latchkey.RoleReportsReader, "")
	must(t, "RemoveRole another role of the last admin", s.RemoveRole(ctx, b.ID, latchkey.RoleReportsReader, ""))
}

func testDeleteUserCascade(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	d := NewUserDeletion(t, s) // Gone is a global admin, but not enabled: not the last one.
	g := mustCreateGroup(t, s, "Staff")
	must(t, "AddGroupMember", s.AddGroupMember(ctx, g.ID, d.Gone.ID))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, g.ID, d.Stays.ID))
	c := mustCreateClient(t, s, "Payroll")
	far := t0.Add(24 * time.Hour)
	sess := mustCreateSession(t, s, d.Gone.ID, far)
	tok := mustCreateRefreshToken(t, s, c.ID, d.Gone.ID, far)
	mustCreatePasskey(t, s, d.Gone.ID, t0)
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(ctx, newAccessPass(d.Gone.ID)))
	must(t, "RecordSignIn", s.RecordSignIn(ctx, &latchkey.SignInEvent{UserID: d.Gone.ID, UPN: d.Gone.UserPrincipalName,
		Method: latchkey.MethodPasskey, Result: latchkey.SignInSuccess, CreatedAt: t0}))

	must(t, "DeleteUser", s.DeleteUser(ctx, d.Gone.ID))
	CheckUserDeletion(t, s, d)
	_, err := s.FindUserByID(ctx, d.Gone.ID)
	wantErr(t, "FindUserByID deleted", err, latchkey.ErrNotFound)
	_, err = s.FindSession(ctx, sess.ID, t0)
	wantErr(t, "FindSession", err, latchkey.ErrNotFound)
	_, err = s.FindRefreshToken(ctx, tok.ID, t0)
	wantErr(t, "FindRefreshToken", err, latchkey.ErrNotFound)
	_, err = s.FindAccessPassByUser(ctx, d.Gone.ID)
	wantErr(t, "FindAccessPassByUser", err, latchkey.ErrNotFound)
	if pks, err := s.ListPasskeysByUser(ctx, d.Gone.ID); err != nil || len(pks) != 0 {
		t.Errorf("passkeys after delete = %d, %v; want none", len(pks), err)
	}
	members, err := s.ListGroupMembers(ctx, g.ID)
	must(t, "ListGroupMembers", err)
	if len(members) != 1 || members[0].ID != d.Stays.ID {
		t.Errorf("group members after delete = %d, want only the other person", len(members))
	}
	events, err := s.ListSignIns(ctx, d.Gone.ID, 10)
	must(t, "ListSignIns", err)
	if len(events) != 1 || events[0].UPN != d.Gone.UserPrincipalName {
		t.Errorf("sign-in events after delete = %+v, want the one kept with the old UPN", events)
	}
	// A new person with the same name is someone else.
	again := mustCreateUser(t, s, d.Gone.UserPrincipalName)
	if again.ID == d.Gone.ID {
		t.Errorf("new user with a deleted user's UPN got the old id")
	}
}

func testRenameGroup(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := mustCreateGroup(t, s, "Staff")
	mustCreateGroup(t, s, "Finance")
	must(t, "RenameGroup", s.RenameGroup(ctx, g.ID, "Everyone"))
	got, err := s.FindGroupByName(ctx, "everyone")
	must(t, "FindGroupByName", err)
	if got.ID != g.ID || got.DisplayName != "Everyone" {
		t.Errorf("group after rename = %+v", got)
	}
	_, err = s.FindGroupByName(ctx, "Staff")
	wantErr(t, "FindGroupByName old name", err, latchkey.ErrNotFound)
	wantErr(t, "RenameGroup taken", s.RenameGroup(ctx, g.ID, "FINANCE"), latchkey.ErrConflict)
	wantErr(t, "RenameGroup unknown", s.RenameGroup(ctx, latchkey.NewID(), "X"), latchkey.ErrNotFound)
}

func testDeleteGroup(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	g := mustCreateGroup(t, s, "Staff")
	u := mustCreateUser(t, s, "alice@example.com")
	must(t, "AddGroupMember", s.AddGroupMember(ctx, g.ID, u.ID))
	must(t, "DeleteGroup", s.DeleteGroup(ctx, g.ID))
	_, err := s.FindGroupByID(ctx, g.ID)
	wantErr(t, "FindGroupByID", err, latchkey.ErrNotFound)
	if gs, err := s.ListUserGroups(ctx, u.ID); err != nil || len(gs) != 0 {
		t.Errorf("groups of the member after delete = %d, %v; want none", len(gs), err)
	}
	wantErr(t, "DeleteGroup again", s.DeleteGroup(ctx, g.ID), latchkey.ErrNotFound)
	mustCreateGroup(t, s, "staff")
}

// testRaceLastAdmin disables and deletes, at once, each of several enabled global admins: at
// most all but one may succeed, whatever the order, and one stays enabled.
func testRaceLastAdmin(t *testing.T, s latchkey.Store) {
	raceLastAdmin(t, s, s)
}

// raceLastAdmin stores racers admins through a and, all at once, disables a third of them
// (through a), deletes a third (through b) and takes globalAdmin from the rest (through a):
// exactly one request is refused, and one enabled global admin remains.
func raceLastAdmin(t *testing.T, a, b latchkey.Store) {
	ctx := t.Context()
	admins := make([]*latchkey.User, racers)
	for i := range admins {
		admins[i] = enabledAdmin(t, a, "admin"+string(rune('a'+i))+"@example.com")
	}
	errs := race(func(i int) error {
		switch i % 3 {
		case 0:
			_, err := a.DisableUser(ctx, admins[i].ID)
			return err
		case 1:
			return b.DeleteUser(ctx, admins[i].ID)
		}
		return a.RemoveRole(ctx, admins[i].ID, latchkey.RoleGlobalAdmin, "")
	})
	refused := 0
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, latchkey.ErrLastGlobalAdmin):
			refused++
		default:
			t.Errorf("goroutine %d: err = %v, want nil or ErrLastGlobalAdmin", i, err)
		}
	}
	if refused != 1 {
		t.Errorf("%d of %d refused as the last admin, want exactly 1", refused, racers)
	}
	users, err := a.ListUsers(ctx)
	must(t, "ListUsers", err)
	enabled := 0
	for _, u := range users {
		if u.Enabled && slices.Contains(u.Roles, latchkey.RoleGlobalAdmin) {
			enabled++
		}
	}
	if enabled != 1 {
		t.Errorf("%d enabled global admins left, want 1", enabled)
	}
}
