package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var signInTests = []test{
	{"CompletePasskeySignIn", testCompletePasskeySignIn},
	{"CompletePasskeySignIn/AssignsEventIDAndCreatedAt", testCompletePasskeySignInAssigns},
	{"CompletePasskeySignIn/ChallengeUsed", testCompletePasskeySignInChallengeUsed},
	{"CompletePasskeySignIn/CounterRefused", testCompletePasskeySignInCounterRefused},
	{"CompletePasskeySignIn/ZeroCounter", testCompletePasskeySignInZeroCounter},
	{"CompletePasskeySignIn/UnknownPasskey", testCompletePasskeySignInUnknownPasskey},
	{"CompletePasskeySignIn/LaterFailureRollsBack", testCompletePasskeySignInRollsBack},
	{"DeleteExpiredChallenges/UsedChallenges", testDeleteExpiredUsedChallenges},
}

// newPasskeySignIn returns what a sign-in with passkey p and the given count writes, an hour
// after t0, with a fresh challenge, session and event.
func newPasskeySignIn(p *latchkey.Passkey, count uint32) *latchkey.PasskeySignIn {
	at := t0.Add(time.Hour)
	sess := newSession(p.UserID, at.Add(8*time.Hour))
	sess.PasskeyID, sess.CreatedAt, sess.AuthenticatedAt = p.ID, at, at
	e := newSignIn(p.UserID, at)
	e.PasskeyID = p.ID
	return &latchkey.PasskeySignIn{
		ChallengeID:        latchkey.NewID(),
		ChallengeExpiresAt: at.Add(5 * time.Minute),
		PasskeyID:          p.ID,
		SignCount:          count,
		UsedAt:             at,
		Platform:           "Windows",
		Session:            sess,
		Event:              e,
	}
}

// afterSignIn returns p as c leaves it.
func afterSignIn(p *latchkey.Passkey, c *latchkey.PasskeySignIn) *latchkey.Passkey {
	want := *p
	used := c.UsedAt
	want.SignCount, want.LastUsedAt, want.LastUsedPlatform = c.SignCount, &used, c.Platform
	return &want
}

// checkSignInStored reports unless c's session and event are in the store as given.
func checkSignInStored(t *testing.T, s latchkey.Store, c *latchkey.PasskeySignIn) {
	t.Helper()
	got, err := s.FindSession(t.Context(), c.Session.ID, c.UsedAt)
	if err != nil {
		t.Errorf("FindSession of the sign-in's session: %v", err)
	} else {
		diff(t, "session of the sign-in", got, c.Session)
	}
	events, err := s.ListSignIns(t.Context(), c.Event.UserID, 0)
	must(t, "ListSignIns", err)
	for _, e := range events {
		if e.ID == c.Event.ID {
			diff(t, "event of the sign-in", e, c.Event)
			return
		}
	}
	t.Errorf("the sign-in's event %s is not in ListSignIns", c.Event.ID)
}

// checkSignInNotStored reports if c's session or event is in the store.
func checkSignInNotStored(t *testing.T, s latchkey.Store, c *latchkey.PasskeySignIn) {
	t.Helper()
	_, err := s.FindSession(t.Context(), c.Session.ID, c.UsedAt)
	wantErr(t, "FindSession of a refused sign-in's session", err, latchkey.ErrNotFound)
	events, err := s.ListSignIns(t.Context(), "", 0)
	must(t, "ListSignIns", err)
	for _, e := range events {
		if e.ID == c.Event.ID {
			t.Errorf("the refused sign-in's event %s was stored", e.ID)
		}
	}
}

// countSignIns returns how many events the log holds.
func countSignIns(t *testing.T, s latchkey.Store) int {
	t.Helper()
	events, err := s.ListSignIns(t.Context(), "", 0)
	must(t, "ListSignIns", err)
	return len(events)
}

func testCompletePasskeySignIn(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 5
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	other := mustCreatePasskey(t, s, u.ID, t0)

	c := newPasskeySignIn(p, 6)
	c.Session.Methods = []string{latchkey.MethodPasskey}
	wantSession, wantEvent := *c.Session, *c.Event
	must(t, "CompletePasskeySignIn", s.CompletePasskeySignIn(ctx, c))
	unchanged(t, "CompletePasskeySignIn session argument", c.Session, &wantSession)
	unchanged(t, "CompletePasskeySignIn event argument", c.Event, &wantEvent)

	diff(t, "passkey after sign-in", findPasskey(t, s, p.ID), afterSignIn(p, c))
	diff(t, "other passkey untouched", findPasskey(t, s, other.ID), other)
	got, err := s.FindSession(ctx, c.Session.ID, c.UsedAt)
	must(t, "FindSession", err)
	diff(t, "FindSession", got, &wantSession)
	events, err := s.ListSignIns(ctx, "", 0)
	must(t, "ListSignIns", err)
	diff(t, "ListSignIns", events, []*latchkey.SignInEvent{&wantEvent})
}

func testCompletePasskeySignInAssigns(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := mustCreatePasskey(t, s, u.ID, t0)
	c := newPasskeySignIn(p, p.SignCount+1)
	c.Event.ID, c.Event.CreatedAt = "", time.Time{}
	before := time.Now()
	must(t, "CompletePasskeySignIn", s.CompletePasskeySignIn(t.Context(), c))
	after := time.Now()
	checkAssigned(t, "CompletePasskeySignIn event", c.Event.ID, c.Event.CreatedAt, before, after)
	checkSignInStored(t, s, c)
}

func testCompletePasskeySignInChallengeUsed(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 5
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	c := newPasskeySignIn(p, 6)
	must(t, "CompletePasskeySignIn", s.CompletePasskeySignIn(ctx, c))
	want := afterSignIn(p, c)

	// A replayed assertion: the same challenge and the same count. The challenge refuses
	// before the counter does.
	replay := newPasskeySignIn(p, 6)
	replay.ChallengeID = c.ChallengeID
	wantErr(t, "CompletePasskeySignIn replayed", s.CompletePasskeySignIn(ctx, replay), latchkey.ErrChallengeUsed)
	checkSignInNotStored(t, s, replay)

	// The same challenge with a count that would advance: the challenge alone refuses.
	again := newPasskeySignIn(p, 7)
	again.ChallengeID, again.UsedAt, again.Platform = c.ChallengeID, t0.Add(2*time.Hour), "Android"
	wantErr(t, "CompletePasskeySignIn same challenge", s.CompletePasskeySignIn(ctx, again), latchkey.ErrChallengeUsed)
	checkSignInNotStored(t, s, again)

	diff(t, "passkey after refused sign-ins", findPasskey(t, s, p.ID), want)
	checkSignInStored(t, s, c)
	if n := countSignIns(t, s); n != 1 {
		t.Errorf("%d events after one sign-in and two refused ones, want 1", n)
	}

	// Another challenge is fine.
	next := newPasskeySignIn(p, 7)
	must(t, "CompletePasskeySignIn new challenge", s.CompletePasskeySignIn(ctx, next))
	diff(t, "passkey after next sign-in", findPasskey(t, s, p.ID), afterSignIn(p, next))
}

func testCompletePasskeySignInCounterRefused(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 5
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))

	challenge := latchkey.NewID()
	for _, n := range []uint32{5, 3, 0} {
		c := newPasskeySignIn(p, n)
		c.ChallengeID = challenge
		wantErr(t, "CompletePasskeySignIn with a count not above 5", s.CompletePasskeySignIn(ctx, c), latchkey.ErrConflict)
		checkSignInNotStored(t, s, c)
		diff(t, "passkey after refused sign-in", findPasskey(t, s, p.ID), p)
	}
	if n := countSignIns(t, s); n != 0 {
		t.Errorf("%d events after refused sign-ins, want 0", n)
	}

	// The refusals did not record the challenge.
	c := newPasskeySignIn(p, 6)
	c.ChallengeID = challenge
	must(t, "CompletePasskeySignIn with the same challenge and a good count", s.CompletePasskeySignIn(ctx, c))
	diff(t, "passkey after sign-in", findPasskey(t, s, p.ID), afterSignIn(p, c))
	checkSignInStored(t, s, c)
}

func testCompletePasskeySignInZeroCounter(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 0
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))

	// Authenticators without a counter always send zero.
	for i := range 2 {
		c := newPasskeySignIn(p, 0)
		c.UsedAt = c.UsedAt.Add(time.Duration(i) * time.Minute)
		must(t, "CompletePasskeySignIn 0→0", s.CompletePasskeySignIn(ctx, c))
		diff(t, "passkey after 0→0", findPasskey(t, s, p.ID), afterSignIn(p, c))
		checkSignInStored(t, s, c)
	}
	c := newPasskeySignIn(p, 1)
	must(t, "CompletePasskeySignIn 0→1", s.CompletePasskeySignIn(ctx, c))
	back := newPasskeySignIn(p, 0)
	wantErr(t, "CompletePasskeySignIn 1→0", s.CompletePasskeySignIn(ctx, back), latchkey.ErrConflict)
	checkSignInNotStored(t, s, back)
	diff(t, "passkey after refused 1→0", findPasskey(t, s, p.ID), afterSignIn(p, c))
}

func testCompletePasskeySignInUnknownPasskey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := mustCreatePasskey(t, s, u.ID, t0)

	c := newPasskeySignIn(&latchkey.Passkey{ID: latchkey.NewID(), UserID: u.ID}, 1)
	wantErr(t, "CompletePasskeySignIn unknown passkey", s.CompletePasskeySignIn(ctx, c), latchkey.ErrNotFound)
	checkSignInNotStored(t, s, c)
	if n := countSignIns(t, s); n != 0 {
		t.Errorf("%d events after a refused sign-in, want 0", n)
	}
	diff(t, "existing passkey untouched", findPasskey(t, s, p.ID), p)

	// The refusal did not record the challenge.
	ok := newPasskeySignIn(p, p.SignCount+1)
	ok.ChallengeID = c.ChallengeID
	must(t, "CompletePasskeySignIn with the same challenge", s.CompletePasskeySignIn(ctx, ok))
	checkSignInStored(t, s, ok)
}

// testCompletePasskeySignInRollsBack makes the writes after the checks fail, and wants the
// challenge and the counter left as they were.
func testCompletePasskeySignInRollsBack(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 5
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	challenge := latchkey.NewID()
	existing := mustCreateSession(t, s, u.ID, t0.Add(24*time.Hour))
	logged := newSignIn(u.ID, t0)
	must(t, "RecordSignIn", s.RecordSignIn(ctx, logged))

	// A session for a user that does not exist.
	c := newPasskeySignIn(p, 6)
	c.ChallengeID, c.Session.UserID = challenge, latchkey.NewID()
	wantErr(t, "CompletePasskeySignIn session of an unknown user", s.CompletePasskeySignIn(ctx, c), latchkey.ErrNotFound)
	checkSignInNotStored(t, s, c)
	diff(t, "passkey after refused sign-in", findPasskey(t, s, p.ID), p)

	// A session ID that is taken.
	c = newPasskeySignIn(p, 6)
	c.ChallengeID, c.Session.ID = challenge, existing.ID
	wantErr(t, "CompletePasskeySignIn taken session ID", s.CompletePasskeySignIn(ctx, c), latchkey.ErrConflict)
	diff(t, "passkey after refused sign-in", findPasskey(t, s, p.ID), p)
	got, err := s.FindSession(ctx, existing.ID, t0)
	must(t, "FindSession existing", err)
	diff(t, "existing session untouched", got, existing)

	// An event ID that is taken.
	c = newPasskeySignIn(p, 6)
	c.ChallengeID, c.Event.ID = challenge, logged.ID
	wantErr(t, "CompletePasskeySignIn taken event ID", s.CompletePasskeySignIn(ctx, c), latchkey.ErrConflict)
	_, err = s.FindSession(ctx, c.Session.ID, c.UsedAt)
	wantErr(t, "FindSession of a refused sign-in's session", err, latchkey.ErrNotFound)
	diff(t, "passkey after refused sign-in", findPasskey(t, s, p.ID), p)

	if n := countSignIns(t, s); n != 1 {
		t.Errorf("%d events after refused sign-ins, want the 1 recorded before", n)
	}
	// None of them recorded the challenge.
	c = newPasskeySignIn(p, 6)
	c.ChallengeID = challenge
	must(t, "CompletePasskeySignIn with the same challenge", s.CompletePasskeySignIn(ctx, c))
	checkSignInStored(t, s, c)
}

func testDeleteExpiredUsedChallenges(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 0
	must(t, "CreatePasskey", s.CreatePasskey(ctx, p))
	signIn := func(expiresAt time.Time) *latchkey.PasskeySignIn {
		c := newPasskeySignIn(p, 0)
		c.ChallengeExpiresAt = expiresAt
		must(t, "CompletePasskeySignIn", s.CompletePasskeySignIn(ctx, c))
		return c
	}
	signIn(t0.Add(-time.Hour))
	signIn(t0.Add(-time.Millisecond))
	signIn(t0) // at now is expired
	live := signIn(t0.Add(time.Minute))
	mustCreateChallenge(t, s, t0.Add(-time.Second))
	pending := mustCreateChallenge(t, s, t0.Add(time.Minute))

	n, err := s.DeleteExpiredChallenges(ctx, t0)
	must(t, "DeleteExpiredChallenges", err)
	if n != 4 {
		t.Errorf("DeleteExpiredChallenges = %d, want 4 (3 used, 1 pending)", n)
	}
	n, err = s.DeleteExpiredChallenges(ctx, t0)
	must(t, "DeleteExpiredChallenges again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredChallenges again = %d, want 0", n)
	}

	// The live records stay.
	replay := newPasskeySignIn(p, 0)
	replay.ChallengeID = live.ChallengeID
	wantErr(t, "CompletePasskeySignIn with a used challenge not yet expired", s.CompletePasskeySignIn(ctx, replay), latchkey.ErrChallengeUsed)
	got, err := s.TakeChallenge(ctx, pending.ID, t0)
	must(t, "TakeChallenge live", err)
	diff(t, "live challenge kept", got, pending)
}
