package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var passkeyTests = []test{
	{"CreatePasskey/RoundTrip", testCreatePasskeyRoundTrip},
	{"CreatePasskey/AssignsIDAndCreatedAt", testCreatePasskeyAssigns},
	{"CreatePasskey/CredentialIDConflict", testCreatePasskeyConflict},
	{"FindPasskey/NotFound", testFindPasskeyNotFound},
	{"ListPasskeysByUser", testListPasskeysByUser},
	{"RenamePasskey", testRenamePasskey},
	{"DeletePasskey", testDeletePasskey},
	{"PasskeyUse", testPasskeyUse},
	{"PasskeyUse/ZeroCounter", testPasskeyUseZero},
	{"PasskeyUse/LargeCounter", testPasskeyUseLarge},
	{"FlagPasskeyPossibleClone", testFlagPasskeyPossibleClone},
	{"FindPasskeyForSignIn", testFindPasskeyForSignIn},
}

func testFindPasskeyForSignIn(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	bob := mustCreateUser(t, s, "bob@example.com")
	p := newPasskey(bob.ID, t0)
	used := t0.Add(time.Hour)
	p.LastUsedAt, p.LastUsedPlatform, p.SignCount = &used, "iOS", 7
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	must(t, "CreatePasskey alice", s.CreatePasskey(ctx, newPasskey(alice.ID, t0)))
	admins := &latchkey.Group{DisplayName: "Admins"}
	staff := &latchkey.Group{DisplayName: "Staff"}
	must(t, "CreateGroup", s.CreateGroup(ctx, admins))
	must(t, "CreateGroup", s.CreateGroup(ctx, staff))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, admins.ID, bob.ID))
	must(t, "AddGroupMember", s.AddGroupMember(ctx, staff.ID, bob.ID))
	must(t, "AddGroupMember alice", s.AddGroupMember(ctx, staff.ID, alice.ID))
	putSetting(t, s, "policy", []byte(`{"p":1}`))

	got, err := s.FindPasskeyForSignIn(ctx, p.CredentialID, "policy", "missing")
	must(t, "FindPasskeyForSignIn", err)
	wantP := findPasskey(t, s, p.ID)
	wantP.AttestationObject, wantP.ClientDataJSON = nil, nil // not read for a sign-in
	diff(t, "FindPasskeyForSignIn passkey", got.Passkey, wantP)
	wantU, err := s.FindUserByID(ctx, bob.ID)
	must(t, "FindUserByID", err)
	diff(t, "FindPasskeyForSignIn user", got.User, wantU)
	groups := slices.Clone(got.GroupIDs)
	slices.Sort(groups)
	want := []string{admins.ID, staff.ID}
	slices.Sort(want)
	diff(t, "FindPasskeyForSignIn groups", groups, want)
	diff(t, "FindPasskeyForSignIn settings", got.Settings, map[string][]byte{"policy": []byte(`{"p":1}`)})

	// No groups and no settings asked for.
	got, err = s.FindPasskeyForSignIn(ctx, newPasskeyCredential(t, s, mustCreateUser(t, s, "carol@example.com")))
	must(t, "FindPasskeyForSignIn carol", err)
	if got.GroupIDs == nil || len(got.GroupIDs) != 0 || len(got.Settings) != 0 {
		t.Errorf("FindPasskeyForSignIn carol = groups %#v settings %#v, want empty", got.GroupIDs, got.Settings)
	}
	_, err = s.FindPasskeyForSignIn(ctx, []byte("no such credential"), "policy")
	wantErr(t, "FindPasskeyForSignIn unknown", err, latchkey.ErrNotFound)
}

// newPasskeyCredential stores a passkey for u and returns its credential id.
func newPasskeyCredential(t *testing.T, s latchkey.Store, u *latchkey.User) []byte {
	t.Helper()
	p := newPasskey(u.ID, t0)
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	return p.CredentialID
}

func findPasskey(t *testing.T, s latchkey.Store, id string) *latchkey.Passkey {
	t.Helper()
	p, err := s.FindPasskeyByID(t.Context(), id)
	must(t, "FindPasskeyByID", err)
	return p
}

func testCreatePasskeyRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")

	// Every field set, including those normally set only by later updates.
	p := newPasskey(u.ID, t0)
	used := t0.Add(90 * time.Minute)
	p.LastUsedAt, p.LastUsedPlatform, p.PossibleClone, p.SignCount = &used, "macOS", true, 4_000_000_000
	want := *p
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	unchanged(t, "CreatePasskey argument", p, &want)
	diff(t, "FindPasskeyByID", findPasskey(t, s, p.ID), &want)

	// Every optional field empty.
	q := &latchkey.Passkey{
		ID:                latchkey.NewID(),
		UserID:            u.ID,
		CredentialID:      []byte{0x00},
		PublicKey:         []byte{0x01, 0x02},
		AttestationFormat: "none",
		AttestationTrust:  latchkey.AttestationNone,
		Kind:              latchkey.KindDeviceBound,
		CreatedAt:         t0.Add(time.Second),
	}
	must(t, "CreatePasskey minimal", s.CreatePasskey(ctx, q))
	diff(t, "FindPasskeyByID minimal", findPasskey(t, s, q.ID), q)
}

func testCreatePasskeyAssigns(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, time.Time{})
	p.ID = ""
	before := time.Now()
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	after := time.Now()
	checkAssigned(t, "CreatePasskey", p.ID, p.CreatedAt, before, after)
	diff(t, "FindPasskeyByID", findPasskey(t, s, p.ID), p)
}

func testCreatePasskeyConflict(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p := mustCreatePasskey(t, s, alice.ID, t0)

	// The same credential ID, even for another user, is refused.
	q := newPasskey(bob.ID, t0)
	q.CredentialID = append([]byte(nil), p.CredentialID...)
	wantErr(t, "CreatePasskey same credential ID", s.CreatePasskey(ctx, q), latchkey.ErrConflict)
	_, err := s.FindPasskeyByID(ctx, q.ID)
	wantErr(t, "FindPasskeyByID refused passkey", err, latchkey.ErrNotFound)

	diff(t, "FindPasskeyByID keeps the first", findPasskey(t, s, p.ID), p)

	// A credential ID that differs only in its last byte is another credential.
	r := newPasskey(bob.ID, t0)
	r.CredentialID = append([]byte(nil), p.CredentialID...)
	r.CredentialID[len(r.CredentialID)-1] ^= 0x01
	must(t, "CreatePasskey other credential ID", s.CreatePasskey(ctx, r))
}

func testFindPasskeyNotFound(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := mustCreatePasskey(t, s, u.ID, t0)
	_, err := s.FindPasskeyByID(ctx, latchkey.NewID())
	wantErr(t, "FindPasskeyByID unknown", err, latchkey.ErrNotFound)
	_, err = s.FindPasskeyForSignIn(ctx, randomBytes(32))
	wantErr(t, "FindPasskeyForSignIn unknown", err, latchkey.ErrNotFound)
	_, err = s.FindPasskeyForSignIn(ctx, p.CredentialID[:16])
	wantErr(t, "FindPasskeyForSignIn prefix", err, latchkey.ErrNotFound)
}

func testListPasskeysByUser(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob, carol := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com"), mustCreateUser(t, s, "carol@example.com")
	// Created out of order, with IDs in yet another order, listed oldest first.
	create := func(userID, id string, createdAt time.Time) *latchkey.Passkey {
		p := newPasskey(userID, createdAt)
		p.ID = id
		must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
		return p
	}
	p3 := create(alice.ID, "00000000-0000-4000-8000-000000000001", t0.Add(2*time.Hour))
	p1 := create(alice.ID, "00000000-0000-4000-8000-000000000003", t0)
	b1 := create(bob.ID, "00000000-0000-4000-8000-000000000004", t0.Add(time.Minute))
	p2 := create(alice.ID, "00000000-0000-4000-8000-000000000002", t0.Add(time.Hour))

	got, err := s.ListPasskeysByUser(ctx, alice.ID)
	must(t, "ListPasskeysByUser alice", err)
	diff(t, "ListPasskeysByUser alice", got, []*latchkey.Passkey{p1, p2, p3})
	got, err = s.ListPasskeysByUser(ctx, bob.ID)
	must(t, "ListPasskeysByUser bob", err)
	diff(t, "ListPasskeysByUser bob", got, []*latchkey.Passkey{b1})
	got, err = s.ListPasskeysByUser(ctx, carol.ID)
	must(t, "ListPasskeysByUser carol", err)
	if len(got) != 0 {
		t.Errorf("ListPasskeysByUser for a user without passkeys returned %d", len(got))
	}
}

func testRenamePasskey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p := mustCreatePasskey(t, s, alice.ID, t0)

	wantErr(t, "RenamePasskey by another user", s.RenamePasskey(ctx, bob.ID, p.ID, "Stolen"), latchkey.ErrNotFound)
	diff(t, "passkey after refused rename", findPasskey(t, s, p.ID), p)
	wantErr(t, "RenamePasskey unknown", s.RenamePasskey(ctx, alice.ID, latchkey.NewID(), "X"), latchkey.ErrNotFound)

	must(t, "RenamePasskey", s.RenamePasskey(ctx, alice.ID, p.ID, "Work YubiKey 5C"))
	want := *p
	want.Nickname = "Work YubiKey 5C"
	diff(t, "passkey after rename", findPasskey(t, s, p.ID), &want)

	must(t, "RenamePasskey to empty", s.RenamePasskey(ctx, alice.ID, p.ID, ""))
	want.Nickname = ""
	diff(t, "passkey after rename to empty", findPasskey(t, s, p.ID), &want)
}

func testDeletePasskey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p := mustCreatePasskey(t, s, alice.ID, t0)
	q := mustCreatePasskey(t, s, alice.ID, t0.Add(time.Minute))

	wantErr(t, "DeletePasskey by another user", s.DeletePasskey(ctx, bob.ID, p.ID), latchkey.ErrNotFound)
	diff(t, "passkey after refused delete", findPasskey(t, s, p.ID), p)

	must(t, "DeletePasskey", s.DeletePasskey(ctx, alice.ID, p.ID))
	_, err := s.FindPasskeyByID(ctx, p.ID)
	wantErr(t, "FindPasskeyByID deleted", err, latchkey.ErrNotFound)
	_, err = s.FindPasskeyForSignIn(ctx, p.CredentialID)
	wantErr(t, "FindPasskeyForSignIn deleted", err, latchkey.ErrNotFound)
	wantErr(t, "DeletePasskey again", s.DeletePasskey(ctx, alice.ID, p.ID), latchkey.ErrNotFound)

	got, err := s.ListPasskeysByUser(ctx, alice.ID)
	must(t, "ListPasskeysByUser", err)
	diff(t, "ListPasskeysByUser after delete", got, []*latchkey.Passkey{q})

	// The credential ID may be registered again once deleted.
	r := newPasskey(alice.ID, t0)
	r.CredentialID = p.CredentialID
	must(t, "CreatePasskey with a deleted credential ID", s.CreatePasskey(ctx, r))
}

func testPasskeyUse(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 5
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	other := mustCreatePasskey(t, s, u.ID, t0)

	want := *p
	used := t0.Add(time.Hour)
	must(t, "recordUse 5→6", recordUse(ctx, s, p, 6, used, "Windows"))
	want.SignCount, want.LastUsedAt, want.LastUsedPlatform = 6, &used, "Windows"
	diff(t, "passkey after use", findPasskey(t, s, p.ID), &want)

	// Equal or lower counts change nothing.
	for _, n := range []uint32{6, 3, 0} {
		err := recordUse(ctx, s, p, n, t0.Add(2*time.Hour), "Android")
		wantErr(t, "recordUse to a count not above 6", err, latchkey.ErrConflict)
		diff(t, "passkey after refused use", findPasskey(t, s, p.ID), &want)
	}

	// A jump is fine.
	used2 := t0.Add(3 * time.Hour)
	must(t, "recordUse 6→100", recordUse(ctx, s, p, 100, used2, "iOS"))
	want.SignCount, want.LastUsedAt, want.LastUsedPlatform = 100, &used2, "iOS"
	diff(t, "passkey after second use", findPasskey(t, s, p.ID), &want)

	diff(t, "other passkey untouched", findPasskey(t, s, other.ID), other)
}

func testPasskeyUseZero(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 0
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	want := *p

	// Authenticators without a counter always send zero.
	for i := range 2 {
		used := t0.Add(time.Duration(i+1) * time.Hour)
		must(t, "recordUse 0→0", recordUse(ctx, s, p, 0, used, "Linux"))
		want.LastUsedAt, want.LastUsedPlatform = &used, "Linux"
		diff(t, "passkey after 0→0", findPasskey(t, s, p.ID), &want)
	}

	// One that starts counting may, but then it cannot go back to zero.
	used := t0.Add(5 * time.Hour)
	must(t, "recordUse 0→1", recordUse(ctx, s, p, 1, used, "Linux"))
	want.SignCount, want.LastUsedAt = 1, &used
	wantErr(t, "recordUse 1→0", recordUse(ctx, s, p, 0, t0.Add(6*time.Hour), "Linux"), latchkey.ErrConflict)
	diff(t, "passkey after refused 1→0", findPasskey(t, s, p.ID), &want)
}

func testPasskeyUseLarge(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 1<<32 - 2
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	must(t, "recordUse to the largest count", recordUse(ctx, s, p, 1<<32-1, t0, "Linux"))
	if got := findPasskey(t, s, p.ID).SignCount; got != 1<<32-1 {
		t.Errorf("SignCount = %d, want %d", got, uint32(1<<32-1))
	}
	wantErr(t, "recordUse below the largest count", recordUse(ctx, s, p, 1<<31, t0, "Linux"), latchkey.ErrConflict)
}

func testFlagPasskeyPossibleClone(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := mustCreatePasskey(t, s, u.ID, t0)
	other := mustCreatePasskey(t, s, u.ID, t0)
	if p.PossibleClone {
		t.Fatal("fixture already flagged")
	}
	must(t, "FlagPasskeyPossibleClone", s.FlagPasskeyPossibleClone(ctx, p.ID))
	want := *p
	want.PossibleClone = true
	diff(t, "passkey after flag", findPasskey(t, s, p.ID), &want)
	must(t, "FlagPasskeyPossibleClone again", s.FlagPasskeyPossibleClone(ctx, p.ID))
	diff(t, "passkey after second flag", findPasskey(t, s, p.ID), &want)
	diff(t, "other passkey untouched", findPasskey(t, s, other.ID), other)
	wantErr(t, "FlagPasskeyPossibleClone unknown", s.FlagPasskeyPossibleClone(ctx, latchkey.NewID()), latchkey.ErrNotFound)
}

// recordUse records a use of passkey p moving its sign count to count, at `at` from platform,
// as a sign-in does: CompletePasskeySignIn with a fresh challenge, session and event.
func recordUse(ctx context.Context, s latchkey.Store, p *latchkey.Passkey, count uint32, at time.Time, platform string) error {
	c := newPasskeySignIn(p, count)
	c.UsedAt, c.Platform = at, platform
	c.Session.CreatedAt, c.Session.AuthenticatedAt, c.Session.ExpiresAt = at, at, at.Add(8*time.Hour)
	c.Event.CreatedAt = at
	return s.CompletePasskeySignIn(ctx, c)
}
