package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/latchkey"
)

// MaxTAPFailures is how many consecutive wrong guesses disable a user's pass (NIST SP 800-63B-4
// allows at most 100).
const MaxTAPFailures = 100

// throttlePolicy says how long to wait after n failures, and when to stop.
type throttlePolicy struct {
	free     int           // failures allowed without delay
	maxDelay time.Duration // longest delay
	limit    int           // failures after which attempts stop (0: never)
	drain    time.Duration // one failure is forgotten per drain without one (0: only a success resets)
}

var (
	// Per user the count is of consecutive failures: only a success (or a new pass, password or
	// app) resets it, and at 100 the method stops (NIST SP 800-63B-4).
	userPolicy = throttlePolicy{free: 5, maxDelay: 15 * time.Minute, limit: MaxTAPFailures}
	// Per address the count drains, one failure every 10 minutes: an office behind one address
	// that mistypes a few passes an hour is never slowed down, while one address trying many
	// accounts is held, once past its free failures, to about one guess per drain (144 a day).
	// A success does not reset it: an attacker with one valid pass could otherwise keep going.
	ipPolicy = throttlePolicy{free: 20, maxDelay: 15 * time.Minute, drain: 10 * time.Minute}
)

// delay returns the wait after n consecutive failures: none for the first few, then doubling
// from one second up to maxDelay.
func (p throttlePolicy) delay(n int) time.Duration {
	if n < p.free {
		return 0
	}
	shift := n - p.free
	if shift > 20 {
		return p.maxDelay
	}
	d := time.Second << shift
	if d > p.maxDelay {
		d = p.maxDelay
	}
	return d
}

func userThrottleKey(userID string) string { return "tap:user:" + userID }
func ipThrottleKey(ip string) string       { return "tap:ip:" + ip }

// guessed says, per method whose secret can be guessed, what a throttled attempt tells the
// person: the refusal at the limit, and what to add to "wait, then try again".
type guessed struct {
	method string
	locked func(key string, failures int) error
	hint   string
}

var tapGuessed = guessed{method: latchkey.MethodTAP,
	locked: func(key string, n int) error {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "tap_locked",
			"This pass is blocked after too many wrong tries. Ask your IT admin for a new one.",
			"%s reached %d consecutive failures; issuing a new pass resets it", key, n)
	},
	hint: " If you are unsure of your pass, ask your IT admin for a new one."}

// checkThrottle refuses an attempt while key must wait, or once it reached the policy's limit.
func (s *Service) checkThrottle(ctx context.Context, key string, p throttlePolicy, g guessed) error {
	th, err := s.Store.FindThrottle(ctx, key)
	if err != nil {
		return err
	}
	now := s.now()
	n := th.FailuresAt(now, p.drain)
	if n == 0 {
		return nil
	}
	if p.limit > 0 && n >= p.limit {
		return g.locked(key, n)
	}
	if wait := th.LastFailureAt.Add(p.delay(n)).Sub(now); wait > 0 {
		secs := max(1, int(wait.Round(time.Second)/time.Second))
		return latchkey.Errorf(latchkey.ETOOMANYREQUEST, "too_many_attempts",
			fmt.Sprintf("Too many tries. Wait %s, then try again carefully.%s", plural(secs, "second"), g.hint),
			"%s has %d failures counted; next attempt allowed at %s", key, n, now.Add(wait).Format(timeFormat))
	}
	return nil
}

// failGuess counts a wrong guess at g's method against the address (when known) and the user
// (userKey "" for none), and records the attempt in the sign-in log.
func (s *Service) failGuess(ctx context.Context, g guessed, user *latchkey.User, ipKey, userKey string, err error, c Client) {
	now := s.now()
	if c.IP != "" {
		if _, e := s.Store.RecordFailure(ctx, ipKey, now, ipPolicy.drain); e != nil {
			s.logStoreError(ctx, "record throttle failure", e)
		}
	}
	if userKey != "" {
		if _, e := s.Store.RecordFailure(ctx, userKey, now, userPolicy.drain); e != nil {
			s.logStoreError(ctx, "record throttle failure", e)
		}
	}
	s.recordFailure(ctx, g.method, user, nil, err, c)
}
