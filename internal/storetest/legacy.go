package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var legacyTests = []test{
	{"LegacyCredentials/NoneYet", testLegacyNone},
	{"LegacyCredentials/Password", testLegacyPassword},
	{"LegacyCredentials/TOTPLifecycle", testLegacyTOTPLifecycle},
	{"LegacyCredentials/AdvanceTOTPStep", testLegacyAdvanceTOTPStep},
	{"LegacyCredentials/SnoozeNudge", testLegacySnoozeNudge},
	{"LegacyCredentials/UnknownUser", testLegacyUnknownUser},
}

var legacyConcurrencyTests = []test{
	{"AdvanceTOTPStep", testRaceAdvanceTOTPStep},
}

func findLegacy(t *testing.T, s latchkey.Store, userID string) *latchkey.LegacyCredentials {
	t.Helper()
	c, err := s.FindLegacyCredentials(t.Context(), userID)
	must(t, "FindLegacyCredentials", err)
	return c
}

func testLegacyNone(t *testing.T, s latchkey.Store) {
	alice := mustCreateUser(t, s, "alice@example.com")
	diff(t, "FindLegacyCredentials without any", findLegacy(t, s, alice.ID), &latchkey.LegacyCredentials{UserID: alice.ID})
	diff(t, "FindLegacyCredentials unknown user", findLegacy(t, s, "nobody"), &latchkey.LegacyCredentials{UserID: "nobody"})
}

func testLegacyPassword(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	must(t, "SetPassword", s.SetPassword(ctx, alice.ID, "$argon2id$v=19$m=19456,t=2,p=1$first", t0))
	at := t0
	diff(t, "after SetPassword", findLegacy(t, s, alice.ID), &latchkey.LegacyCredentials{UserID: alice.ID,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$first", PasswordSetAt: &at})

	// Replacing keeps the other columns.
	_, err := s.SnoozeNudge(ctx, alice.ID)
	must(t, "SnoozeNudge", err)
	later := t0.Add(time.Hour)
	must(t, "SetPassword again", s.SetPassword(ctx, alice.ID, "second", later))
	diff(t, "after second SetPassword", findLegacy(t, s, alice.ID), &latchkey.LegacyCredentials{UserID: alice.ID,
		PasswordHash: "second", PasswordSetAt: &later, NudgeSnoozes: 1})
	diff(t, "other user untouched", findLegacy(t, s, bob.ID), &latchkey.LegacyCredentials{UserID: bob.ID})

	must(t, "DeletePassword", s.DeletePassword(ctx, alice.ID))
	diff(t, "after DeletePassword", findLegacy(t, s, alice.ID), &latchkey.LegacyCredentials{UserID: alice.ID, NudgeSnoozes: 1})
	must(t, "DeletePassword when there is none", s.DeletePassword(ctx, bob.ID))
}

func testLegacyTOTPLifecycle(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	must(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, alice.ID, "FIRSTSECRET"))
	got := findLegacy(t, s, alice.ID)
	diff(t, "pending", got, &latchkey.LegacyCredentials{UserID: alice.ID, TOTPSecret: "FIRSTSECRET"})
	if got.HasTOTP() {
		t.Error("HasTOTP of an unconfirmed secret = true, want false")
	}
	// A new pending secret replaces an unconfirmed one; the old one can no longer be confirmed.
	must(t, "SetPendingTOTP again", s.SetPendingTOTP(ctx, alice.ID, "SECONDSECRET"))
	wantErr(t, "ConfirmTOTP replaced secret", s.ConfirmTOTP(ctx, alice.ID, "FIRSTSECRET", 100), latchkey.ErrConflict)
	wantErr(t, "AdvanceTOTPStep unconfirmed", s.AdvanceTOTPStep(ctx, alice.ID, 100), latchkey.ErrNotFound)

	must(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, alice.ID, "SECONDSECRET", 100))
	got = findLegacy(t, s, alice.ID)
	diff(t, "confirmed", got, &latchkey.LegacyCredentials{UserID: alice.ID, TOTPSecret: "SECONDSECRET", TOTPConfirmed: true, TOTPLastStep: 100})
	if !got.HasTOTP() {
		t.Error("HasTOTP of a confirmed secret = false, want true")
	}
	wantErr(t, "ConfirmTOTP twice", s.ConfirmTOTP(ctx, alice.ID, "SECONDSECRET", 101), latchkey.ErrConflict)
	wantErr(t, "SetPendingTOTP over a confirmed one", s.SetPendingTOTP(ctx, alice.ID, "THIRD"), latchkey.ErrConflict)
	diff(t, "confirmed after refusals", findLegacy(t, s, alice.ID), got)

	must(t, "DeleteTOTP", s.DeleteTOTP(ctx, alice.ID))
	diff(t, "after DeleteTOTP", findLegacy(t, s, alice.ID), &latchkey.LegacyCredentials{UserID: alice.ID})
	must(t, "SetPendingTOTP after removal", s.SetPendingTOTP(ctx, alice.ID, "THIRD"))
}

func testLegacyAdvanceTOTPStep(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	wantErr(t, "AdvanceTOTPStep without authenticator", s.AdvanceTOTPStep(ctx, alice.ID, 1), latchkey.ErrNotFound)
	must(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, alice.ID, "SECRET"))
	must(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, alice.ID, "SECRET", 1000))
	wantErr(t, "AdvanceTOTPStep same step as confirmation", s.AdvanceTOTPStep(ctx, alice.ID, 1000), latchkey.ErrConflict)
	must(t, "AdvanceTOTPStep later", s.AdvanceTOTPStep(ctx, alice.ID, 1001))
	wantErr(t, "AdvanceTOTPStep same step", s.AdvanceTOTPStep(ctx, alice.ID, 1001), latchkey.ErrConflict)
	wantErr(t, "AdvanceTOTPStep earlier step", s.AdvanceTOTPStep(ctx, alice.ID, 999), latchkey.ErrConflict)
	must(t, "AdvanceTOTPStep skipping ahead", s.AdvanceTOTPStep(ctx, alice.ID, 1_777_000_000/30))
	if got := findLegacy(t, s, alice.ID).TOTPLastStep; got != 1_777_000_000/30 {
		t.Errorf("TOTPLastStep = %d, want %d", got, 1_777_000_000/30)
	}
}

func testLegacySnoozeNudge(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	for want := 1; want <= 3; want++ {
		n, err := s.SnoozeNudge(ctx, alice.ID)
		must(t, "SnoozeNudge", err)
		if n != want {
			t.Errorf("SnoozeNudge = %d, want %d", n, want)
		}
	}
	must(t, "SetPassword", s.SetPassword(ctx, alice.ID, "h", t0))
	if got := findLegacy(t, s, alice.ID).NudgeSnoozes; got != 3 {
		t.Errorf("NudgeSnoozes after SetPassword = %d, want 3", got)
	}
	if got := findLegacy(t, s, bob.ID).NudgeSnoozes; got != 0 {
		t.Errorf("other user's NudgeSnoozes = %d, want 0", got)
	}
}

func testLegacyUnknownUser(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	id := latchkey.NewID()
	wantErr(t, "SetPassword unknown user", s.SetPassword(ctx, id, "h", t0), latchkey.ErrNotFound)
	wantErr(t, "SetPendingTOTP unknown user", s.SetPendingTOTP(ctx, id, "S"), latchkey.ErrNotFound)
	_, err := s.SnoozeNudge(ctx, id)
	wantErr(t, "SnoozeNudge unknown user", err, latchkey.ErrNotFound)
	wantErr(t, "ConfirmTOTP unknown user", s.ConfirmTOTP(ctx, id, "S", 1), latchkey.ErrConflict)
	wantErr(t, "AdvanceTOTPStep unknown user", s.AdvanceTOTPStep(ctx, id, 1), latchkey.ErrNotFound)
	must(t, "DeletePassword unknown user", s.DeletePassword(ctx, id))
	must(t, "DeleteTOTP unknown user", s.DeleteTOTP(ctx, id))
}

// testRaceAdvanceTOTPStep submits one code (one time step) from racers goroutines at once:
// exactly one is accepted, the others are refused as a replay.
func testRaceAdvanceTOTPStep(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	must(t, "SetPendingTOTP", s.SetPendingTOTP(ctx, alice.ID, "SECRET"))
	must(t, "ConfirmTOTP", s.ConfirmTOTP(ctx, alice.ID, "SECRET", 59_000_000))
	errs := race(func(int) error { return s.AdvanceTOTPStep(ctx, alice.ID, 59_000_001) })
	checkOneWinner(t, "AdvanceTOTPStep", errs, latchkey.ErrConflict)
	if got := findLegacy(t, s, alice.ID).TOTPLastStep; got != 59_000_001 {
		t.Errorf("TOTPLastStep after race = %d, want 59000001", got)
	}
}
