package signin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// Guessing a pass, a password or an authenticator code is held back by counters in the store
// (shared by all nodes; DESIGN §5 "Rate limits"). Each attempt is counted BEFORE its secret is
// checked, by one atomic store operation that refuses it once the rule says so
// (Store.ReserveAttempt), so that however many arrive at once, no more are checked than the rule
// allows, and a refused one costs no hashing:
//
//   - per user name as typed (normalised) and address: 5 free wrong tries, then one per wait,
//     doubling from 1 s to 15 minutes, one forgotten every 10 minutes; the right secret resets
//     it. It is keyed on the name as typed, so an unknown name is counted exactly like a known
//     one, and nothing in the answers tells them apart.
//   - per address, over all names: 20 free, then the same waits, one forgotten every 10 minutes;
//     the right secret gives back its own attempt but resets nothing, or one valid pass would
//     let an attacker start over.
//   - per user, consecutive wrong tries from anywhere: at 100 the pass, password or app is
//     blocked until a new one is set (NIST SP 800-63B-4). It never makes anyone wait, so that
//     an attacker's guesses from their address do not lock the person out from theirs before.
//     A wrong guess at a blocked user is answered like any wrong guess; only the right secret
//     learns that it is blocked.

// MaxTAPFailures is how many consecutive wrong guesses disable a user's pass, password or app
// (NIST SP 800-63B-4 allows at most 100).
const MaxTAPFailures = 100

var (
	pairRule = latchkey.AttemptRule{Free: 5, MaxDelay: 15 * time.Minute, Drain: 10 * time.Minute}
	ipRule   = latchkey.AttemptRule{Free: 20, MaxDelay: 15 * time.Minute, Drain: 10 * time.Minute}
	userRule = latchkey.AttemptRule{Free: MaxTAPFailures, Limit: MaxTAPFailures}
)

func userThrottleKey(userID string) string { return "tap:user:" + userID }
func ipThrottleKey(ip string) string       { return "tap:ip:" + ip }

// guessed says, per method whose secret can be guessed, what its counters are called and what
// a throttled attempt tells the person: the refusal at the limit, and what to add to "wait,
// then try again".
type guessed struct {
	method  string
	pairKey func(name, ip string) string // name: the user name as typed, or the user id
	ipKey   func(ip string) string
	userKey func(userID string) string
	locked  func(failures int) error
	hint    string
}

var tapGuessed = guessed{method: latchkey.MethodTAP,
	pairKey: func(name, ip string) string { return "tap:name-ip:" + latchkey.NormalizeUPN(name) + "|" + ip },
	ipKey:   ipThrottleKey,
	userKey: userThrottleKey,
	locked: func(n int) error {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_locked",
			"This pass is blocked after too many wrong tries. Ask your IT admin for a new one.",
			"the pass reached %d consecutive wrong guesses; issuing a new pass resets it", n)
	},
	hint: " If you are unsure of your pass, ask your IT admin for a new one."}

// guess is one attempt at a guessable secret, counted before it is checked.
type guess struct {
	s       *Service
	g       guessed
	c       Client
	pairKey string
	ipKey   string
	user    *latchkey.User
	userKey string // set once the user's consecutive count holds this attempt
	locked  int    // the user's count when it had reached the limit: even the right secret fails
}

// reserveGuess counts an attempt by name from c against the pair and the address, or refuses
// it with 429 and Retry-After, before anything is looked up or hashed.
func (s *Service) reserveGuess(ctx context.Context, g guessed, name string, c Client) (*guess, error) {
	now := s.now()
	gs := &guess{s: s, g: g, c: c, pairKey: g.pairKey(name, c.IP), ipKey: g.ipKey(c.IP)}
	th, ok, err := s.Store.ReserveAttempt(ctx, gs.pairKey, now, pairRule)
	if err != nil {
		return nil, err
	}
	if !ok {
		err := tooMany(g, th, pairRule, now, "for this user name from address "+c.IP,
			fmt.Sprintf("user name %q from %s", name, c.IP))
		s.recordFailure(ctx, g.method, nil, nil, err, c)
		return nil, err
	}
	th, ok, err = s.Store.ReserveAttempt(ctx, gs.ipKey, now, ipRule)
	if err == nil && !ok {
		err = tooMany(g, th, ipRule, now, "from address "+c.IP+" over all user names",
			fmt.Sprintf("user name %q from %s", name, c.IP))
		s.recordFailure(ctx, g.method, nil, nil, err, c)
	}
	if err != nil {
		gs.release(ctx, gs.pairKey) // this attempt goes no further
		return nil, err
	}
	return gs, nil
}

// tooMany refuses an attempt that th's rule does not admit at now.
func tooMany(g guessed, th latchkey.Throttle, rule latchkey.AttemptRule, now time.Time, scope, reason string) error {
	_, next := rule.Admits(th, now)
	wait := max(time.Second, (next.Sub(now) + time.Second - 1).Truncate(time.Second)) // whole seconds, rounded up
	e := latchkey.Errorf(latchkey.ETOOMANYREQUEST, "too_many_attempts",
		fmt.Sprintf("Too many tries. Wait %s, then try again carefully.%s", waitText(wait), g.hint),
		"%d attempts counted %s; the next is allowed at %s", th.FailuresAt(now, rule.Drain), scope, now.Add(wait).Format(timeFormat))
	e.RetryAfter = wait
	e.Err = errors.New(reason)
	return e
}

// waitText says a wait in whole seconds, or whole minutes (rounded up) from a minute on.
func waitText(d time.Duration) string {
	secs := int(d / time.Second)
	if secs < 60 {
		return plural(secs, "second")
	}
	return plural((secs+59)/60, "minute")
}

// forUser counts the attempt against user's consecutive wrong tries too. At the limit the
// attempt still goes on, and is checked like any other (a wrong guess gets the same answer as
// anyone's); right then refuses it as blocked.
func (gs *guess) forUser(ctx context.Context, user *latchkey.User) error {
	gs.user = user
	key := gs.g.userKey(user.ID)
	th, ok, err := gs.s.Store.ReserveAttempt(ctx, key, gs.s.now(), userRule)
	if err != nil {
		return err
	}
	if ok {
		gs.userKey = key
	} else {
		gs.locked = th.Failures
	}
	return nil
}

// wrong records a wrong guess (wrong secret, no such user, nothing to guess): what was counted
// stays counted.
func (gs *guess) wrong(ctx context.Context, err error) {
	gs.s.recordFailure(ctx, gs.g.method, gs.user, nil, err, gs.c)
}

// right is called once the secret is right: the pair's count is reset and the address gets
// this attempt back. It returns the refusal when the user's count had reached the limit.
func (gs *guess) right(ctx context.Context) error {
	if err := gs.s.Store.ResetThrottle(ctx, gs.pairKey); err != nil {
		return err
	}
	gs.release(ctx, gs.ipKey)
	if gs.locked > 0 {
		err := gs.g.locked(gs.locked)
		gs.s.recordFailure(ctx, gs.g.method, gs.user, nil, err, gs.c)
		return err
	}
	return nil
}

// refused records a refusal that came after the right secret (an expired pass, a disabled
// account): not a wrong guess, so the user's count gets this attempt back.
func (gs *guess) refused(ctx context.Context, err error) {
	if gs.userKey != "" {
		gs.release(ctx, gs.userKey)
	}
	gs.s.recordFailure(ctx, gs.g.method, gs.user, nil, err, gs.c)
}

// succeeded resets the user's consecutive count after a sign-in went through.
func (gs *guess) succeeded(ctx context.Context) error {
	if gs.userKey == "" {
		return nil
	}
	return gs.s.Store.ResetThrottle(ctx, gs.userKey)
}

func (gs *guess) release(ctx context.Context, key string) {
	if err := gs.s.Store.ReleaseAttempt(ctx, key); err != nil {
		gs.s.logStoreError(ctx, "release throttle attempt", err)
	}
}
