package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var accessPassTests = []test{
	{"ReplaceAccessPass/RoundTrip", testReplaceAccessPassRoundTrip},
	{"ReplaceAccessPass/OnePerUser", testReplaceAccessPassOnePerUser},
	{"FindAccessPassByUser/NotFound", testFindAccessPassNotFound},
	{"MarkAccessPassUsed", testMarkAccessPassUsed},
	{"DeleteAccessPass", testDeleteAccessPass},
}

func newAccessPass(userID string) *latchkey.AccessPass {
	return &latchkey.AccessPass{
		ID:              latchkey.NewID(),
		UserID:          userID,
		Hash:            "$argon2id$v=19$m=65536,t=3,p=4$" + latchkey.NewID(),
		CreatedAt:       t0,
		StartAt:         t0.Add(time.Minute),
		LifetimeMinutes: 60,
		OneTime:         true,
		CreatedBy:       "admin@example.com",
	}
}

func mustReplaceAccessPass(t *testing.T, s latchkey.Store, userID string) *latchkey.AccessPass {
	t.Helper()
	p := newAccessPass(userID)
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(t.Context(), p))
	return p
}

func findAccessPass(t *testing.T, s latchkey.Store, userID string) *latchkey.AccessPass {
	t.Helper()
	p, err := s.FindAccessPassByUser(t.Context(), userID)
	must(t, "FindAccessPassByUser", err)
	return p
}

func testReplaceAccessPassRoundTrip(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p := newAccessPass(alice.ID)
	want := *p
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(ctx, p))
	unchanged(t, "ReplaceAccessPass argument", p, &want)
	diff(t, "FindAccessPassByUser", findAccessPass(t, s, alice.ID), &want)

	// A reusable pass, already used, with no creator recorded.
	used := t0.Add(2 * time.Minute)
	q := &latchkey.AccessPass{ID: latchkey.NewID(), UserID: bob.ID, Hash: "h", CreatedAt: t0, StartAt: t0, LifetimeMinutes: 480, UsedAt: &used}
	must(t, "ReplaceAccessPass reusable", s.ReplaceAccessPass(ctx, q))
	diff(t, "FindAccessPassByUser reusable", findAccessPass(t, s, bob.ID), q)
}

func testReplaceAccessPassOnePerUser(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	first := mustReplaceAccessPass(t, s, alice.ID)
	bobs := mustReplaceAccessPass(t, s, bob.ID)

	second := newAccessPass(alice.ID)
	second.OneTime, second.LifetimeMinutes, second.CreatedAt = false, 30, t0.Add(time.Hour)
	must(t, "ReplaceAccessPass again", s.ReplaceAccessPass(ctx, second))
	diff(t, "FindAccessPassByUser after replace", findAccessPass(t, s, alice.ID), second)
	diff(t, "other user's pass untouched", findAccessPass(t, s, bob.ID), bobs)

	// The first pass is gone, so it cannot be redeemed.
	wantErr(t, "MarkAccessPassUsed replaced pass", s.MarkAccessPassUsed(ctx, first.ID, t0), latchkey.ErrNotFound)
	diff(t, "FindAccessPassByUser after redeeming the replaced pass", findAccessPass(t, s, alice.ID), second)
}

func testFindAccessPassNotFound(t *testing.T, s latchkey.Store) {
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	mustReplaceAccessPass(t, s, alice.ID)
	_, err := s.FindAccessPassByUser(t.Context(), bob.ID)
	wantErr(t, "FindAccessPassByUser without pass", err, latchkey.ErrNotFound)
	_, err = s.FindAccessPassByUser(t.Context(), latchkey.NewID())
	wantErr(t, "FindAccessPassByUser unknown user", err, latchkey.ErrNotFound)
}

func testMarkAccessPassUsed(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p := mustReplaceAccessPass(t, s, alice.ID)
	bobs := mustReplaceAccessPass(t, s, bob.ID)

	at := t0.Add(5 * time.Minute)
	must(t, "MarkAccessPassUsed", s.MarkAccessPassUsed(ctx, p.ID, at))
	want := *p
	want.UsedAt = &at
	diff(t, "pass after use", findAccessPass(t, s, alice.ID), &want)

	wantErr(t, "MarkAccessPassUsed again", s.MarkAccessPassUsed(ctx, p.ID, t0.Add(6*time.Minute)), latchkey.ErrConflict)
	diff(t, "pass after second use", findAccessPass(t, s, alice.ID), &want)
	diff(t, "other user's pass untouched", findAccessPass(t, s, bob.ID), bobs)

	wantErr(t, "MarkAccessPassUsed unknown", s.MarkAccessPassUsed(ctx, latchkey.NewID(), at), latchkey.ErrNotFound)
}

func testDeleteAccessPass(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	mustReplaceAccessPass(t, s, alice.ID)
	bobs := mustReplaceAccessPass(t, s, bob.ID)

	must(t, "DeleteAccessPass", s.DeleteAccessPass(ctx, alice.ID))
	_, err := s.FindAccessPassByUser(ctx, alice.ID)
	wantErr(t, "FindAccessPassByUser after delete", err, latchkey.ErrNotFound)
	must(t, "DeleteAccessPass when there is none", s.DeleteAccessPass(ctx, alice.ID))
	diff(t, "other user's pass untouched", findAccessPass(t, s, bob.ID), bobs)

	// A new pass may be issued after deletion.
	p := mustReplaceAccessPass(t, s, alice.ID)
	diff(t, "FindAccessPassByUser after reissue", findAccessPass(t, s, alice.ID), p)
}
