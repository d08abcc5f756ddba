package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// A session lasts no longer than the credential it was made with (latchkey.SessionStore):
// replacing or deleting a pass, and deleting or flagging a passkey, ends the sessions made with
// it in the same transaction, and only those.

// sessionsOf are three of a user's sessions: one made with passkey p, one with another passkey
// q, and one with pass a; and one of another user made with their own pass.
type sessionsOf struct {
	withP, withQ, withPass, others *latchkey.Session
}

func credentialSessions(t *testing.T, s latchkey.Store, alice, bob *latchkey.User, p, q *latchkey.Passkey, a, b *latchkey.AccessPass) sessionsOf {
	t.Helper()
	mk := func(userID string, fill func(*latchkey.Session)) *latchkey.Session {
		sess := newSession(userID, t0.Add(8*time.Hour))
		sess.PasskeyID = ""
		fill(sess)
		must(t, "CreateSession", s.CreateSession(t.Context(), sess))
		return sess
	}
	return sessionsOf{
		withP:    mk(alice.ID, func(s *latchkey.Session) { s.PasskeyID = p.ID }),
		withQ:    mk(alice.ID, func(s *latchkey.Session) { s.PasskeyID = q.ID }),
		withPass: mk(alice.ID, func(s *latchkey.Session) { s.AccessPassID, s.Methods = a.ID, []string{latchkey.MethodTAP} }),
		others:   mk(bob.ID, func(s *latchkey.Session) { s.AccessPassID, s.Methods = b.ID, []string{latchkey.MethodTAP} }),
	}
}

// revocationFixture creates alice with passkeys p and q and a pass, bob with a pass, and their
// sessions.
func revocationFixture(t *testing.T, s latchkey.Store) (alice *latchkey.User, p, q *latchkey.Passkey, ss sessionsOf) {
	t.Helper()
	alice, bob := mustCreateUser(t, s, "alice@example.com"), mustCreateUser(t, s, "bob@example.com")
	p, q = mustCreatePasskey(t, s, alice.ID, t0), mustCreatePasskey(t, s, alice.ID, t0.Add(time.Minute))
	a, b := mustReplaceAccessPass(t, s, alice.ID), mustReplaceAccessPass(t, s, bob.ID)
	return alice, p, q, credentialSessions(t, s, alice, bob, p, q, a, b)
}

// checkSessions reports each session that is live but should be gone, or gone but should live.
func checkSessions(t *testing.T, s latchkey.Store, what string, live, gone []*latchkey.Session) {
	t.Helper()
	for _, sess := range live {
		_, err := s.FindSession(t.Context(), sess.ID, t0)
		must(t, what+": FindSession of a session that must live on", err)
	}
	for _, sess := range gone {
		_, err := s.FindSession(t.Context(), sess.ID, t0)
		wantErr(t, what+": FindSession of a session made with the revoked credential", err, latchkey.ErrNotFound)
	}
}

func testReplaceAccessPassEndsSessions(t *testing.T, s latchkey.Store) {
	alice, _, _, ss := revocationFixture(t, s)
	must(t, "ReplaceAccessPass", s.ReplaceAccessPass(t.Context(), newAccessPass(alice.ID)))
	checkSessions(t, s, "after ReplaceAccessPass", []*latchkey.Session{ss.withP, ss.withQ, ss.others}, []*latchkey.Session{ss.withPass})
}

func testDeleteAccessPassEndsSessions(t *testing.T, s latchkey.Store) {
	alice, _, _, ss := revocationFixture(t, s)
	must(t, "DeleteAccessPass", s.DeleteAccessPass(t.Context(), alice.ID))
	checkSessions(t, s, "after DeleteAccessPass", []*latchkey.Session{ss.withP, ss.withQ, ss.others}, []*latchkey.Session{ss.withPass})
}

func testDeletePasskeyEndsSessions(t *testing.T, s latchkey.Store) {
	alice, p, _, ss := revocationFixture(t, s)
	must(t, "DeletePasskey", s.DeletePasskey(t.Context(), alice.ID, p.ID))
	checkSessions(t, s, "after DeletePasskey", []*latchkey.Session{ss.withQ, ss.withPass, ss.others}, []*latchkey.Session{ss.withP})
}

func testDeletePasskeyRefusedKeepsSessions(t *testing.T, s latchkey.Store) {
	_, p, _, ss := revocationFixture(t, s)
	mallory := mustCreateUser(t, s, "mallory@example.com")
	wantErr(t, "DeletePasskey by another user", s.DeletePasskey(t.Context(), mallory.ID, p.ID), latchkey.ErrNotFound)
	checkSessions(t, s, "after a refused DeletePasskey", []*latchkey.Session{ss.withP, ss.withQ, ss.withPass, ss.others}, nil)
}

func testFlagPasskeyEndsSessions(t *testing.T, s latchkey.Store) {
	_, p, _, ss := revocationFixture(t, s)
	must(t, "FlagPasskeyPossibleClone", s.FlagPasskeyPossibleClone(t.Context(), p.ID))
	checkSessions(t, s, "after FlagPasskeyPossibleClone", []*latchkey.Session{ss.withQ, ss.withPass, ss.others}, []*latchkey.Session{ss.withP})
}

// testCreateSessionPassGone: a session of a pass that was replaced meanwhile is not stored.
func testCreateSessionPassGone(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	old := mustReplaceAccessPass(t, s, alice.ID)
	mustReplaceAccessPass(t, s, alice.ID)
	sess := newSession(alice.ID, t0.Add(time.Hour))
	sess.PasskeyID, sess.AccessPassID = "", old.ID
	wantErr(t, "CreateSession with a replaced pass", s.CreateSession(ctx, sess), latchkey.ErrNotFound)
	_, err := s.FindSession(ctx, sess.ID, t0)
	wantErr(t, "FindSession of the refused session", err, latchkey.ErrNotFound)
}

// testCompleteSignInFlaggedPasskey: a flagged passkey signs in no more, even when the sign-in
// read the passkey before the flag.
func testCompleteSignInFlaggedPasskey(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice@example.com")
	p := mustCreatePasskey(t, s, alice.ID, t0)
	must(t, "FlagPasskeyPossibleClone", s.FlagPasskeyPossibleClone(ctx, p.ID))
	c := newPasskeySignIn(p, p.SignCount+1)
	wantErr(t, "CompletePasskeySignIn with a flagged passkey", s.CompletePasskeySignIn(ctx, c), latchkey.ErrConflict)
	_, err := s.FindSession(ctx, c.Session.ID, t0)
	wantErr(t, "FindSession of the refused sign-in", err, latchkey.ErrNotFound)
}

// testRaceTAPSessionsWithReplace stores sessions made with a pass from many goroutines while
// one more replaces the pass: every CreateSession either fails with ErrNotFound or stores a
// session that the replacement ends, so none made with the old pass is left.
func testRaceTAPSessionsWithReplace(t *testing.T, s latchkey.Store) {
	alice := mustCreateUser(t, s, "alice@example.com")
	old := mustReplaceAccessPass(t, s, alice.ID)
	sessions := make([]*latchkey.Session, racers)
	for i := range sessions {
		sessions[i] = newSession(alice.ID, t0.Add(time.Hour))
		sessions[i].PasskeyID, sessions[i].AccessPassID = "", old.ID
	}
	replacer := racers / 2
	errs := race(func(i int) error {
		if i == replacer {
			return s.ReplaceAccessPass(t.Context(), newAccessPass(alice.ID))
		}
		return s.CreateSession(t.Context(), sessions[i])
	})
	for i, err := range errs {
		if err != nil && (i == replacer || !errors.Is(err, latchkey.ErrNotFound)) {
			t.Errorf("goroutine %d: err = %v, want nil or (CreateSession) ErrNotFound", i, err)
		}
	}
	checkSessions(t, s, "after the race", nil, sessions)
}

// testEndUserSessions: signing a person out everywhere ends every session and refresh token of
// theirs, and nobody else's.
func testEndUserSessions(t *testing.T, s latchkey.Store) {
	ctx := t.Context()
	alice, _, _, ss := revocationFixture(t, s)
	wiki := mustCreateClient(t, s, "Wiki")
	a1 := mustCreateRefreshToken(t, s, wiki.ID, alice.ID, t0.Add(time.Hour))
	b1 := mustCreateRefreshToken(t, s, wiki.ID, ss.others.UserID, t0.Add(time.Hour))
	sessions, tokens, err := s.EndUserSessions(ctx, alice.ID)
	must(t, "EndUserSessions", err)
	if sessions != 3 || tokens != 1 {
		t.Errorf("EndUserSessions = %d sessions, %d refresh tokens; want 3, 1", sessions, tokens)
	}
	checkSessions(t, s, "after EndUserSessions", []*latchkey.Session{ss.others}, []*latchkey.Session{ss.withP, ss.withQ, ss.withPass})
	_, err = s.FindRefreshToken(ctx, a1.ID, t0)
	wantErr(t, "FindRefreshToken of the person signed out", err, latchkey.ErrNotFound)
	diff(t, "another person's refresh token", findRefreshToken(t, s, b1.ID), b1)
}
