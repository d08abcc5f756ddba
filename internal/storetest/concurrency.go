package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// racers is how many goroutines each race releases at once.
const racers = 20

var concurrencyTests = []test{
	{"MarkAccessPassUsed", testRaceMarkAccessPassUsed},
	{"TakeChallenge", testRaceTakeChallenge},
	{"PasskeyUse", testRacePasskeyUse},
	{"ReserveAttempt/Unlimited", testRaceCountAttempt},
	{"ReserveAttempt", testRaceReserveAttempt},
	{"ReserveAttempt/Limit", testRaceReserveAttemptLimit},
	{"CreateUser", testRaceCreateUser},
	{"ReplaceAccessPass", testRaceReplaceAccessPass},
	{"ReplaceAccessPass/WithSessions", testRaceTAPSessionsWithReplace},
	{"SignInPath", testRaceSignInPath},
	{"CompletePasskeySignIn/SameChallenge", testRaceCompleteSignInSameChallenge},
	{"CompletePasskeySignIn/SameCount", testRaceCompleteSignInSameCount},
	{"RedeemAuthCode", testRaceRedeemAuthCode},
	{"RevokeSpentGrant", testRaceRevokeSpentGrant},
	{"RotateRefreshToken", testRaceRotateRefreshToken},
}

// race runs f in racers goroutines, released together, and returns their errors by index.
func race(f func(i int) error) []error {
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// checkOneWinner reports unless exactly one error is nil and all the others are loser.
func checkOneWinner(t *testing.T, what string, errs []error, loser error) (winner int) {
	t.Helper()
	winner = -1
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s: goroutine %d: err = %v, want nil or %v", what, i, err, loser)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d goroutines won, want exactly 1", what, wins, len(errs))
	}
	return winner
}

func testRaceMarkAccessPassUsed(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := mustReplaceAccessPass(t, s, u.ID)
	errs := race(func(i int) error {
		return s.MarkAccessPassUsed(t.Context(), p.ID, t0.Add(time.Duration(i)*time.Second))
	})
	winner := checkOneWinner(t, "MarkAccessPassUsed", errs, latchkey.ErrConflict)
	got := findAccessPass(t, s, u.ID)
	if winner >= 0 {
		at := t0.Add(time.Duration(winner) * time.Second)
		want := *p
		want.UsedAt = &at
		diff(t, "pass after race", got, &want)
	}
}

func testRaceTakeChallenge(t *testing.T, s latchkey.Store) {
	c := mustCreateChallenge(t, s, t0.Add(time.Minute))
	got := make([]*latchkey.Challenge, racers)
	errs := race(func(i int) error {
		var err error
		got[i], err = s.TakeChallenge(t.Context(), c.ID, t0)
		return err
	})
	if winner := checkOneWinner(t, "TakeChallenge", errs, latchkey.ErrNotFound); winner >= 0 {
		diff(t, "challenge won", got[winner], c)
	}
}

func testRacePasskeyUse(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 41
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	errs := race(func(i int) error {
		return recordUse(t.Context(), s, p, 42, t0.Add(time.Duration(i)*time.Second), fmt.Sprint("platform ", i))
	})
	winner := checkOneWinner(t, "recordUse", errs, latchkey.ErrConflict)
	if winner >= 0 {
		at := t0.Add(time.Duration(winner) * time.Second)
		want := *p
		want.SignCount, want.LastUsedAt, want.LastUsedPlatform = 42, &at, fmt.Sprint("platform ", winner)
		diff(t, "passkey after race", findPasskey(t, s, p.ID), &want)
	}
}

// raceReserve has racers goroutines reserve an attempt against key at once, under rule, and
// checks that exactly admit of them were admitted, with the counts 1..admit, and that the
// store kept admit (starting from an empty key).
func raceReserve(t *testing.T, s latchkey.Store, key string, rule latchkey.AttemptRule, admit int) {
	t.Helper()
	counts := make([]int, racers)
	admitted := make([]bool, racers)
	errs := race(func(i int) error {
		th, ok, err := s.ReserveAttempt(t.Context(), key, t0, rule)
		counts[i], admitted[i] = th.Failures, ok
		return err
	})
	var got []int
	for i, err := range errs {
		if err != nil {
			t.Errorf("ReserveAttempt: goroutine %d: %v", i, err)
		}
		if admitted[i] {
			got = append(got, counts[i])
		}
	}
	slices.Sort(got)
	want := make([]int, admit)
	for i := range want {
		want[i] = i + 1
	}
	diff(t, fmt.Sprintf("counts of the admitted attempts (%d of %d racers)", len(got), racers), got, want)
	th, err := s.FindThrottle(t.Context(), key)
	must(t, "FindThrottle", err)
	if th.Failures != admit {
		t.Errorf("FindThrottle after race: Failures = %d, want %d", th.Failures, admit)
	}
}

// testRaceReserveAttempt: 20 guesses at once for one user name from one address, 5 free: 5
// go ahead, the others are refused, not merely counted.
func testRaceReserveAttempt(t *testing.T, s latchkey.Store) {
	raceReserve(t, s, "tap:name-ip:alice@example.com|203.0.113.9",
		latchkey.AttemptRule{Free: 5, MaxDelay: 15 * time.Minute, Drain: 10 * time.Minute}, 5)
}

// testRaceReserveAttemptLimit: near the limit, only the attempts left go ahead.
func testRaceReserveAttemptLimit(t *testing.T, s latchkey.Store) {
	raceReserve(t, s, "tap:user:race", latchkey.AttemptRule{Free: 7, Limit: 7}, 7)
}

func testRaceCountAttempt(t *testing.T, s latchkey.Store) {
	const key = "tap:user:race"
	counts := make([]int, racers)
	errs := race(func(i int) error {
		th, err := countAttempt(t.Context(), s, key, t0, time.Minute)
		counts[i] = th.Failures
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("countAttempt: goroutine %d: %v", i, err)
		}
	}
	// Each caller saw a different count: no two increments were merged.
	slices.Sort(counts)
	want := make([]int, racers)
	for i := range want {
		want[i] = i + 1
	}
	diff(t, "counts returned by ReserveAttempt", counts, want)
	got, err := s.FindThrottle(t.Context(), key)
	must(t, "FindThrottle", err)
	if got.Failures != racers {
		t.Errorf("FindThrottle after race: Failures = %d, want %d", got.Failures, racers)
	}
}

func testRaceCreateUser(t *testing.T, s latchkey.Store) {
	errs := race(func(i int) error {
		// Each goroutine spells the UPN with a different mix of cases.
		var b strings.Builder
		for j, r := range "racer@example.com" {
			if i>>(j%5)&1 == 1 {
				r = []rune(strings.ToUpper(string(r)))[0]
			}
			b.WriteRune(r)
		}
		return s.CreateUser(t.Context(), newUser(b.String()))
	})
	checkOneWinner(t, "CreateUser", errs, latchkey.ErrConflict)
	n, err := s.CountUsers(t.Context())
	must(t, "CountUsers", err)
	if n != 1 {
		t.Errorf("CountUsers after race = %d, want 1", n)
	}
}

// testRaceReplaceAccessPass replaces one user's pass from many goroutines: every call succeeds
// and exactly one of their passes remains.
func testRaceReplaceAccessPass(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	passes := make([]*latchkey.AccessPass, racers)
	for i := range passes {
		passes[i] = newAccessPass(u.ID)
	}
	errs := race(func(i int) error { return s.ReplaceAccessPass(t.Context(), passes[i]) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("ReplaceAccessPass: goroutine %d: %v", i, err)
		}
	}
	got := findAccessPass(t, s, u.ID)
	i := slices.IndexFunc(passes, func(p *latchkey.AccessPass) bool { return p.ID == got.ID })
	if i < 0 {
		t.Fatalf("FindAccessPassByUser = pass %s, which no goroutine stored", got.ID)
	}
	diff(t, "remaining pass", got, passes[i])
}

// testRaceSignInPath mixes the reads and writes of a passkey sign-in from many clients at once,
// each with its own passkey, and wants no error at all: a store must not refuse work because
// another writer holds a lock.
func testRaceSignInPath(t *testing.T, s latchkey.Store) {
	const rounds = 5
	users := make([]*latchkey.User, racers)
	keys := make([]*latchkey.Passkey, racers)
	for i := range racers {
		users[i] = mustCreateUser(t, s, fmt.Sprintf("user%02d@example.com", i))
		keys[i] = mustCreatePasskey(t, s, users[i].ID, t0)
	}
	errs := race(func(i int) error {
		ctx := t.Context()
		for r := range rounds {
			now := t0.Add(time.Duration(r+1) * time.Minute)
			c := newChallenge(now.Add(time.Minute))
			if err := s.CreateChallenge(ctx, c); err != nil {
				return fmt.Errorf("CreateChallenge: %w", err)
			}
			if _, err := s.TakeChallenge(ctx, c.ID, now); err != nil {
				return fmt.Errorf("TakeChallenge: %w", err)
			}
			subject, err := s.FindPasskeyForSignIn(ctx, keys[i].CredentialID)
			if err != nil {
				return fmt.Errorf("FindPasskeyForSignIn: %w", err)
			}
			p := subject.Passkey
			sess := newSession(p.UserID, now.Add(time.Hour))
			if err := s.CompletePasskeySignIn(ctx, &latchkey.PasskeySignIn{ChallengeID: c.ID, ChallengeExpiresAt: c.ExpiresAt,
				PasskeyID: p.ID, SignCount: p.SignCount + 1, UsedAt: now, Platform: "Linux",
				Session: sess, Event: newSignIn(p.UserID, now)}); err != nil {
				return fmt.Errorf("CompletePasskeySignIn: %w", err)
			}
			if _, err := s.FindSession(ctx, sess.ID, now); err != nil {
				return fmt.Errorf("FindSession: %w", err)
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("sign-in client %d: %v", i, err)
		}
	}
	for i, k := range keys {
		if got := findPasskey(t, s, k.ID).SignCount; got != k.SignCount+rounds {
			t.Errorf("passkey %d: SignCount = %d, want %d", i, got, k.SignCount+rounds)
		}
	}
	events, err := s.ListSignIns(t.Context(), "", 1000)
	must(t, "ListSignIns", err)
	if len(events) != racers*rounds {
		t.Errorf("ListSignIns returned %d events, want %d", len(events), racers*rounds)
	}
}

// checkOneSignInStored reports unless, of the racing sign-ins, exactly the winner's session and
// event are in the store.
func checkOneSignInStored(t *testing.T, s latchkey.Store, attempts []*latchkey.PasskeySignIn, winner int) {
	t.Helper()
	for i, c := range attempts {
		_, err := s.FindSession(t.Context(), c.Session.ID, c.UsedAt)
		switch {
		case i == winner && err != nil:
			t.Errorf("FindSession of the winner's session: %v", err)
		case i != winner && !errors.Is(err, latchkey.ErrNotFound):
			t.Errorf("FindSession of loser %d's session: err = %v, want %v", i, err, latchkey.ErrNotFound)
		}
	}
	events, err := s.ListSignIns(t.Context(), attempts[0].Event.UserID, 0)
	must(t, "ListSignIns", err)
	if len(events) != 1 {
		t.Errorf("ListSignIns returned %d events of the racing user after the race, want 1", len(events))
	} else if winner >= 0 {
		diff(t, "event after the race", events[0], attempts[winner].Event)
	}
}

// warmUpSignIns completes a sign-in from each of racers goroutines at once, for another user,
// so that a store's connections and prepared statements exist before the race that follows:
// otherwise the first caller may finish while the others still connect, and nothing races.
func warmUpSignIns(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "warm-up@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 0
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	errs := race(func(int) error { return s.CompletePasskeySignIn(t.Context(), newPasskeySignIn(p, 0)) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("warm-up CompletePasskeySignIn %d: %v", i, err)
		}
	}
}

// testRaceCompleteSignInSameChallenge answers one challenge from many goroutines with a passkey
// whose counter would let each of them through: the challenge alone decides.
func testRaceCompleteSignInSameChallenge(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 0
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	warmUpSignIns(t, s)
	challenge := latchkey.NewID()
	attempts := make([]*latchkey.PasskeySignIn, racers)
	for i := range attempts {
		attempts[i] = newPasskeySignIn(p, 0)
		attempts[i].ChallengeID = challenge
		attempts[i].Platform = fmt.Sprint("platform ", i)
	}
	errs := race(func(i int) error { return s.CompletePasskeySignIn(t.Context(), attempts[i]) })
	winner := checkOneWinner(t, "CompletePasskeySignIn", errs, latchkey.ErrChallengeUsed)
	checkOneSignInStored(t, s, attempts, winner)
	if winner >= 0 {
		diff(t, "passkey after race", findPasskey(t, s, p.ID), afterSignIn(p, attempts[winner]))
	}
}

// testRaceCompleteSignInSameCount answers distinct challenges from many goroutines with one
// passkey and one new count: the counter decides, and the losers' challenges stay unused.
func testRaceCompleteSignInSameCount(t *testing.T, s latchkey.Store) {
	u := mustCreateUser(t, s, "alice@example.com")
	p := newPasskey(u.ID, t0)
	p.SignCount = 41
	must(t, "CreatePasskey", s.CreatePasskey(t.Context(), p))
	warmUpSignIns(t, s)
	attempts := make([]*latchkey.PasskeySignIn, racers)
	for i := range attempts {
		attempts[i] = newPasskeySignIn(p, 42)
		attempts[i].Platform = fmt.Sprint("platform ", i)
	}
	errs := race(func(i int) error { return s.CompletePasskeySignIn(t.Context(), attempts[i]) })
	winner := checkOneWinner(t, "CompletePasskeySignIn", errs, latchkey.ErrConflict)
	checkOneSignInStored(t, s, attempts, winner)
	if winner < 0 {
		return
	}
	diff(t, "passkey after race", findPasskey(t, s, p.ID), afterSignIn(p, attempts[winner]))

	// Every loser's challenge can still be answered.
	count := uint32(42)
	for i, c := range attempts {
		if i == winner {
			continue
		}
		count++
		retry := newPasskeySignIn(p, count)
		retry.ChallengeID = c.ChallengeID
		if err := s.CompletePasskeySignIn(t.Context(), retry); err != nil {
			t.Errorf("CompletePasskeySignIn with loser %d's challenge: %v", i, err)
		}
	}
}
