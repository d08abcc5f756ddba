package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

var sessionTests = []test{
	{"CreateSession/RoundTrip", testCreateSession},
	{"FindSession/Expired", testFindSessionExpired},
	{"DeleteSession", testDeleteSession},
	{"DeleteExpiredSessions", testDeleteExpiredSessions},
	{"CreateSession/PassGone", testCreateSessionPassGone},
	{"Sessions/EndWith/ReplaceAccessPass", testReplaceAccessPassEndsSessions},
	{"Sessions/EndWith/DeleteAccessPass", testDeleteAccessPassEndsSessions},
	{"Sessions/EndWith/DeletePasskey", testDeletePasskeyEndsSessions},
	{"Sessions/EndWith/DeletePasskeyRefused", testDeletePasskeyRefusedKeepsSessions},
	{"Sessions/EndWith/FlagPasskeyPossibleClone", testFlagPasskeyEndsSessions},
	{"CompletePasskeySignIn/FlaggedPasskey", testCompleteSignInFlaggedPasskey},
	{"Sessions/EndWith/EndUserSessions", testEndUserSessions},
}

var challengeTests = []test{
	{"TakeChallenge", testTakeChallenge},
	{"TakeChallenge/Expired", testTakeChallengeExpired},
	{"DeleteExpiredChallenges", testDeleteExpiredChallenges},
}

func newSession(userID string, expiresAt time.Time) *latchkey.Session {
	return &latchkey.Session{
		ID:              latchkey.NewID(),
		UserID:          userID,
		Methods:         []string{latchkey.MethodPasskey},
		PasskeyID:       latchkey.NewID(),
		CreatedAt:       t0,
		AuthenticatedAt: t0.Add(time.Second),
		ExpiresAt:       expiresAt,
		IP:              "2001:db8::1",
		UserAgent:       "Mozilla/5.0 (X11; Linux x86_64)",
	}
}

func mustCreateSession(t *testing.T, s latchkey.Store, userID string, expiresAt time.Time) *latchkey.Session {
	t.Helper()
	sess := newSession(userID, expiresAt)
	must(t, "CreateSession", s.CreateSession(t.Context(), sess))
	return sess
}

func testCreateSession(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	sess := newSession(u.ID, t0.Add(8*time.Hour))
	sess.Methods = []string{latchkey.MethodTAP, latchkey.MethodPasskey}
	sess.AccessPassID = mustReplaceAccessPass(t, s, u.ID).ID
	want := *sess
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	unchanged(t, "CreateSession argument", sess, &want)
	got, err := s.FindSession(ctx, sess.ID, t0)
	must(t, "FindSession", err)
	diff(t, "FindSession", got, &want)

	// Optional fields empty.
	bare := &latchkey.Session{ID: latchkey.NewID(), UserID: u.ID, Methods: []string{latchkey.MethodTAP}, CreatedAt: t0, AuthenticatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	must(t, "CreateSession minimal", s.CreateSession(ctx, bare))
	got, err = s.FindSession(ctx, bare.ID, t0)
	must(t, "FindSession minimal", err)
	diff(t, "FindSession minimal", got, bare)

	_, err = s.FindSession(ctx, latchkey.NewID(), t0)
	wantErr(t, "FindSession unknown", err, latchkey.ErrNotFound)
}

func testFindSessionExpired(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	exp := t0.Add(time.Hour)
	sess := mustCreateSession(t, s, u.ID, exp)

	_, err := s.FindSession(ctx, sess.ID, exp.Add(-time.Microsecond))
	must(t, "FindSession a microsecond before expiry", err)
	_, err = s.FindSession(ctx, sess.ID, exp.Add(time.Millisecond))
	wantErr(t, "FindSession after expiry", err, latchkey.ErrNotFound)
	_, err = s.FindSession(ctx, sess.ID, exp.Add(24*time.Hour))
	wantErr(t, "FindSession a day after expiry", err, latchkey.ErrNotFound)
}

func testDeleteSession(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	a := mustCreateSession(t, s, u.ID, t0.Add(time.Hour))
	b := mustCreateSession(t, s, u.ID, t0.Add(time.Hour))
	must(t, "DeleteSession", s.DeleteSession(ctx, a.ID))
	_, err := s.FindSession(ctx, a.ID, t0)
	wantErr(t, "FindSession deleted", err, latchkey.ErrNotFound)
	got, err := s.FindSession(ctx, b.ID, t0)
	must(t, "FindSession other", err)
	diff(t, "other session untouched", got, b)
}

func testDeleteExpiredSessions(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	u := mustCreateUser(t, s, "alice@example.com")
	mustCreateSession(t, s, u.ID, t0.Add(-2*time.Hour))
	mustCreateSession(t, s, u.ID, t0.Add(-time.Minute))
	live := mustCreateSession(t, s, u.ID, t0.Add(time.Hour))

	n, err := s.DeleteExpiredSessions(ctx, t0)
	must(t, "DeleteExpiredSessions", err)
	if n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, want 2", n)
	}
	n, err = s.DeleteExpiredSessions(ctx, t0)
	must(t, "DeleteExpiredSessions again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredSessions again = %d, want 0", n)
	}
	got, err := s.FindSession(ctx, live.ID, t0)
	must(t, "FindSession live", err)
	diff(t, "live session kept", got, live)
}

func newChallenge(expiresAt time.Time) *latchkey.Challenge {
	return &latchkey.Challenge{
		ID:        latchkey.NewID(),
		Ceremony:  latchkey.CeremonyRegistration,
		UserID:    latchkey.NewID(),
		SessionID: latchkey.NewID(),
		Data:      []byte(`{"challenge":"x","user_id":"eQ","userVerification":"required"}`),
		ExpiresAt: expiresAt,
	}
}

func mustCreateChallenge(t *testing.T, s latchkey.Store, expiresAt time.Time) *latchkey.Challenge {
	t.Helper()
	c := newChallenge(expiresAt)
	must(t, "CreateChallenge", s.CreateChallenge(t.Context(), c))
	return c
}

func testTakeChallenge(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateChallenge(t, s, t0.Add(5*time.Minute))
	// Usernameless sign-in: no user, no session.
	d := &latchkey.Challenge{ID: latchkey.NewID(), Ceremony: latchkey.CeremonyAuthentication, Data: []byte(`{}`), ExpiresAt: t0.Add(5 * time.Minute)}
	must(t, "CreateChallenge usernameless", s.CreateChallenge(ctx, d))

	got, err := s.TakeChallenge(ctx, c.ID, t0)
	must(t, "TakeChallenge", err)
	diff(t, "TakeChallenge", got, c)
	_, err = s.TakeChallenge(ctx, c.ID, t0)
	wantErr(t, "TakeChallenge again", err, latchkey.ErrNotFound)

	got, err = s.TakeChallenge(ctx, d.ID, t0)
	must(t, "TakeChallenge usernameless", err)
	diff(t, "TakeChallenge usernameless", got, d)

	_, err = s.TakeChallenge(ctx, latchkey.NewID(), t0)
	wantErr(t, "TakeChallenge unknown", err, latchkey.ErrNotFound)
}

func testTakeChallengeExpired(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	c := mustCreateChallenge(t, s, t0)
	_, err := s.TakeChallenge(ctx, c.ID, t0.Add(time.Millisecond))
	wantErr(t, "TakeChallenge expired", err, latchkey.ErrNotFound)
	// Refused again later, whether or not the first attempt removed it.
	_, err = s.TakeChallenge(ctx, c.ID, t0.Add(time.Hour))
	wantErr(t, "TakeChallenge expired again", err, latchkey.ErrNotFound)
}

func testDeleteExpiredChallenges(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	mustCreateChallenge(t, s, t0.Add(-time.Hour))
	mustCreateChallenge(t, s, t0.Add(-time.Second))
	mustCreateChallenge(t, s, t0.Add(-time.Millisecond))
	live := mustCreateChallenge(t, s, t0.Add(time.Minute))

	n, err := s.DeleteExpiredChallenges(ctx, t0)
	must(t, "DeleteExpiredChallenges", err)
	if n != 3 {
		t.Errorf("DeleteExpiredChallenges = %d, want 3", n)
	}
	n, err = s.DeleteExpiredChallenges(ctx, t0)
	must(t, "DeleteExpiredChallenges again", err)
	if n != 0 {
		t.Errorf("DeleteExpiredChallenges again = %d, want 0", n)
	}
	got, err := s.TakeChallenge(ctx, live.ID, t0)
	must(t, "TakeChallenge live", err)
	diff(t, "live challenge kept", got, live)
}
